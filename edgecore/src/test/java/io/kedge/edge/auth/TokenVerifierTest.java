package io.kedge.edge.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.pki.KeyPairs;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

class TokenVerifierTest {
  static final KeyPair RSA = KeyPairs.rsa2048();
  static final KeyPair EC = KeyPairs.ecP256();
  static final KeyPair OTHER = KeyPairs.rsa2048();

  static Jwks jwks() {
    Map<String, java.security.PublicKey> m = new LinkedHashMap<>();
    m.put("rsa-1", RSA.getPublic());
    m.put("ec-1", EC.getPublic());
    return Jwks.parse(Jwks.toJson(m));
  }

  TokenVerifier verifier() {
    return new TokenVerifier(List.of(TestTokens.ISSUER), List.of(), VerificationKeys.of(jwks()));
  }

  static ObjectNode claims() {
    return TestTokens.claims("demo", "reader", "sa-uid", "p1", "pod-uid");
  }

  @Test
  void acceptsRs256AndEs256TokensWithAllClaims() throws Exception {
    for (var t :
        List.of(
            TestTokens.sign(claims(), RSA, "rsa-1"),
            TestTokens.sign(claims(), EC, "ec-1"),
            TestTokens.sign(claims(), EC, null))) {
      ServiceAccountClaims c = verifier().verify(t);
      assertThat(c.namespace()).isEqualTo("demo");
      assertThat(c.serviceAccountName()).isEqualTo("reader");
      assertThat(c.serviceAccountUid()).isEqualTo("sa-uid");
      assertThat(c.podName()).isEqualTo("p1");
      assertThat(c.podUid()).isEqualTo("pod-uid");
      assertThat(c.audiences()).containsExactly(TestTokens.ISSUER);
      assertThat(c.userInfo().name()).isEqualTo("system:serviceaccount:demo:reader");
      assertThat(c.userInfo().groups())
          .containsExactly(
              "system:serviceaccounts", "system:serviceaccounts:demo", "system:authenticated");
    }
  }

  @Test
  void rejectsForgedSignatureAndTamperedClaims() {
    String forged = TestTokens.sign(claims(), OTHER, "rsa-1");
    assertThatThrownBy(() -> verifier().verify(forged)).hasMessageContaining("bad signature");

    String good = TestTokens.sign(claims(), RSA, "rsa-1");
    String[] p = good.split("\\.");
    ObjectNode other = claims();
    ((ObjectNode) other.get("kubernetes.io")).put("namespace", "kube-system");
    String tampered =
        p[0]
            + "."
            + java.util.Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(io.kedge.protocol.Json.bytes(other))
            + "."
            + p[2];
    assertThatThrownBy(() -> verifier().verify(tampered)).isInstanceOf(InvalidTokenException.class);
  }

  @Test
  void rejectsAlgNoneAndHmac() {
    String good = TestTokens.sign(claims(), RSA, "rsa-1");
    String[] p = good.split("\\.");
    var enc = java.util.Base64.getUrlEncoder().withoutPadding();
    for (String alg : List.of("none", "HS256")) {
      String h = enc.encodeToString(("{\"alg\":\"" + alg + "\"}").getBytes());
      assertThatThrownBy(() -> verifier().verify(h + "." + p[1] + "." + p[2]))
          .hasMessageContaining("unsupported signature algorithm");
      assertThatThrownBy(() -> verifier().verify(h + "." + p[1] + "."))
          .isInstanceOf(InvalidTokenException.class);
    }
  }

  @Test
  void checksExpiryAndNotBeforeWithLeeway() throws Exception {
    Instant now = Instant.now();
    ObjectNode c = claims();
    c.put("exp", now.minusSeconds(30).getEpochSecond());
    String withinLeeway = TestTokens.sign(c, RSA, "rsa-1");
    verifier().verify(withinLeeway);

    c.put("exp", now.minusSeconds(120).getEpochSecond());
    String expired = TestTokens.sign(c, RSA, "rsa-1");
    assertThatThrownBy(() -> verifier().verify(expired)).hasMessageContaining("expired");

    ObjectNode n = claims();
    n.put("nbf", now.plusSeconds(600).getEpochSecond());
    String early = TestTokens.sign(n, RSA, "rsa-1");
    assertThatThrownBy(() -> verifier().verify(early)).hasMessageContaining("not valid before");

    ObjectNode noExp = claims();
    noExp.remove("exp");
    String forever = TestTokens.sign(noExp, RSA, "rsa-1");
    assertThatThrownBy(() -> verifier().verify(forever)).hasMessageContaining("no expiry");

    Clock later = Clock.fixed(now.plus(Duration.ofHours(2)), ZoneOffset.UTC);
    TokenVerifier v =
        new TokenVerifier(
            List.of(TestTokens.ISSUER),
            List.of(),
            VerificationKeys.of(jwks()),
            Duration.ofSeconds(5),
            later);
    assertThatThrownBy(() -> v.verify(TestTokens.sign(claims(), RSA, "rsa-1")))
        .hasMessageContaining("expired");
  }

  @Test
  void aRememberedTokenStillExpiresAndCountsOnlyForTheKeysThatVerifiedIt() throws Exception {
    Instant now = Instant.now();
    var clock = new java.util.concurrent.atomic.AtomicReference<>(now);
    Clock moving = new io.kedge.edge.SettableClock(clock);
    var current = new java.util.concurrent.atomic.AtomicReference<>(jwks());
    TokenVerifier v =
        new TokenVerifier(
            List.of(TestTokens.ISSUER), List.of(), current::get, Duration.ofSeconds(5), moving);
    ObjectNode c = claims();
    c.put("exp", now.plusSeconds(60).getEpochSecond());
    String token = TestTokens.sign(c, RSA, "rsa-1");
    assertThat(v.verify(token).podName()).isEqualTo("p1");
    assertThat(v.verify(token).podName()).isEqualTo("p1");

    // The issuer rotated its keys: the old signer no longer counts, although the token was
    // verified before.
    Map<String, java.security.PublicKey> rotated = new LinkedHashMap<>();
    rotated.put("rsa-2", OTHER.getPublic());
    current.set(Jwks.parse(Jwks.toJson(rotated)));
    assertThatThrownBy(() -> v.verify(token)).isInstanceOf(InvalidTokenException.class);
    current.set(jwks());
    assertThat(v.verify(token).serviceAccountName()).isEqualTo("reader");

    clock.set(now.plusSeconds(120));
    assertThatThrownBy(() -> v.verify(token)).hasMessageContaining("expired");
  }

  @Test
  void issuerAndAudienceMustBeAccepted() throws Exception {
    ObjectNode c = claims();
    c.put("iss", "https://evil");
    String wrongIss = TestTokens.sign(c, RSA, "rsa-1");
    assertThatThrownBy(() -> verifier().verify(wrongIss)).hasMessageContaining("issuer");

    ObjectNode a = claims();
    a.putArray("aud").add("vault");
    String wrongAud = TestTokens.sign(a, RSA, "rsa-1");
    assertThatThrownBy(() -> verifier().verify(wrongAud)).hasMessageContaining("audiences");

    TokenVerifier vault =
        new TokenVerifier(
            List.of(TestTokens.ISSUER), List.of("vault", "api"), VerificationKeys.of(jwks()));
    assertThat(vault.verify(wrongAud).audiences()).containsExactly("vault");
    a.put("aud", "api");
    assertThat(vault.verify(TestTokens.sign(a, RSA, "rsa-1")).audiences()).containsExactly("api");
    assertThatThrownBy(() -> vault.verify(TestTokens.sign(claims(), RSA, "rsa-1")))
        .hasMessageContaining("audiences");
  }

  @Test
  void requiresKubernetesClaimsConsistentWithSubject() {
    ObjectNode c = claims();
    c.remove("kubernetes.io");
    assertThatThrownBy(() -> verifier().verify(TestTokens.sign(c, RSA, "rsa-1")))
        .hasMessageContaining("kubernetes.io");
    ObjectNode s = claims();
    s.put("sub", "system:serviceaccount:kube-system:admin");
    assertThatThrownBy(() -> verifier().verify(TestTokens.sign(s, RSA, "rsa-1")))
        .hasMessageContaining("subject");
  }

  @Test
  void malformedTokensAreRejectedNotThrownUnchecked() {
    for (String t :
        List.of(
            "", "abc", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30.", "W10.W10.AA", "x".repeat(70000))) {
      assertThatThrownBy(() -> verifier().verify(t)).isInstanceOf(InvalidTokenException.class);
    }
  }

  @Test
  void unknownKeyIdAsksForFreshKeys() {
    AtomicReference<String> asked = new AtomicReference<>();
    VerificationKeys keys =
        new VerificationKeys() {
          @Override
          public Jwks current() {
            return jwks();
          }

          @Override
          public void unknownKeyId(String kid) {
            asked.set(kid);
          }
        };
    TokenVerifier v = new TokenVerifier(List.of(TestTokens.ISSUER), List.of(), keys);
    assertThatThrownBy(() -> v.verify(TestTokens.sign(claims(), OTHER, "rotated")))
        .hasMessageContaining("unknown key");
    assertThat(asked.get()).isEqualTo("rotated");

    TokenVerifier none =
        new TokenVerifier(
            List.of(TestTokens.ISSUER), List.of(), VerificationKeys.of(Jwks.of(List.of())));
    assertThatThrownBy(() -> none.verify(TestTokens.sign(claims(), RSA, "rsa-1")))
        .hasMessageContaining("no service-account issuer keys");
  }

  @Test
  void jwksSkipsUnusableKeysAndRejectsNonJwks() {
    String doc =
        "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"},{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQ\",\"e\":\"AQ\"},"
            + "{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"AA\",\"y\":\"AA\"},{\"kty\":\"RSA\"}]}";
    Jwks j = Jwks.parse(doc);
    assertThat(j.keys()).isEmpty();
    assertThat(j.skipped()).isEqualTo(4);
    assertThatThrownBy(() -> Jwks.parse("[]")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Jwks.parse("nope")).isInstanceOf(IllegalArgumentException.class);
    assertThat(jwks().keys()).extracting(Jwks.Key::kid).containsExactly("rsa-1", "ec-1");
    assertThat(jwks().keys().get(0).publicKey()).isEqualTo(RSA.getPublic());
    assertThat(jwks().keys().get(1).publicKey()).isEqualTo(EC.getPublic());
  }
}
