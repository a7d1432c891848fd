package io.kedge.edge.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.KeyPair;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TokenAuthenticatorTest {
  static final KeyPair RSA = TokenVerifierTest.RSA;

  final Map<String, BoundObjects.Pod> pods = new HashMap<>();
  final Map<String, String> sas = new HashMap<>();
  final Map<String, String> secrets = new HashMap<>();

  final BoundObjects objects =
      new BoundObjects() {
        @Override
        public Optional<Pod> pod(String ns, String name) {
          return Optional.ofNullable(pods.get(ns + "/" + name));
        }

        @Override
        public Optional<String> serviceAccountUid(String ns, String name) {
          return Optional.ofNullable(sas.get(ns + "/" + name));
        }

        @Override
        public Optional<String> secretUid(String ns, String name) {
          return Optional.ofNullable(secrets.get(ns + "/" + name));
        }
      };

  TokenAuthenticator authenticator(Jwks keys, Set<String> issued) {
    VerificationKeys k = VerificationKeys.of(keys);
    return new TokenAuthenticator(
        new TokenVerifier(List.of(TestTokens.ISSUER), List.of(), k), k, objects, issued::contains);
  }

  String token() {
    return TestTokens.sign(
        TestTokens.claims("demo", "reader", "sa-uid", "p1", "pod-uid"), RSA, "rsa-1");
  }

  @Test
  void podOnThisNodeWithMatchingUidsIsAuthenticated() {
    pods.put("demo/p1", new BoundObjects.Pod("pod-uid", "reader"));
    sas.put("demo/reader", "sa-uid");
    // One token: minting twice could straddle a second and change iat/nbf/exp.
    String token = token();
    var a = authenticator(TokenVerifierTest.jwks(), Set.of()).authenticate("Bearer " + token);
    assertThat(a.ok()).isTrue();
    assertThat(a.user().name()).isEqualTo("system:serviceaccount:demo:reader");
    assertThat(a.token()).isEqualTo(token);
    assertThat(a.user().extra().get(UserInfo.EXTRA_POD_UID)).containsExactly("pod-uid");
  }

  @Test
  void bindingsMustHold() {
    TokenAuthenticator auth = authenticator(TokenVerifierTest.jwks(), Set.of());
    assertThat(auth.authenticate("Bearer " + token()).failure()).contains("does not run here");
    pods.put("demo/p1", new BoundObjects.Pod("other-uid", "reader"));
    assertThat(auth.authenticate("Bearer " + token()).failure()).contains("has UID");
    pods.put("demo/p1", new BoundObjects.Pod("pod-uid", "admin"));
    assertThat(auth.authenticate("Bearer " + token()).failure()).contains("runs as");
    pods.put("demo/p1", new BoundObjects.Pod("pod-uid", "reader"));
    sas.put("demo/reader", "recreated-uid");
    assertThat(auth.authenticate("Bearer " + token()).ok()).isFalse();
    sas.remove("demo/reader");
    assertThat(auth.authenticate("Bearer " + token()).ok()).isTrue();
  }

  @Test
  void unboundTokensAreRefusedAndSecretBindingsChecked() {
    TokenAuthenticator auth = authenticator(TokenVerifierTest.jwks(), Set.of());
    var unbound = TestTokens.claims("demo", "reader", "sa-uid", null, null);
    assertThat(auth.authenticate("Bearer " + TestTokens.sign(unbound, RSA, "rsa-1")).failure())
        .contains("not bound");
    var c = TestTokens.claims("demo", "reader", "sa-uid", null, null);
    ((tools.jackson.databind.node.ObjectNode) c.get("kubernetes.io"))
        .putObject("secret")
        .put("name", "s")
        .put("uid", "s-uid");
    String t = TestTokens.sign(c, RSA, "rsa-1");
    assertThat(auth.authenticate("Bearer " + t).ok()).isFalse();
    secrets.put("demo/s", "s-uid");
    assertThat(auth.authenticate("Bearer " + t).ok()).isTrue();
  }

  @Test
  void headerForms() {
    pods.put("demo/p1", new BoundObjects.Pod("pod-uid", "reader"));
    TokenAuthenticator auth = authenticator(TokenVerifierTest.jwks(), Set.of());
    assertThat(auth.authenticate(null).user().isAnonymous()).isTrue();
    assertThat(auth.authenticate("bearer " + token()).ok()).isTrue();
    assertThat(auth.authenticate("Basic YTpi").ok()).isFalse();
    assertThat(auth.authenticate("Bearer").ok()).isFalse();
    assertThat(auth.authenticate("Bearer ").ok()).isFalse();
    assertThat(auth.authenticate("Bearer garbage").ok()).isFalse();
  }

  @Test
  void withoutKeysOnlyTokensIssuedHereAreAccepted() {
    pods.put("demo/p1", new BoundObjects.Pod("pod-uid", "reader"));
    String mine = token();
    String forged =
        TestTokens.sign(
            TestTokens.claims("demo", "reader", "sa-uid", "p1", "pod-uid"),
            TokenVerifierTest.OTHER,
            "x");
    TokenAuthenticator auth = authenticator(Jwks.of(List.of()), Set.of(mine));
    assertThat(auth.authenticate("Bearer " + mine).ok()).isTrue();
    assertThat(auth.authenticate("Bearer " + forged).ok()).isFalse();
  }
}
