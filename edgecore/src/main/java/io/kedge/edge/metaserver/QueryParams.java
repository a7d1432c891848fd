package io.kedge.edge.metaserver;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A request's query parameters, decoded as Go's {@code url.ParseQuery} does. Typed getters parse as
 * the apiserver does (booleans with Go's {@code strconv.ParseBool}: {@code 1 t T TRUE true True}
 * and the false forms, so python's {@code watch=True} works) and throw a 400 {@link ApiException}
 * on malformed values.
 */
public final class QueryParams {
  private final String raw;
  private final Map<String, List<String>> values;

  private QueryParams(String raw, Map<String, List<String>> values) {
    this.raw = raw;
    this.values = values;
  }

  public static QueryParams parse(String raw) {
    Map<String, List<String>> m = new LinkedHashMap<>();
    String r = raw == null ? "" : raw;
    if (!r.isEmpty()) {
      for (String kv : r.split("&", -1)) {
        if (kv.isEmpty()) {
          continue;
        }
        int eq = kv.indexOf('=');
        String k = decode(eq < 0 ? kv : kv.substring(0, eq));
        String v = eq < 0 ? "" : decode(kv.substring(eq + 1));
        m.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
      }
    }
    return new QueryParams(r, m);
  }

  /** The query exactly as received (without '?'). */
  public String raw() {
    return raw;
  }

  public boolean has(String name) {
    return values.containsKey(name);
  }

  /** Every parameter with its values, in the order received. */
  public Map<String, List<String>> all() {
    return java.util.Collections.unmodifiableMap(values);
  }

  /** The first value, or null when absent. */
  public String get(String name) {
    List<String> v = values.get(name);
    return v == null || v.isEmpty() ? null : v.get(0);
  }

  public String get(String name, String dflt) {
    String v = get(name);
    return v == null ? dflt : v;
  }

  public boolean bool(String name) {
    String v = get(name);
    if (v == null) {
      return false;
    }
    return switch (v) {
      case "1", "t", "T", "TRUE", "true", "True" -> true;
      case "0", "f", "F", "FALSE", "false", "False", "" -> false;
      default ->
          throw ApiException.badRequest(
              "invalid boolean value for query parameter \"" + name + "\": \"" + v + "\"");
    };
  }

  /** A non-negative integer parameter, or {@code dflt} when absent. */
  public long nonNegative(String name, long dflt) {
    String v = get(name);
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    try {
      long n = Long.parseLong(v);
      if (n < 0) {
        throw ApiException.badRequest(
            "invalid value for query parameter \"" + name + "\": must be non-negative");
      }
      return n;
    } catch (NumberFormatException e) {
      throw ApiException.badRequest(
          "invalid value for query parameter \"" + name + "\": \"" + v + "\" is not a number");
    }
  }

  private static String decode(String s) {
    if (s.indexOf('%') < 0 && s.indexOf('+') < 0) {
      return s;
    }
    byte[] out = new byte[s.length()];
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '+') {
        out[n++] = ' ';
      } else if (c == '%') {
        if (i + 2 >= s.length()) {
          throw ApiException.badRequest("invalid URL escape in the query: \"" + s + "\"");
        }
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw ApiException.badRequest("invalid URL escape in the query: \"" + s + "\"");
        }
        out[n++] = (byte) (hi * 16 + lo);
        i += 2;
      } else if (c < 0x80) {
        out[n++] = (byte) c;
      } else {
        byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        if (n + b.length > out.length) {
          byte[] bigger = new byte[out.length + b.length + 16];
          System.arraycopy(out, 0, bigger, 0, n);
          out = bigger;
        }
        System.arraycopy(b, 0, out, n, b.length);
        n += b.length;
      }
    }
    return new String(out, 0, n, StandardCharsets.UTF_8);
  }
}
