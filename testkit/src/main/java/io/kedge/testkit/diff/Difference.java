package io.kedge.testkit.diff;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;

/** MetaServer answered otherwise than the apiserver: what differed, in words. */
final class Difference extends RuntimeException {
  Difference(String message) {
    super(message, null, false, false);
  }

  /** Where two JSON values first differ ({@code $.a.b[2]: X vs Y}); empty when they are equal. */
  static String firstDifference(JsonNode a, JsonNode b) {
    return diff("$", a, b);
  }

  private static String diff(String path, JsonNode a, JsonNode b) {
    if (a == null || b == null || a.isMissingNode() || b.isMissingNode()) {
      if ((a == null || a.isMissingNode()) && (b == null || b.isMissingNode())) {
        return "";
      }
      return path + ": " + show(a) + " vs " + show(b);
    }
    if (a.isObject() && b.isObject()) {
      TreeSet<String> keys = new TreeSet<>();
      for (Iterator<Map.Entry<String, JsonNode>> i = a.properties().iterator(); i.hasNext(); ) {
        keys.add(i.next().getKey());
      }
      for (Iterator<Map.Entry<String, JsonNode>> i = b.properties().iterator(); i.hasNext(); ) {
        keys.add(i.next().getKey());
      }
      for (String k : keys) {
        String d = diff(path + "." + k, a.get(k), b.get(k));
        if (!d.isEmpty()) {
          return d;
        }
      }
      return "";
    }
    if (a.isArray() && b.isArray()) {
      for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
        String d = diff(path + "[" + i + "]", a.get(i), b.get(i));
        if (!d.isEmpty()) {
          return d;
        }
      }
      return "";
    }
    return a.equals(b) ? "" : path + ": " + show(a) + " vs " + show(b);
  }

  private static String show(JsonNode n) {
    if (n == null || n.isMissingNode()) {
      return "(absent)";
    }
    String s = n.toString();
    return s.length() > 300 ? s.substring(0, 300) + "…" : s;
  }

  /** {@code name@rv} of each item of a list (or of each event's object, with its type). */
  static List<String> summary(List<JsonNode> objectsOrEvents) {
    List<String> out = new ArrayList<>();
    for (JsonNode n : objectsOrEvents) {
      JsonNode o = n.has("type") && n.has("object") ? n.path("object") : n;
      String head = n.has("type") && n.has("object") ? n.path("type").asString("") + " " : "";
      out.add(
          head
              + o.path("metadata").path("name").asString("?")
              + "@"
              + o.path("metadata").path("resourceVersion").asString("?"));
    }
    return out;
  }
}
