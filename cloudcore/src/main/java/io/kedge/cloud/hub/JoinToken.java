package io.kedge.cloud.hub;

import io.kedge.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import tools.jackson.databind.JsonNode;

/**
 * KubeEdge's join token: {@code hex(sha256(CA DER)) + "." + JWT}, the JWT signed HS256 with the
 * CA's private key (SEC1 DER) as HMAC key and carrying only {@code exp}. The edge checks the first
 * part against the CA it downloads and sends the JWT as its Bearer token.
 */
public final class JoinToken {
  private JoinToken() {}

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();
  private static final String HEADER = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

  /** A token valid until {@code now + validity}. */
  public static String create(X509Certificate ca, byte[] caKeyDer, Instant now, Duration validity) {
    String payload = "{\"exp\":" + now.plus(validity).getEpochSecond() + "}";
    String signingInput =
        B64.encodeToString(HEADER.getBytes(StandardCharsets.UTF_8))
            + "."
            + B64.encodeToString(payload.getBytes(StandardCharsets.UTF_8));
    return caHash(ca) + "." + signingInput + "." + B64.encodeToString(hmac(caKeyDer, signingInput));
  }

  /** hex(sha256(DER)) of the CA certificate. */
  public static String caHash(X509Certificate ca) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(ca.getEncoded()));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new IllegalStateException("cannot hash the CA certificate", e);
    }
  }

  /**
   * Why {@code jwt} (the three-part Bearer token) is not valid now, or null when it is: HS256 only,
   * signature by {@code caKeyDer}, {@code exp} in the future.
   */
  public static String problem(String jwt, byte[] caKeyDer, Instant now) {
    if (jwt == null || jwt.isBlank()) {
      return "no token";
    }
    String[] parts = jwt.strip().split("\\.", -1);
    if (parts.length != 3) {
      return "malformed token";
    }
    JsonNode header;
    JsonNode claims;
    byte[] sig;
    try {
      header = Json.parse(B64D.decode(parts[0]));
      claims = Json.parse(B64D.decode(parts[1]));
      sig = B64D.decode(parts[2]);
    } catch (RuntimeException e) {
      return "malformed token";
    }
    if (!"HS256".equals(header.path("alg").asString(""))) {
      return "token algorithm is not HS256";
    }
    byte[] expected = hmac(caKeyDer, parts[0] + "." + parts[1]);
    if (!MessageDigest.isEqual(expected, sig)) {
      return "token signature is invalid";
    }
    JsonNode exp = claims.path("exp");
    if (!exp.isNumber()) {
      return "token has no expiry";
    }
    if (exp.asLong() <= now.getEpochSecond()) {
      return "token expired";
    }
    return null;
  }

  private static byte[] hmac(byte[] key, String input) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(input.getBytes(StandardCharsets.US_ASCII));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] der(X509Certificate c) {
    try {
      return c.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }
}
