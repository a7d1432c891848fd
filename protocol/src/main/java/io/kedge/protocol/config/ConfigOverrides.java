package io.kedge.protocol.config;

import io.kedge.protocol.Json;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code --set} overrides in Helm's syntax, as keadm takes them: {@code a.b.c=v}, several separated
 * by commas ({@code a=1,b=2}), list items as {@code a.b[0]=x} or a whole list as {@code a.b={x,y}}.
 * Values {@code true}/{@code false} are booleans, integers are numbers, anything else a string.
 */
public final class ConfigOverrides {
  private ConfigOverrides() {}

  /** One parsed override: a path of keys (and list indices) and a value. */
  public record Override(List<Object> path, JsonNode value, String text) {
    public String dottedPath() {
      StringBuilder b = new StringBuilder();
      for (Object p : path) {
        if (p instanceof Integer i) {
          b.append('[').append(i).append(']');
        } else {
          if (!b.isEmpty()) {
            b.append('.');
          }
          b.append(p);
        }
      }
      return b.toString();
    }
  }

  /** Splits {@code a=1,b={x,y},c=3} at the commas that separate entries. */
  public static List<Override> parse(String arg) {
    List<Override> out = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i <= arg.length(); i++) {
      char c = i < arg.length() ? arg.charAt(i) : ',';
      if (c == '{') {
        depth++;
      } else if (c == '}') {
        depth--;
      } else if (c == ',' && depth == 0) {
        String entry = arg.substring(start, i).trim();
        if (!entry.isEmpty()) {
          out.add(parseOne(entry));
        }
        start = i + 1;
      }
    }
    return out;
  }

  private static Override parseOne(String entry) {
    int eq = entry.indexOf('=');
    if (eq <= 0) {
      throw new ConfigException("--set " + entry + ": expected key=value");
    }
    String key = entry.substring(0, eq).trim();
    String raw = entry.substring(eq + 1).trim();
    List<Object> path = new ArrayList<>();
    for (String part : key.split("\\.", -1)) {
      if (part.isEmpty()) {
        throw new ConfigException("--set " + entry + ": empty key segment in '" + key + "'");
      }
      int b = part.indexOf('[');
      String name = b < 0 ? part : part.substring(0, b);
      if (!name.isEmpty()) {
        path.add(name);
      }
      while (b >= 0) {
        int e = part.indexOf(']', b);
        if (e < 0) {
          throw new ConfigException("--set " + entry + ": unclosed '[' in '" + key + "'");
        }
        try {
          path.add(Integer.parseInt(part.substring(b + 1, e)));
        } catch (NumberFormatException ex) {
          throw new ConfigException("--set " + entry + ": list index must be a number");
        }
        b = part.indexOf('[', e);
      }
    }
    return new Override(path, value(raw), entry);
  }

  static JsonNode value(String raw) {
    if (raw.startsWith("{") && raw.endsWith("}")) {
      ArrayNode a = Json.NODES.arrayNode();
      String inner = raw.substring(1, raw.length() - 1).trim();
      if (!inner.isEmpty()) {
        for (String item : inner.split(",")) {
          a.add(value(item.trim()));
        }
      }
      return a;
    }
    if ("true".equals(raw) || "false".equals(raw)) {
      return Json.NODES.booleanNode(Boolean.parseBoolean(raw));
    }
    if (raw.matches("-?\\d{1,18}")) {
      return Json.NODES.numberNode(Long.parseLong(raw));
    }
    if (raw.length() >= 2 && raw.startsWith("\"") && raw.endsWith("\"")) {
      return Json.NODES.stringNode(raw.substring(1, raw.length() - 1));
    }
    return Json.NODES.stringNode(raw);
  }

  /** Applies {@code o} to {@code root}, creating objects and list slots as needed. */
  public static void apply(ObjectNode root, Override o) {
    JsonNode node = root;
    List<Object> p = o.path();
    for (int i = 0; i < p.size(); i++) {
      Object step = p.get(i);
      boolean last = i == p.size() - 1;
      Object next = last ? null : p.get(i + 1);
      if (step instanceof String key) {
        if (!(node instanceof ObjectNode obj)) {
          throw new ConfigException("--set " + o.text() + ": '" + key + "' is not inside a map");
        }
        if (last) {
          obj.set(key, o.value());
          return;
        }
        JsonNode child = obj.get(key);
        if (child == null || child.isNull() || !(child.isObject() || child.isArray())) {
          child = next instanceof Integer ? Json.NODES.arrayNode() : Json.object();
          obj.set(key, child);
        }
        node = child;
      } else {
        int idx = (Integer) step;
        if (!(node instanceof ArrayNode arr)) {
          throw new ConfigException("--set " + o.text() + ": index [" + idx + "] on a non-list");
        }
        while (arr.size() <= idx) {
          arr.addNull();
        }
        if (last) {
          arr.set(idx, o.value());
          return;
        }
        JsonNode child = arr.get(idx);
        if (child == null || child.isNull()) {
          child = next instanceof Integer ? Json.NODES.arrayNode() : Json.object();
          arr.set(idx, child);
        }
        node = child;
      }
    }
  }
}
