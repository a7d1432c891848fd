package io.kedge.testkit.edge;

import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

/**
 * What a simulated edge presents and trusts: its node name, client key and certificate, and the CAs
 * it accepts for the hub's server certificate.
 */
public record EdgeIdentity(
    String node, PrivateKey key, X509Certificate certificate, List<X509Certificate> trusted) {

  public EdgeIdentity {
    trusted = List.copyOf(trusted);
  }

  /**
   * A certificate as KubeEdge's bootstrap issues it ({@code O=system:nodes,
   * CN=system:node:<node>}), signed by {@code ca}, trusting {@code ca}.
   */
  public static EdgeIdentity issue(CertificateAuthority ca, String node) {
    return issue(ca, node, "system:node:" + node, Duration.ofDays(365));
  }

  /** A certificate with any CN and lifetime (negative: already expired). */
  public static EdgeIdentity issue(
      CertificateAuthority ca, String node, String commonName, Duration validity) {
    KeyPair kp = KeyPairs.ecP256();
    X509Certificate cert;
    if (validity.isNegative()) {
      cert = ExpiredCertificates.issue(ca, commonName, kp.getPublic(), validity);
    } else {
      cert =
          ca.issue(CertSpec.client(commonName, List.of("system:nodes"), validity), kp.getPublic());
    }
    return new EdgeIdentity(node, kp.getPrivate(), cert, List.of(ca.certificate()));
  }

  /** The same credentials presented under another node name (node_id header). */
  public EdgeIdentity as(String otherNode) {
    return new EdgeIdentity(otherNode, key, certificate, trusted);
  }
}
