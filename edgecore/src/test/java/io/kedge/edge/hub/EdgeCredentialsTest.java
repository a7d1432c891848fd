package io.kedge.edge.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.pki.KeyPairs;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

class EdgeCredentialsTest {
  private static final KeyPair KEY = KeyPairs.ecP256();

  private static X509Certificate withSubject(X500Name subject) throws Exception {
    Instant now = Instant.now();
    return new JcaX509CertificateConverter()
        .getCertificate(
            new JcaX509v3CertificateBuilder(
                    subject,
                    BigInteger.ONE,
                    Date.from(now),
                    Date.from(now.plus(1, ChronoUnit.DAYS)),
                    subject,
                    KEY.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(KEY.getPrivate())));
  }

  @Test
  void theCommonNameIsTheSubjectsFirstCnUnescaped() throws Exception {
    X509Certificate node =
        withSubject(
            new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, "system:nodes")
                .addRDN(BCStyle.CN, "system:node:edge-1")
                .build());
    assertThat(EdgeCredentials.commonName(node)).isEqualTo("system:node:edge-1");

    X509Certificate special =
        withSubject(
            new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.CN, "a,b+c=\"d\"")
                .addRDN(BCStyle.CN, "second")
                .build());
    assertThat(EdgeCredentials.commonName(special)).isEqualTo("a,b+c=\"d\"");

    X509Certificate none =
        withSubject(new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "x").build());
    assertThat(EdgeCredentials.commonName(none)).isEmpty();
  }
}
