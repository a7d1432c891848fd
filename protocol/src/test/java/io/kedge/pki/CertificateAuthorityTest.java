package io.kedge.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.security.SignatureException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class CertificateAuthorityTest {

  @Test
  void issuesServerCertificateWithSansAndUsage() throws Exception {
    CertificateAuthority ca =
        CertificateAuthority.create("test-ca", KeyPairs.ecP256(), Duration.ofDays(1));
    KeyPair leaf = KeyPairs.ecP256();
    X509Certificate cert =
        ca.issue(
            CertSpec.server("srv", List.of("127.0.0.1"), List.of("localhost"), Duration.ofHours(1)),
            leaf.getPublic());
    cert.verify(ca.certificate().getPublicKey());
    assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=srv");
    assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
    assertThat(cert.getSubjectAlternativeNames().stream().map(l -> (Object) l.get(1)).toList())
        .containsExactlyInAnyOrder("127.0.0.1", "localhost");
    assertThat(cert.getBasicConstraints()).isEqualTo(-1);
    assertThat(ca.certificate().getBasicConstraints()).isGreaterThanOrEqualTo(0);
  }

  @Test
  void clientCertificateCarriesOrganizations() {
    CertificateAuthority ca =
        CertificateAuthority.create("test-ca", KeyPairs.rsa2048(), Duration.ofDays(1));
    X509Certificate cert =
        ca.issue(
            CertSpec.client("system:node:n1", List.of("system:nodes"), Duration.ofHours(1)),
            KeyPairs.ecP256().getPublic());
    assertThat(cert.getSubjectX500Principal().getName())
        .isEqualTo("CN=system:node:n1,O=system:nodes");
  }

  @Test
  void certificateOfAnotherCaDoesNotVerify() {
    CertificateAuthority a =
        CertificateAuthority.create("a", KeyPairs.ecP256(), Duration.ofDays(1));
    CertificateAuthority b =
        CertificateAuthority.create("b", KeyPairs.ecP256(), Duration.ofDays(1));
    X509Certificate cert =
        a.issue(
            CertSpec.client("x", List.of(), Duration.ofHours(1)), KeyPairs.ecP256().getPublic());
    assertThatThrownBy(() -> cert.verify(b.certificate().getPublicKey()))
        .isInstanceOf(SignatureException.class);
  }

  @Test
  void pemRoundTrip() {
    KeyPair ec = KeyPairs.ecP256();
    KeyPair rsa = KeyPairs.rsa2048();
    CertificateAuthority ca = CertificateAuthority.create("ca", rsa, Duration.ofDays(1));
    assertThat(
            ((java.security.interfaces.ECPrivateKey) Pem.privateKey(Pem.encode(ec.getPrivate())))
                .getS())
        .isEqualTo(((java.security.interfaces.ECPrivateKey) ec.getPrivate()).getS());
    assertThat(Pem.privateKey(Pem.encode(rsa.getPrivate()))).isEqualTo(rsa.getPrivate());
    assertThat(Pem.publicKey(Pem.encode(rsa.getPublic()))).isEqualTo(rsa.getPublic());
    assertThat(Pem.certificate(Pem.encode(ca.certificate()))).isEqualTo(ca.certificate());
    assertThatThrownBy(() -> Pem.certificate("garbage"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rejectsNonIpLiteralSan() {
    CertificateAuthority ca =
        CertificateAuthority.create("ca", KeyPairs.ecP256(), Duration.ofDays(1));
    assertThatThrownBy(
            () ->
                ca.issue(
                    CertSpec.server("s", List.of("not-an-ip!"), List.of(), Duration.ofHours(1)),
                    KeyPairs.ecP256().getPublic()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
