package io.kedge.edge.edged;

import io.kedge.protocol.config.EdgeCoreConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Edged's settings, fixed at start.
 *
 * @param service the KUBERNETES_SERVICE_* values pods get; empty = the variables are left empty
 * @param resyncPeriod how often a pod's ConfigMaps, Secrets and tokens are re-read into its volumes
 * @param retryPeriod how soon a pod that could not be configured, or a status the cloud did not
 *     take, is tried again
 * @param maxLogBytes a container log file larger than this is rotated (one rotated file is kept)
 * @param logCheckPeriod how often log sizes are checked
 * @param defaultUser user and group of containers whose pod sets no {@code runAsUser} / {@code
 *     runAsGroup}
 */
public record EdgedSettings(
    NodeInfo node,
    Path rootDirectory,
    Optional<KubernetesService> service,
    RestartBackoff backoff,
    Duration resyncPeriod,
    Duration retryPeriod,
    Duration lookupTimeout,
    long maxLogBytes,
    Duration logCheckPeriod,
    long defaultUser) {

  /** Unprivileged "nobody", as the process runtime's default user. */
  public static final long NOBODY = 65534;

  public static EdgedSettings from(EdgeCoreConfig config, NodeInfo node) {
    return new EdgedSettings(
        node,
        Path.of(config.modules().edged().rootDirectory()),
        serviceFor(config),
        RestartBackoff.kubeletDefault(),
        Duration.ofSeconds(60),
        Duration.ofSeconds(10),
        Duration.ofSeconds(Math.max(5, config.modules().metaManager().remoteQueryTimeout())),
        10L * 1024 * 1024,
        Duration.ofSeconds(10),
        NOBODY);
  }

  /**
   * With requireAuthorization, pods reach the API through MetaServer's dummy address (HTTPS);
   * without it MetaServer speaks plain HTTP, which no in-cluster loader accepts, so the variables
   * stay empty as in KubeEdge.
   */
  public static Optional<KubernetesService> serviceFor(EdgeCoreConfig config) {
    if (!config.requireAuthorization()) {
      return Optional.empty();
    }
    String dummy = config.modules().metaManager().metaServer().dummyServer();
    int colon = dummy.lastIndexOf(':');
    if (colon <= 0) {
      return Optional.empty();
    }
    return Optional.of(
        new KubernetesService(dummy.substring(0, colon), dummy.substring(colon + 1)));
  }
}
