package io.kedge.edge.auth;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How MetaServer's serving certificate is obtained.
 *
 * @param node this node's name (the CSR is {@code metaserver-csr-<node>}, subject {@code
 *     system:node:<node>})
 * @param ips the IP SANs: the hosts of {@code server} and {@code dummyServer}
 * @param pkiDir where the certificate and key are kept ({@code metaserver-current.pem})
 * @param pollInterval how often a pending CSR is polled (KubeEdge: 5 s)
 * @param requestTimeout how long one request to the cloud may take
 * @param warnAfter how long a CSR may stay unapproved before that is reported as a problem
 * @param retryMin first back-off after a failed or denied request
 * @param retryMax longest back-off
 * @param reportEvery how often the log says, while there is no certificate, which CSR the edge
 *     waits for and in what state
 */
public record ServingCertificateSettings(
    String node,
    List<String> ips,
    Path pkiDir,
    Duration pollInterval,
    Duration requestTimeout,
    Duration warnAfter,
    Duration retryMin,
    Duration retryMax,
    Duration reportEvery) {

  public ServingCertificateSettings {
    ips = List.copyOf(ips);
  }

  public static ServingCertificateSettings defaults(String node, List<String> ips, Path pkiDir) {
    return new ServingCertificateSettings(
        node,
        ips,
        pkiDir,
        Duration.ofSeconds(5),
        Duration.ofSeconds(30),
        Duration.ofSeconds(60),
        Duration.ofSeconds(5),
        Duration.ofMinutes(5),
        Duration.ofMinutes(1));
  }

  public ServingCertificateSettings withPollInterval(Duration d) {
    return new ServingCertificateSettings(
        node, ips, pkiDir, d, requestTimeout, warnAfter, retryMin, retryMax, reportEvery);
  }

  public ServingCertificateSettings withWarnAfter(Duration d) {
    return new ServingCertificateSettings(
        node, ips, pkiDir, pollInterval, requestTimeout, d, retryMin, retryMax, reportEvery);
  }

  public ServingCertificateSettings withRetry(Duration min, Duration max) {
    return new ServingCertificateSettings(
        node, ips, pkiDir, pollInterval, requestTimeout, warnAfter, min, max, reportEvery);
  }

  public ServingCertificateSettings withReportEvery(Duration d) {
    return new ServingCertificateSettings(
        node, ips, pkiDir, pollInterval, requestTimeout, warnAfter, retryMin, retryMax, d);
  }

  public String csrName() {
    return "metaserver-csr-" + node;
  }
}
