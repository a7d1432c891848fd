package io.kedge.testkit.edge;

import io.kedge.pki.CertificateAuthority;
import java.math.BigInteger;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Client certificates whose validity ended in the past (for refusal tests). */
final class ExpiredCertificates {
  private ExpiredCertificates() {}

  static X509Certificate issue(
      CertificateAuthority ca, String commonName, PublicKey key, Duration negativeValidity) {
    Instant end = Instant.now().plus(negativeValidity);
    Instant start = end.minus(Duration.ofDays(30));
    try {
      var name =
          new X500NameBuilder(BCStyle.INSTANCE)
              .addRDN(BCStyle.O, "system:nodes")
              .addRDN(BCStyle.CN, commonName)
              .build();
      var b =
          new JcaX509v3CertificateBuilder(
              ca.certificate(),
              BigInteger.valueOf(System.nanoTime()),
              Date.from(start),
              Date.from(end),
              name,
              key);
      b.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
      String alg =
          ca.privateKey().getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
      return new JcaX509CertificateConverter()
          .getCertificate(b.build(new JcaContentSignerBuilder(alg).build(ca.privateKey())));
    } catch (Exception e) {
      throw new IllegalStateException("cannot issue an expired certificate", e);
    }
  }
}
