package io.kedge.controlplane;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How to start a local control plane.
 *
 * @param dir where PKI, kubeconfigs, logs and state live
 * @param clusterSigningDuration lifetime of certificates the controller-manager signs for CSRs
 *     (short values make certificate rotation testable; 1.20 has no per-CSR expiration)
 * @param kedgeHome checkout root, used to build missing binaries with scripts/build-kube.sh; may be
 *     null when the binaries are cached
 * @param readyTimeout upper bound for the plane to become ready
 * @param apiserverPort port to try first for the apiserver; 0 for any free port. When it is in use
 *     another free port is picked and that is logged.
 */
public record ControlPlaneOptions(
    Path dir,
    Duration clusterSigningDuration,
    Path kedgeHome,
    Duration readyTimeout,
    int apiserverPort) {

  public ControlPlaneOptions {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(clusterSigningDuration, "clusterSigningDuration");
    Objects.requireNonNull(readyTimeout, "readyTimeout");
  }

  public static ControlPlaneOptions defaults(Path dir) {
    return new ControlPlaneOptions(
        dir.toAbsolutePath().normalize(),
        Duration.ofDays(365),
        kedgeHomeFromEnvironment(),
        Duration.ofSeconds(180),
        0);
  }

  public ControlPlaneOptions withClusterSigningDuration(Duration d) {
    return new ControlPlaneOptions(dir, d, kedgeHome, readyTimeout, apiserverPort);
  }

  public ControlPlaneOptions withKedgeHome(Path home) {
    return new ControlPlaneOptions(dir, clusterSigningDuration, home, readyTimeout, apiserverPort);
  }

  public ControlPlaneOptions withApiserverPort(int port) {
    return new ControlPlaneOptions(dir, clusterSigningDuration, kedgeHome, readyTimeout, port);
  }

  /** {@code -Dkedge.home} or {@code $KEDGE_HOME}, when set. */
  public static Path kedgeHomeFromEnvironment() {
    String p = System.getProperty("kedge.home");
    if (p == null || p.isBlank()) {
      p = System.getenv("KEDGE_HOME");
    }
    return p == null || p.isBlank() ? null : Path.of(p);
  }
}
