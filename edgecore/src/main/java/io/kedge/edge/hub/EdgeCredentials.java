package io.kedge.edge.hub;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;

/**
 * What the edge authenticates with: the hub CA (to verify the cloud), its client certificate and
 * the certificate's private key.
 */
public record EdgeCredentials(X509Certificate ca, X509Certificate certificate, PrivateKey key) {

  public EdgeCredentials {
    Objects.requireNonNull(ca, "ca");
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(key, "key");
  }

  /** The CN a node's client certificate must carry. */
  public static String commonNameFor(String node) {
    return "system:node:" + node;
  }

  public String commonName() {
    return commonName(certificate);
  }

  /**
   * The subject's first CN (in the order the certificate encodes them), unescaped; empty without
   * one. Read with the JDK's own name parser: it runs at every start, and BouncyCastle's would load
   * ~130 classes that stay resident for it.
   */
  static String commonName(X509Certificate cert) {
    try {
      // RFC 2253 names the last-encoded RDN first: LdapName lists them in encoding order.
      LdapName name = new LdapName(cert.getSubjectX500Principal().getName(X500Principal.RFC2253));
      for (Rdn rdn : name.getRdns()) {
        if ("CN".equalsIgnoreCase(rdn.getType()) && rdn.getValue() instanceof String cn) {
          return cn;
        }
      }
      return "";
    } catch (InvalidNameException e) {
      return "";
    }
  }

  public boolean isFor(String node) {
    return commonNameFor(node).equals(commonName());
  }

  public Instant notBefore() {
    return certificate.getNotBefore().toInstant();
  }

  public Instant notAfter() {
    return certificate.getNotAfter().toInstant();
  }

  public boolean expired(Instant now) {
    return !now.isBefore(notAfter());
  }

  /** A random point at 70–90 % of the certificate's lifetime, when it should be renewed. */
  public Instant rotationTime() {
    long life = Duration.between(notBefore(), notAfter()).toMillis();
    double share = 0.7 + 0.2 * ThreadLocalRandom.current().nextDouble();
    return notBefore().plusMillis((long) (life * share));
  }

  /** Whether the certificate was issued by the CA and certifies this key. */
  public boolean consistent() {
    try {
      certificate.verify(ca.getPublicKey());
    } catch (Exception e) {
      return false;
    }
    return KeyMatch.matches(key, certificate.getPublicKey());
  }
}
