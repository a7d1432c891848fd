package io.kedge.cloud.hub;

import io.kedge.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import tools.jackson.databind.JsonNode;

/**
 * Compares a message content Kedge sent with the one KubeEdge recorded by shape: every key the
 * recording has must be there, with a value of the same JSON type (null, string, number, boolean,
 * object, array), recursively; values that say what happened ({@code kind}, {@code apiVersion},
 * {@code code}, {@code reason}, {@code status}, Application {@code Verb} and {@code Status}) must
 * be equal. Everything else — UIDs, times, versions, certificates, tokens — differs by nature and
 * is compared by type only. Extra keys are allowed (KubeEdge's Go decoders ignore them).
 *
 * <p>Arrays: every recorded element needs an element of the same shape in Kedge's array, at any
 * position (RBAC bindings, conditions and taints need not come in the same order or number). An
 * empty array where the recording has elements is a difference. Base64 fields of Applications
 * ({@code Option}, {@code ReqBody}, {@code RespBody}) are decoded and their JSON compared the same
 * way. {@code managedFields} is compared as an array only: its entries name the client that wrote
 * each field (client-go in KubeEdge, fabric8 in Kedge).
 *
 * <p>Differences a caller tolerates (Kedge's deliberate ones) do not make elements differ; they are
 * handed to the caller apart.
 */
public final class ShapeDiff {
  private ShapeDiff() {}

  static final Set<String> EXACT =
      Set.of("kind", "apiVersion", "code", "reason", "status", "Verb", "Status");
  static final Set<String> BASE64_JSON = Set.of("Option", "ReqBody", "RespBody");

  /** The differences, each {@code path: what}; empty when the shapes agree. */
  public static List<String> of(JsonNode recorded, JsonNode got) {
    return of(recorded, got, d -> false, new ArrayList<>());
  }

  /**
   * @param tolerated differences that do not count (collected in {@code toleratedOut})
   */
  public static List<String> of(
      JsonNode recorded, JsonNode got, Predicate<String> tolerated, List<String> toleratedOut) {
    List<String> all = new ArrayList<>();
    compare("$", null, recorded, got, all, tolerated);
    List<String> out = new ArrayList<>();
    for (String d : all) {
      (tolerated.test(d) ? toleratedOut : out).add(d);
    }
    return out;
  }

  private static void compare(
      String path,
      String key,
      JsonNode want,
      JsonNode got,
      List<String> out,
      Predicate<String> tolerated) {
    if (got == null || got.isMissingNode()) {
      out.add(path + ": missing (recorded " + type(want) + ")");
      return;
    }
    if (key != null && BASE64_JSON.contains(key) && want.isString() && got.isString()) {
      JsonNode w = decoded(want.asString());
      JsonNode g = decoded(got.asString());
      if (w != null && g != null) {
        compare(path + "(base64)", null, w, g, out, tolerated);
        return;
      }
    }
    if (!type(want).equals(type(got))) {
      out.add(path + ": " + type(got) + ", recorded " + type(want) + " " + brief(want));
      return;
    }
    if ("managedFields".equals(key)) {
      return;
    }
    if (want.isObject()) {
      for (Map.Entry<String, JsonNode> e : want.properties()) {
        compare(
            path + "." + e.getKey(), e.getKey(), e.getValue(), got.get(e.getKey()), out, tolerated);
      }
    } else if (want.isArray()) {
      if (!want.isEmpty() && got.isEmpty()) {
        out.add(path + ": empty, recorded " + want.size() + " elements");
        return;
      }
      for (int i = 0; i < want.size(); i++) {
        String at = path + "[" + i + "]";
        List<String> best = null;
        for (int j = 0; j < got.size(); j++) {
          List<String> d = new ArrayList<>();
          compare(at, null, want.get(i), got.get(j), d, tolerated);
          List<String> counted = d.stream().filter(x -> !tolerated.test(x)).toList();
          if (counted.isEmpty()) {
            best = d;
            break;
          }
          if (best == null || j == Math.min(i, got.size() - 1)) {
            best = d; // reported against the element at the same position
          }
        }
        out.addAll(best);
      }
    } else if (key != null && EXACT.contains(key) && !want.equals(got)) {
      out.add(path + ": " + got + ", recorded " + want);
    }
  }

  private static JsonNode decoded(String base64) {
    try {
      return Json.parse(new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      return null;
    }
  }

  static String type(JsonNode n) {
    if (n.isNull()) {
      return "null";
    }
    if (n.isString()) {
      return "string";
    }
    if (n.isNumber()) {
      return "number";
    }
    if (n.isBoolean()) {
      return "boolean";
    }
    if (n.isObject()) {
      return "object";
    }
    if (n.isArray()) {
      return "array";
    }
    return n.getNodeType().toString();
  }

  private static String brief(JsonNode n) {
    String s = n.toString();
    return s.length() > 80 ? s.substring(0, 80) + "…" : s;
  }
}
