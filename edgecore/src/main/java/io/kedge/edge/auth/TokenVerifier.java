package io.kedge.edge.auth;

import io.kedge.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Verifies Kubernetes service-account tokens (JWS compact form) offline: the signature against the
 * issuer's keys (RS256/384/512, ES256/384/512), {@code exp}/{@code nbf} with a small leeway, {@code
 * iss} among the configured issuers, {@code aud} intersecting the accepted audiences, and the
 * presence of the {@code kubernetes.io} claims. Binding checks (does the pod exist on this node)
 * are the caller's.
 */
public final class TokenVerifier {

  /** The apiserver's leeway for {@code exp}/{@code nbf}. */
  public static final Duration DEFAULT_LEEWAY = Duration.ofMinutes(1);

  /** Longest token accepted at all; bounds the work a forged token can cause. */
  static final int MAX_TOKEN_CHARS = 16 * 1024;

  private static final Set<String> ALGORITHMS =
      Set.of("RS256", "RS384", "RS512", "ES256", "ES384", "ES512");

  private final List<String> issuers;
  private final List<String> audiences;
  private final VerificationKeys keys;
  private final Duration leeway;
  private final Clock clock;

  /**
   * Tokens whose signature verified, with the claims read from them and the key set that verified
   * them. A pod sends the same token with every request, and checking an RSA signature costs more
   * than answering a read from the store; the claims are deterministic for a token, so only the
   * clock checks run again. An entry counts only while the key set is the same object.
   */
  private final Map<String, Verified> verified =
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Verified> eldest) {
          return size() > MAX_REMEMBERED;
        }
      };

  /** Tokens remembered as verified; a node runs few pods, each with one current token. */
  static final int MAX_REMEMBERED = 256;

  private record Verified(Jwks keys, ServiceAccountClaims claims) {}

  /**
   * @param issuers accepted {@code iss} values ({@code serviceAccountIssuers})
   * @param audiences accepted audiences ({@code apiAudiences}); empty means the issuers, as the
   *     apiserver and KubeEdge do
   */
  public TokenVerifier(
      List<String> issuers,
      List<String> audiences,
      VerificationKeys keys,
      Duration leeway,
      Clock clock) {
    this.issuers = List.copyOf(issuers);
    this.audiences =
        audiences == null || audiences.isEmpty() ? this.issuers : List.copyOf(audiences);
    this.keys = keys;
    this.leeway = leeway;
    this.clock = clock;
  }

  public TokenVerifier(List<String> issuers, List<String> audiences, VerificationKeys keys) {
    this(issuers, audiences, keys, DEFAULT_LEEWAY, Clock.systemUTC());
  }

  public List<String> audiences() {
    return audiences;
  }

  /** True when {@code token} looks like a JWT from one of our issuers (no verification). */
  public boolean isCandidate(String token) {
    try {
      return issuers.contains(text(part(token, 1), "iss"));
    } catch (InvalidTokenException e) {
      return false;
    }
  }

  public ServiceAccountClaims verify(String token) throws InvalidTokenException {
    Jwks jwks = keys.current();
    Verified v;
    synchronized (verified) {
      v = token == null ? null : verified.get(token);
    }
    if (v != null && v.keys() == jwks) {
      checkTimes(v.claims().expiresAt(), v.claims().notBefore());
      return v.claims();
    }
    ServiceAccountClaims c = check(token, true, jwks);
    if (jwks != null) {
      synchronized (verified) {
        verified.put(token, new Verified(jwks, c));
      }
    }
    return c;
  }

  /**
   * Checks everything but the signature. Only for a token this node itself received from the
   * apiserver (a stored pod token), when no verification keys are available yet.
   */
  ServiceAccountClaims verifyIssued(String token) throws InvalidTokenException {
    return check(token, false, null);
  }

  private ServiceAccountClaims check(String token, boolean signature, Jwks jwks)
      throws InvalidTokenException {
    if (token == null || token.isEmpty()) {
      throw new InvalidTokenException("empty token");
    }
    if (token.length() > MAX_TOKEN_CHARS) {
      throw new InvalidTokenException("token too long");
    }
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) {
      throw new InvalidTokenException("not a JWT (expected 3 parts, got " + parts.length + ")");
    }
    JsonNode header = part(token, 0);
    JsonNode claims = part(token, 1);
    String iss = text(claims, "iss");
    if (!issuers.contains(iss)) {
      throw new InvalidTokenException("issuer \"" + iss + "\" is not accepted");
    }
    String alg = text(header, "alg");
    if (!ALGORITHMS.contains(alg)) {
      throw new InvalidTokenException("unsupported signature algorithm \"" + alg + "\"");
    }
    if (signature) {
      verifySignature(parts, alg, text(header, "kid"), jwks);
    }

    Instant exp = time(claims, "exp");
    if (exp == null) {
      throw new InvalidTokenException("token has no expiry");
    }
    Instant nbf = time(claims, "nbf");
    checkTimes(exp, nbf);
    List<String> aud = audiences(claims);
    if (aud.stream().noneMatch(audiences::contains)) {
      throw new InvalidTokenException("token audiences " + aud + " not accepted");
    }
    JsonNode k8s = claims.get("kubernetes.io");
    if (k8s == null || !k8s.isObject()) {
      throw new InvalidTokenException("token has no kubernetes.io claims");
    }
    String ns = text(k8s, "namespace");
    JsonNode sa = k8s.path("serviceaccount");
    String saName = text(sa, "name");
    String saUid = text(sa, "uid");
    if (ns.isEmpty() || saName.isEmpty() || saUid.isEmpty()) {
      throw new InvalidTokenException("token lacks namespace or service account claims");
    }
    String sub = text(claims, "sub");
    if (!sub.equals(UserInfo.serviceAccountUser(ns, saName))) {
      throw new InvalidTokenException("token subject \"" + sub + "\" does not match its claims");
    }
    JsonNode pod = k8s.path("pod");
    JsonNode secret = k8s.path("secret");
    return new ServiceAccountClaims(
        iss,
        sub,
        aud,
        exp,
        nbf,
        time(claims, "iat"),
        ns,
        saName,
        saUid,
        text(pod, "name"),
        text(pod, "uid"),
        text(secret, "name"),
        text(secret, "uid"));
  }

  private void checkTimes(Instant exp, Instant nbf) throws InvalidTokenException {
    Instant now = clock.instant();
    if (now.isAfter(exp.plus(leeway))) {
      throw new InvalidTokenException("token expired at " + exp);
    }
    if (nbf != null && now.isBefore(nbf.minus(leeway))) {
      throw new InvalidTokenException("token not valid before " + nbf);
    }
  }

  private void verifySignature(String[] parts, String alg, String kid, Jwks jwks)
      throws InvalidTokenException {
    byte[] signature;
    try {
      signature = Base64.getUrlDecoder().decode(parts[2]);
    } catch (IllegalArgumentException e) {
      throw new InvalidTokenException("signature is not base64url");
    }
    byte[] signed = (parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII);
    if (jwks == null || jwks.isEmpty()) {
      throw new InvalidTokenException(
          "no service-account issuer keys to verify it with, and it is not a token this node"
              + " obtained for one of its pods");
    }
    boolean kidKnown = kid.isEmpty() || jwks.keys().stream().anyMatch(k -> kid.equals(k.kid()));
    for (Jwks.Key k : jwks.candidates(kid)) {
      if (verifies(alg, k.publicKey(), signed, signature)) {
        return;
      }
    }
    if (!kidKnown) {
      keys.unknownKeyId(kid);
      throw new InvalidTokenException("token signed with unknown key \"" + kid + "\"");
    }
    throw new InvalidTokenException("bad signature");
  }

  private static boolean verifies(String alg, PublicKey key, byte[] data, byte[] sig) {
    String jca;
    if (alg.startsWith("RS")) {
      if (!(key instanceof RSAPublicKey)) {
        return false;
      }
      jca = "SHA" + alg.substring(2) + "withRSA";
    } else {
      if (!(key instanceof ECPublicKey ec)) {
        return false;
      }
      int bits = ec.getParams().getCurve().getField().getFieldSize();
      int want =
          switch (alg) {
            case "ES256" -> 256;
            case "ES384" -> 384;
            default -> 521;
          };
      if (bits != want) {
        return false;
      }
      // JWS carries R||S; the P1363 variant takes exactly that form.
      jca = "SHA" + alg.substring(2) + "withECDSAinP1363Format";
    }
    try {
      Signature s = Signature.getInstance(jca);
      s.initVerify(key);
      s.update(data);
      return s.verify(sig);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }

  private static JsonNode part(String token, int index) throws InvalidTokenException {
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) {
      throw new InvalidTokenException("not a JWT");
    }
    try {
      JsonNode n = Json.parse(Base64.getUrlDecoder().decode(parts[index]));
      if (n == null || !n.isObject()) {
        throw new InvalidTokenException("JWT part " + index + " is not a JSON object");
      }
      return n;
    } catch (IllegalArgumentException | JacksonException e) {
      throw new InvalidTokenException("JWT part " + index + " is malformed");
    }
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n == null ? null : n.get(field);
    return v != null && v.isString() ? v.stringValue() : "";
  }

  private static Instant time(JsonNode n, String field) throws InvalidTokenException {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber()) {
      throw new InvalidTokenException("claim " + field + " is not a number");
    }
    return Instant.ofEpochSecond(v.asLong());
  }

  private static List<String> audiences(JsonNode claims) {
    JsonNode aud = claims.get("aud");
    List<String> out = new ArrayList<>();
    if (aud == null) {
      return out;
    }
    if (aud.isString()) {
      out.add(aud.stringValue());
    } else if (aud.isArray()) {
      for (JsonNode a : aud) {
        if (a.isString()) {
          out.add(a.stringValue());
        }
      }
    }
    return out;
  }
}
