package io.kedge.cloud.dynamiccontroller;

import io.kedge.cloud.CloudMetrics;
import io.kedge.cloud.hub.EdgeMessenger;
import io.kedge.cloud.hub.NodeSessionListener;
import io.kedge.cloud.hub.UpstreamHandler;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.cloud.kube.SharedInformers;
import io.kedge.protocol.config.CloudCoreConfig;

/**
 * What cloudcore's wiring plugs in for {@code metaserver} traffic: the {@link DynamicController}
 * when {@code modules.dynamicController.enable} is true, otherwise a {@link
 * DisabledDynamicController} that still answers every Application (with a Status saying the module
 * is off) so that edges never wait for nothing. Register it as CloudHub's upstream handler for
 * source {@code metaserver} and as a session listener; close it on shutdown.
 */
public interface DynamicControllerModule
    extends UpstreamHandler, NodeSessionListener, AutoCloseable {

  @Override
  void close();

  /** Completes once what the module follows (pods, RBAC) is synced; at once when it is off. */
  default java.util.concurrent.CompletableFuture<Void> ready() {
    return java.util.concurrent.CompletableFuture.completedFuture(null);
  }

  /**
   * Builds and starts the module for {@code config}.
   *
   * @param informers cloudcore's shared informers, or null for a private set
   */
  static DynamicControllerModule start(
      CloudCoreConfig config,
      KubeClients kube,
      EdgeMessenger messenger,
      SharedInformers informers) {
    return start(config, kube, messenger, informers, CloudMetrics.detached());
  }

  /**
   * Builds and starts the module for {@code config}.
   *
   * @param informers cloudcore's shared informers, or null for a private set
   * @param metrics where requests and watches are counted
   */
  static DynamicControllerModule start(
      CloudCoreConfig config,
      KubeClients kube,
      EdgeMessenger messenger,
      SharedInformers informers,
      CloudMetrics metrics) {
    CloudCoreConfig.DynamicControllerConfig dc =
        config.modules() == null ? null : config.modules().dynamicController();
    if (dc == null || !dc.enable()) {
      return new DisabledDynamicController(messenger);
    }
    DynamicController c =
        new DynamicController(
            DynamicControllerOptions.from(dc), kube, messenger, informers, metrics);
    c.start();
    return c;
  }
}
