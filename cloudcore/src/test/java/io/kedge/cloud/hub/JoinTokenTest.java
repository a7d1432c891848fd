package io.kedge.cloud.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class JoinTokenTest {
  private final CertificateAuthority ca =
      CertificateAuthority.create("KubeEdge", KeyPairs.ecP256(), Duration.ofDays(10));
  private final byte[] key = HubPki.sec1(ca.privateKey());
  private final Instant now = Instant.parse("2026-11-25T12:00:00Z");

  @Test
  void hasKubeEdgesFourPartForm() throws Exception {
    String token = JoinToken.create(ca.certificate(), key, now, Duration.ofHours(24));
    String[] parts = token.split("\\.");
    assertThat(parts).hasSize(4);
    assertThat(parts[0])
        .isEqualTo(
            HexFormat.of()
                .formatHex(
                    MessageDigest.getInstance("SHA-256").digest(ca.certificate().getEncoded())));
    String jwt = token.substring(token.indexOf('.') + 1);
    assertThat(JoinToken.problem(jwt, key, now)).isNull();
    assertThat(new String(java.util.Base64.getUrlDecoder().decode(parts[2])))
        .isEqualTo("{\"exp\":" + now.plus(Duration.ofHours(24)).getEpochSecond() + "}");
  }

  @Test
  void rejectsExpiredForgedAndMalformedTokens() {
    String jwt =
        JoinToken.create(ca.certificate(), key, now, Duration.ofHours(1)).split("\\.", 2)[1];
    assertThat(JoinToken.problem(jwt, key, now.plus(Duration.ofHours(2)))).contains("expired");
    CertificateAuthority other =
        CertificateAuthority.create("KubeEdge", KeyPairs.ecP256(), Duration.ofDays(10));
    assertThat(JoinToken.problem(jwt, HubPki.sec1(other.privateKey()), now)).contains("signature");
    assertThat(JoinToken.problem("a.b", key, now)).contains("malformed");
    assertThat(JoinToken.problem("!!.!!.!!", key, now)).contains("malformed");
    String none =
        java.util.Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString("{\"alg\":\"none\"}".getBytes())
            + "."
            + jwt.split("\\.")[1]
            + ".";
    assertThat(JoinToken.problem(none, key, now)).contains("HS256");
  }

  @Test
  void caKeyRoundTripsThroughSec1() {
    assertThat(((java.security.interfaces.ECPrivateKey) HubPki.fromSec1(key)).getS())
        .isEqualTo(((java.security.interfaces.ECPrivateKey) ca.privateKey()).getS());
  }
}
