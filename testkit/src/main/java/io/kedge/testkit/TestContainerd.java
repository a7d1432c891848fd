package io.kedge.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A containerd of the test's own: Debian's containerd + runc (installed by {@code
 * scripts/install-packages.sh}), root, state and socket under a temporary directory, the edge image
 * from {@code scripts/build-edge-image.sh} imported as pod and sandbox image. {@link #close()}
 * stops it and the shims it started.
 */
public final class TestContainerd implements AutoCloseable {
  public static final String IMAGE = "localhost/kedge/edge-tools:1";

  private final Path dir;
  private final Path socket;
  private final Process process;

  private TestContainerd(Path dir, Process process) {
    this.dir = dir;
    this.socket = dir.resolve("containerd.sock");
    this.process = process;
  }

  private static Path kedgeHome() {
    return Path.of(System.getProperty("kedge.home", "..")).toAbsolutePath().normalize();
  }

  /** Starts containerd with everything under {@code dir} and imports the edge image. */
  public static TestContainerd start(Path dir) throws Exception {
    Path home = kedgeHome();
    run(
        List.of(
            home.resolve("scripts/install-packages.sh").toString(),
            "containerd",
            "runc",
            "busybox-static"));
    Path image = edgeImage();
    if (!Files.exists(image)) {
      run(List.of(home.resolve("scripts/build-edge-image.sh").toString(), image.toString(), IMAGE));
    }
    Files.createDirectories(dir.resolve("cni/bin"));
    Files.createDirectories(dir.resolve("cni/conf"));
    String config =
        """
        version = 2
        root = "%1$s/root"
        state = "%1$s/state"
        [grpc]
          address = "%1$s/containerd.sock"
        [ttrpc]
          address = "%1$s/containerd.sock.ttrpc"
        [metrics]
          address = ""
        [plugins."io.containerd.grpc.v1.cri"]
          sandbox_image = "%2$s"
          restrict_oom_score_adj = true
          [plugins."io.containerd.grpc.v1.cri".cni]
            bin_dir = "%1$s/cni/bin"
            conf_dir = "%1$s/cni/conf"
        """
            .formatted(dir, IMAGE);
    Files.writeString(dir.resolve("config.toml"), config);
    Process p =
        new ProcessBuilder("containerd", "--config", dir.resolve("config.toml").toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("containerd.log").toFile())
            .start();
    TestContainerd c = new TestContainerd(dir, p);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.exists(c.socket) && System.nanoTime() < deadline && p.isAlive()) {
      Thread.sleep(50);
    }
    if (!Files.exists(c.socket)) {
      c.close();
      throw new IllegalStateException(
          "containerd did not start; see " + dir.resolve("containerd.log"));
    }
    c.importImage(image);
    return c;
  }

  /** The edge image's OCI image-layout tarball ({@code scripts/build-edge-image.sh}). */
  public static Path edgeImage() {
    return Path.of(System.getProperty("user.home"), ".cache/kedge/images/edge-tools.tar");
  }

  /** {@code ctr -n k8s.io images import}: an OCI image-layout tarball, as the CRI sees images. */
  public void importImage(Path tarball) throws IOException, InterruptedException {
    run(
        List.of(
            "ctr",
            "-a",
            socket.toString(),
            "-n",
            "k8s.io",
            "images",
            "import",
            tarball.toString()));
  }

  /** The CRI endpoint, as {@code modules.edged.containerRuntimeEndpoint} takes it. */
  public String endpoint() {
    return "unix://" + socket;
  }

  /** Root, state, socket and log of this containerd. */
  public Path dir() {
    return dir;
  }

  private static void run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(cmd + " failed");
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // Shims of this containerd (they name its socket) outlive it when containers are left.
    ProcessHandle.allProcesses()
        .filter(h -> h.info().commandLine().orElse("").contains(socket.toString()))
        .forEach(ProcessHandle::destroyForcibly);
    // Sandboxes left running keep their rootfs and shm mounted under the state directory.
    try {
      List<String> mounts =
          Files.readAllLines(Path.of("/proc/self/mounts")).stream()
              .map(l -> l.split(" ")[1])
              .filter(m -> m.startsWith(dir + "/"))
              .sorted(java.util.Comparator.reverseOrder())
              .toList();
      for (String m : mounts) {
        new ProcessBuilder("umount", "-l", m).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
      }
    } catch (IOException e) {
      // nothing mounted to look at
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
