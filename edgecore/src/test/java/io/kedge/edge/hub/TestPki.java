package io.kedge.edge.hub;

import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A hub CA as CloudHub keeps it, with a server certificate for 127.0.0.1. */
public final class TestPki {
  private static final AtomicLong SERIAL = new AtomicLong(1000);

  public final CertificateAuthority ca;
  public final X509Certificate serverCert;
  public final PrivateKey serverKey;

  public TestPki() {
    this("127.0.0.1");
  }

  public TestPki(String serverIp) {
    ca = CertificateAuthority.create("KubeEdge", KeyPairs.ecP256(), Duration.ofDays(3650));
    KeyPair sk = KeyPairs.ecP256();
    serverCert =
        ca.issue(
            CertSpec.server("KubeEdge", List.of(serverIp), List.of(), Duration.ofDays(365)),
            sk.getPublic());
    serverKey = sk.getPrivate();
  }

  /** A client certificate valid from now for exactly {@code validity}. */
  public X509Certificate issueClient(X500Name subject, PublicKey key, Duration validity) {
    try {
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              ca.certificate(),
              BigInteger.valueOf(SERIAL.incrementAndGet()),
              Date.from(now.minusMillis(500)),
              Date.from(now.plus(validity)),
              subject,
              key);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      b.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
      return new JcaX509CertificateConverter()
          .getCertificate(
              b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.privateKey())));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Credentials for {@code node} as a finished bootstrap would have stored them. */
  public EdgeCredentials credentialsFor(String commonName, Duration validity) {
    KeyPair kp = KeyPairs.ecP256();
    X509Certificate cert =
        issueClient(new X500Name("O=system:nodes,CN=" + commonName), kp.getPublic(), validity);
    return new EdgeCredentials(ca.certificate(), cert, kp.getPrivate());
  }
}
