package io.kedge.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A containerd of the test's own: Debian's containerd + runc (installed by {@code
 * scripts/install-packages.sh}), root, state and socket under a temporary directory, the edge image
 * from {@code scripts/build-edge-image.sh} imported as pod and sandbox image. Optionally in a
 * network namespace of the test's ({@link Options#commandPrefix}) with a CNI bridge network for
 * pods ({@link Options#podSubnet}, Debian's containernetworking-plugins), and plain-HTTP registries
 * it may pull from ({@link #trustPlainHttp}). {@link #close()} stops it and the shims it started.
 */
public final class TestContainerd implements AutoCloseable {
  public static final String IMAGE = "localhost/kedge/edge-tools:1";

  private final Path dir;
  private final Path socket;
  private final Process process;

  /**
   * How to run it.
   *
   * @param commandPrefix put before containerd's command (e.g. {@link NetworkNamespace#prefix()})
   * @param podSubnet when set, a CNI bridge network ({@link #BRIDGE}) hands pods addresses from it
   */
  public record Options(
      java.util.List<String> commandPrefix, java.util.Optional<String> podSubnet) {
    public static Options defaults() {
      return new Options(List.of(), java.util.Optional.empty());
    }
  }

  /** The bridge the CNI network puts pods on. */
  public static final String BRIDGE = "kedge0";

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
    return start(dir, Options.defaults());
  }

  /** As {@link #start(Path)}, run as {@code options} say. */
  public static TestContainerd start(Path dir, Options options) throws Exception {
    Path home = kedgeHome();
    List<String> packages =
        new java.util.ArrayList<>(List.of("containerd", "runc", "busybox-static"));
    if (options.podSubnet().isPresent()) {
      packages.addAll(List.of("containernetworking-plugins", "iptables"));
    }
    List<String> install = new java.util.ArrayList<>();
    install.add(home.resolve("scripts/install-packages.sh").toString());
    install.addAll(packages);
    run(install);
    Path image = edgeImage();
    if (!Files.exists(image)) {
      run(List.of(home.resolve("scripts/build-edge-image.sh").toString(), image.toString(), IMAGE));
    }
    Files.createDirectories(dir.resolve("cni/bin"));
    Files.createDirectories(dir.resolve("cni/conf"));
    Files.createDirectories(dir.resolve("certs.d"));
    String cniBin = dir.resolve("cni/bin").toString();
    if (options.podSubnet().isPresent()) {
      cniBin = "/usr/lib/cni";
      Files.writeString(
          dir.resolve("cni/conf/10-kedge.conflist"),
          bridgeNetwork(options.podSubnet().get(), dir.resolve("cni/ipam")));
    }
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
            bin_dir = "%3$s"
            conf_dir = "%1$s/cni/conf"
          [plugins."io.containerd.grpc.v1.cri".registry]
            config_path = "%1$s/certs.d"
        """
            .formatted(dir, IMAGE, cniBin);
    Files.writeString(dir.resolve("config.toml"), config);
    List<String> cmd = new java.util.ArrayList<>(options.commandPrefix());
    cmd.addAll(List.of("containerd", "--config", dir.resolve("config.toml").toString()));
    Process p =
        new ProcessBuilder(cmd)
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

  /**
   * The CNI network pods get (the one the README's Edged section shows): a bridge that is the pods'
   * gateway, masquerading for traffic that leaves the node, host-local addresses from {@code
   * subnet}.
   */
  public static String bridgeNetwork(String subnet, Path ipamDir) {
    return """
        {
          "cniVersion": "1.0.0",
          "name": "kedge",
          "plugins": [
            {
              "type": "bridge",
              "bridge": "%s",
              "isGateway": true,
              "ipMasq": true,
              "hairpinMode": true,
              "ipam": {
                "type": "host-local",
                "dataDir": "%s",
                "ranges": [[{"subnet": "%s"}]],
                "routes": [{"dst": "0.0.0.0/0"}]
              }
            },
            {"type": "portmap", "capabilities": {"portMappings": true}}
          ]
        }
        """
        .formatted(BRIDGE, ipamDir, subnet);
  }

  /**
   * Lets this containerd pull from {@code hostPort} over plain HTTP (a {@code hosts.toml} in its
   * registry {@code config_path}, read at every pull).
   */
  public void trustPlainHttp(String hostPort) throws IOException {
    Path d = dir.resolve("certs.d").resolve(hostPort);
    Files.createDirectories(d);
    Files.writeString(
        d.resolve("hosts.toml"),
        """
        server = "http://%1$s"

        [host."http://%1$s"]
          capabilities = ["pull", "resolve"]
        """
            .formatted(hostPort));
  }

  /** {@code ctr … images rm}: the image is no longer on the node. */
  public void removeImage(String image) throws IOException, InterruptedException {
    run(List.of("ctr", "-a", socket.toString(), "-n", "k8s.io", "images", "rm", image));
  }

  /** The Python image's name ({@link #pythonImage()}). */
  public static final String PYTHON_IMAGE = "localhost/kedge/python-kubernetes:1";

  /**
   * The edge image with python3 and python3-kubernetes ({@code scripts/build-python-image.sh}),
   * built the first time.
   */
  public static Path pythonImage() throws IOException, InterruptedException {
    Path image =
        Path.of(System.getProperty("user.home"), ".cache/kedge/images/python-kubernetes.tar");
    if (!Files.exists(image)) {
      run(
          List.of(
              kedgeHome().resolve("scripts/build-python-image.sh").toString(),
              image.toString(),
              PYTHON_IMAGE));
    }
    return image;
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

  private static String output(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
    }
    return out;
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
    // Containers outlive their shims (they are reparented, not killed): kill every task first.
    try {
      String ids =
          output(List.of("ctr", "-a", socket.toString(), "-n", "k8s.io", "tasks", "ls", "-q"));
      for (String id : ids.lines().map(String::strip).filter(l -> !l.isEmpty()).toList()) {
        output(
            List.of(
                "ctr",
                "-a",
                socket.toString(),
                "-n",
                "k8s.io",
                "tasks",
                "kill",
                "-a",
                "-s",
                "SIGKILL",
                id));
      }
    } catch (IOException | RuntimeException e) {
      // containerd is gone already: its tasks were stopped with it or are listed below
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
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
