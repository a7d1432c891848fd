package io.kedge.controlplane;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The control-plane binaries: etcd from Debian, kube-apiserver / kube-controller-manager /
 * kube-scheduler built once from Debian's source package and cached under {@code
 * ~/.cache/kedge/k8s-v1.20.2/bin} (or {@code $KEDGE_CACHE}).
 */
public record KubeBinaries(Path etcd, Path apiserver, Path controllerManager, Path scheduler) {

  public static final String KUBE_VERSION = "v1.20.2";

  public static Path cacheDir() {
    String env = System.getenv("KEDGE_CACHE");
    Path root =
        env != null && !env.isBlank()
            ? Path.of(env)
            : Path.of(System.getProperty("user.home"), ".cache", "kedge");
    return root.resolve("k8s-" + KUBE_VERSION);
  }

  /** The cached binaries, or empty when any is missing. */
  public static java.util.Optional<KubeBinaries> cached() {
    Path bin = cacheDir().resolve("bin");
    KubeBinaries b =
        new KubeBinaries(
            Path.of("/usr/bin/etcd"),
            bin.resolve("kube-apiserver"),
            bin.resolve("kube-controller-manager"),
            bin.resolve("kube-scheduler"));
    for (Path p : List.of(b.etcd, b.apiserver, b.controllerManager, b.scheduler)) {
      if (!Files.isExecutable(p)) {
        return java.util.Optional.empty();
      }
    }
    return java.util.Optional.of(b);
  }

  /**
   * The binaries, building them with {@code scripts/build-kube.sh} of the checkout at {@code
   * kedgeHome} when they are not cached yet. The script's progress goes to this process's stderr.
   */
  public static KubeBinaries ensure(Path kedgeHome) {
    var have = cached();
    if (have.isPresent()) {
      return have.get();
    }
    if (kedgeHome == null) {
      throw new ControlPlaneException(
          "control-plane binaries are not built yet: run scripts/build-kube.sh first");
    }
    Path script = kedgeHome.resolve("scripts/build-kube.sh");
    if (!Files.isExecutable(script)) {
      throw new ControlPlaneException("cannot build the control plane: " + script + " not found");
    }
    try {
      Process p = new ProcessBuilder(script.toString()).inheritIO().start();
      int rc = p.waitFor();
      if (rc != 0) {
        throw new ControlPlaneException(
            "building the control plane failed (exit "
                + rc
                + "); see "
                + cacheDir().resolve("build.log"));
      }
    } catch (IOException e) {
      throw new ControlPlaneException("cannot run " + script + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ControlPlaneException("interrupted while building the control plane", e);
    }
    return cached()
        .orElseThrow(
            () ->
                new ControlPlaneException(
                    "build finished but binaries are missing in " + cacheDir()));
  }
}
