package io.kedge.keadm;

import io.kedge.edge.hub.BootstrapException;
import io.kedge.edge.hub.CertificateBootstrap;
import io.kedge.edge.hub.CertificateFiles;
import io.kedge.edge.hub.EdgeCredentials;
import io.kedge.edge.hub.JoinToken;
import io.kedge.protocol.config.EdgeCoreConfig;
import java.time.Duration;

/**
 * The node's certificate, obtained by {@code keadm join} before edgecore starts (with edgecore's
 * own bootstrap code), so that a wrong token or an unreachable cloud is reported by join itself.
 */
final class EdgeCertificates {
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);
  static final Duration UNREACHABLE_GRACE = Duration.ofSeconds(30);

  private EdgeCertificates() {}

  static void bootstrap(KeadmEnvironment env, EdgeCoreConfig config, InstallLayout layout) {
    EdgeCoreConfig.EdgeHubConfig hub = config.modules().edgeHub();
    JoinToken token;
    CertificateBootstrap bootstrap;
    try {
      token = JoinToken.parse(hub.token());
      bootstrap =
          new CertificateBootstrap(
              CertificateBootstrap.serverUris(hub), config.nodeName(), REQUEST_TIMEOUT);
    } catch (BootstrapException e) {
      throw new KeadmException(e.getMessage(), e);
    }
    env.progress(
        "join",
        "requesting the certificate of node "
            + config.nodeName()
            + " from "
            + String.join(
                ", ",
                CertificateBootstrap.serverUris(hub).stream().map(Object::toString).toList()));
    long t0 = System.nanoTime();
    while (true) {
      try {
        EdgeCredentials c = bootstrap.join(token);
        CertificateFiles.of(hub).store(c);
        env.progress(
            "join",
            "certificate for "
                + c.commonName()
                + " issued (valid until "
                + c.notAfter()
                + "), stored in "
                + hub.tlsCertFile());
        return;
      } catch (BootstrapException e) {
        boolean unreachable = e.getMessage() != null && e.getMessage().startsWith("cannot reach");
        if (unreachable && System.nanoTime() - t0 < UNREACHABLE_GRACE.toNanos()) {
          env.progress("join", e.getMessage() + "; trying again");
          sleep(2000);
          continue;
        }
        throw new KeadmException("cannot obtain the node's certificate: " + e.getMessage(), e);
      }
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KeadmException("interrupted");
    }
  }
}
