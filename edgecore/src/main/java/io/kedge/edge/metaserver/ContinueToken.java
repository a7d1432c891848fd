package io.kedge.edge.metaserver;

import io.kedge.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A list's {@code continue} token in the apiserver's own format (base64url of {@code
 * {"v":"meta.k8s.io/v1","rv":N,"start":"<key>\u0000"}}, the key relative to the listed scope), so
 * that a token issued by the apiserver can be continued from the edge's cache and the other way
 * round.
 *
 * @param resourceVersion the version the first page was read at
 * @param start where the next page starts, relative to the scope: {@code name\0} in a namespace,
 *     {@code ns/name\0} across namespaces
 */
public record ContinueToken(long resourceVersion, String start) {

  static final String VERSION = "meta.k8s.io/v1";

  public static ContinueToken after(long resourceVersion, String lastKey) {
    return new ContinueToken(resourceVersion, lastKey + "\u0000");
  }

  public String encode() {
    ObjectNode n = Json.object();
    n.put("v", VERSION);
    n.put("rv", resourceVersion);
    n.put("start", start);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(Json.bytes(n));
  }

  /** The last key already returned ({@code start} without its trailing NUL). */
  public String lastKey() {
    return start.endsWith("\u0000") ? start.substring(0, start.length() - 1) : start;
  }

  public static ContinueToken decode(String token) {
    JsonNode n;
    try {
      String t = token.replace('+', '-').replace('/', '_');
      while (t.endsWith("=")) {
        t = t.substring(0, t.length() - 1);
      }
      n = Json.parse(new String(Base64.getUrlDecoder().decode(t), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw invalid("could not decode the continue token");
    }
    if (!VERSION.equals(n.path("v").asString(""))) {
      throw invalid("incorrect encoded start resourceVersion (version " + VERSION + ")");
    }
    long rv = n.path("rv").asLong(0);
    if (rv <= 0) {
      throw invalid("incorrect encoded start resourceVersion (version " + VERSION + ")");
    }
    String start = n.path("start").asString("");
    if (start.isEmpty()) {
      throw invalid("encoded start key empty");
    }
    for (String seg : start.split("/", -1)) {
      if (seg.equals("..") || seg.equals(".")) {
        throw invalid(start);
      }
    }
    return new ContinueToken(rv, start);
  }

  private static ApiException invalid(String why) {
    return ApiException.badRequest("continue key is not valid: " + why);
  }
}
