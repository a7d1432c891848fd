package io.kedge.edge.auth;

import io.kedge.protocol.Json;
import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * A JSON Web Key Set ({@code /openid/v1/jwks} of the service-account issuer) as Java public keys.
 * RSA ({@code kty: RSA}) and EC P-256/P-384/P-521 ({@code kty: EC}) keys are read; keys of other
 * types, or with {@code use} other than {@code sig}, are skipped (and counted), never fatal.
 *
 * @param keys the usable keys, in document order
 * @param skipped how many entries could not be used
 * @param json the document as received (what is cached)
 */
public record Jwks(List<Key> keys, int skipped, String json) {

  /** One verification key. {@code kid} may be empty. */
  public record Key(String kid, String alg, PublicKey publicKey) {}

  public Jwks {
    keys = List.copyOf(keys);
  }

  public static Jwks of(List<Key> keys) {
    return new Jwks(keys, 0, "");
  }

  public boolean isEmpty() {
    return keys.isEmpty();
  }

  /** Keys a token with header {@code kid} may be signed with: the matching one, or all if none. */
  public List<Key> candidates(String kid) {
    if (kid != null && !kid.isEmpty()) {
      List<Key> m = keys.stream().filter(k -> kid.equals(k.kid())).toList();
      if (!m.isEmpty()) {
        return m;
      }
    }
    return keys;
  }

  /**
   * Parses a JWKS document.
   *
   * @throws IllegalArgumentException when the text is not a JWKS at all
   */
  public static Jwks parse(String json) {
    JsonNode root;
    try {
      root = Json.parse(json);
    } catch (JacksonException e) {
      throw new IllegalArgumentException("JWKS is not JSON: " + e.getOriginalMessage(), e);
    }
    JsonNode arr = root == null ? null : root.get("keys");
    if (arr == null || !arr.isArray()) {
      throw new IllegalArgumentException("JWKS has no \"keys\" array");
    }
    List<Key> keys = new ArrayList<>();
    int skipped = 0;
    for (JsonNode k : arr) {
      try {
        Key key = key(k);
        if (key == null) {
          skipped++;
        } else {
          keys.add(key);
        }
      } catch (IllegalArgumentException | GeneralSecurityException e) {
        skipped++;
      }
    }
    return new Jwks(keys, skipped, json);
  }

  private static Key key(JsonNode k) throws GeneralSecurityException {
    if (!k.isObject()) {
      return null;
    }
    String use = text(k, "use");
    if (!use.isEmpty() && !"sig".equals(use)) {
      return null;
    }
    String kty = text(k, "kty");
    String kid = text(k, "kid");
    String alg = text(k, "alg");
    return switch (kty) {
      case "RSA" -> {
        BigInteger n = unsigned(text(k, "n"));
        BigInteger e = unsigned(text(k, "e"));
        yield new Key(
            kid, alg, KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(n, e)));
      }
      case "EC" -> {
        String curve =
            switch (text(k, "crv")) {
              case "P-256" -> "secp256r1";
              case "P-384" -> "secp384r1";
              case "P-521" -> "secp521r1";
              default -> null;
            };
        if (curve == null) {
          yield null;
        }
        AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
        p.init(new ECGenParameterSpec(curve));
        ECParameterSpec spec = p.getParameterSpec(ECParameterSpec.class);
        ECPoint w = new ECPoint(unsigned(text(k, "x")), unsigned(text(k, "y")));
        yield new Key(
            kid, alg, KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(w, spec)));
      }
      default -> null;
    };
  }

  private static BigInteger unsigned(String b64url) {
    if (b64url.isEmpty()) {
      throw new IllegalArgumentException("missing key parameter");
    }
    return new BigInteger(1, Base64.getUrlDecoder().decode(b64url));
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v != null && v.isString() ? v.stringValue() : "";
  }

  /** A JWKS document for keys (tests, and the edge's cached copy of configured key files). */
  public static String toJson(Map<String, PublicKey> keysByKid) {
    StringBuilder sb = new StringBuilder("{\"keys\":[");
    boolean first = true;
    Base64.Encoder enc = Base64.getUrlEncoder().withoutPadding();
    for (Map.Entry<String, PublicKey> e : keysByKid.entrySet()) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      PublicKey pk = e.getValue();
      sb.append("{\"use\":\"sig\",\"kid\":\"").append(e.getKey()).append('"');
      if (pk instanceof java.security.interfaces.RSAPublicKey rsa) {
        sb.append(",\"kty\":\"RSA\",\"alg\":\"RS256\",\"n\":\"")
            .append(enc.encodeToString(magnitude(rsa.getModulus())))
            .append("\",\"e\":\"")
            .append(enc.encodeToString(magnitude(rsa.getPublicExponent())))
            .append('"');
      } else if (pk instanceof java.security.interfaces.ECPublicKey ec) {
        int bits = ec.getParams().getCurve().getField().getFieldSize();
        String crv = bits == 256 ? "P-256" : bits == 384 ? "P-384" : "P-521";
        String alg = bits == 256 ? "ES256" : bits == 384 ? "ES384" : "ES512";
        int len = (bits + 7) / 8;
        sb.append(",\"kty\":\"EC\",\"alg\":\"")
            .append(alg)
            .append("\",\"crv\":\"")
            .append(crv)
            .append("\",\"x\":\"")
            .append(enc.encodeToString(fixed(ec.getW().getAffineX(), len)))
            .append("\",\"y\":\"")
            .append(enc.encodeToString(fixed(ec.getW().getAffineY(), len)))
            .append('"');
      } else {
        throw new IllegalArgumentException("unsupported key type " + pk.getAlgorithm());
      }
      sb.append('}');
    }
    return sb.append("]}").toString();
  }

  private static byte[] magnitude(BigInteger v) {
    byte[] b = v.toByteArray();
    if (b.length > 1 && b[0] == 0) {
      return java.util.Arrays.copyOfRange(b, 1, b.length);
    }
    return b;
  }

  private static byte[] fixed(BigInteger v, int len) {
    byte[] m = magnitude(v);
    byte[] out = new byte[len];
    System.arraycopy(m, 0, out, len - m.length, m.length);
    return out;
  }

  @Override
  public String toString() {
    return "Jwks[" + keys.size() + " keys, " + skipped + " skipped]";
  }
}
