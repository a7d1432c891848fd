package io.kedge.edge.auth;

import io.kedge.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.Signature;
import java.time.Instant;
import java.util.Base64;
import tools.jackson.databind.node.ObjectNode;

/** Mints service-account JWTs for tests, shaped like the apiserver's bound tokens. */
final class TestTokens {
  static final String ISSUER = "https://kubernetes.default.svc.cluster.local";

  private TestTokens() {}

  static ObjectNode claims(String ns, String sa, String saUid, String pod, String podUid) {
    long now = Instant.now().getEpochSecond();
    ObjectNode c = Json.object();
    c.putArray("aud").add(ISSUER);
    c.put("exp", now + 3600);
    c.put("iat", now);
    c.put("nbf", now);
    c.put("iss", ISSUER);
    c.put("sub", "system:serviceaccount:" + ns + ":" + sa);
    ObjectNode k = c.putObject("kubernetes.io");
    k.put("namespace", ns);
    if (pod != null) {
      k.putObject("pod").put("name", pod).put("uid", podUid);
    }
    k.putObject("serviceaccount").put("name", sa).put("uid", saUid);
    return c;
  }

  static String sign(ObjectNode claims, KeyPair key, String kid) {
    String alg = key.getPrivate().getAlgorithm().equals("EC") ? "ES256" : "RS256";
    ObjectNode h = Json.object();
    h.put("alg", alg);
    if (kid != null) {
      h.put("kid", kid);
    }
    Base64.Encoder enc = Base64.getUrlEncoder().withoutPadding();
    String signingInput =
        enc.encodeToString(Json.bytes(h)) + "." + enc.encodeToString(Json.bytes(claims));
    try {
      Signature s =
          Signature.getInstance(
              alg.equals("ES256") ? "SHA256withECDSAinP1363Format" : "SHA256withRSA");
      s.initSign(key.getPrivate());
      s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signingInput + "." + enc.encodeToString(s.sign());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
