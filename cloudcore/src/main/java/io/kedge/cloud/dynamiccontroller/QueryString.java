package io.kedge.cloud.dynamiccontroller;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A URL query as Go's {@code url.ParseQuery} reads it: {@code &}-separated, {@code +} is a space,
 * percent-escapes decoded, repeated names kept in order.
 */
public final class QueryString {
  private final List<String[]> pairs;

  private QueryString(List<String[]> pairs) {
    this.pairs = pairs;
  }

  public static QueryString parse(String raw) {
    List<String[]> out = new ArrayList<>();
    if (raw != null && !raw.isEmpty()) {
      for (String part : raw.split("&")) {
        if (part.isEmpty()) {
          continue;
        }
        int eq = part.indexOf('=');
        String k = eq < 0 ? part : part.substring(0, eq);
        String v = eq < 0 ? "" : part.substring(eq + 1);
        out.add(new String[] {decode(k), decode(v)});
      }
    }
    return new QueryString(out);
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s; // a malformed escape is left as it is; the apiserver will answer for it
    }
  }

  /** The first value of {@code name}, or null. */
  public String get(String name) {
    for (String[] p : pairs) {
      if (p[0].equals(name)) {
        return p[1];
      }
    }
    return null;
  }

  /** A boolean parameter as Go's strconv.ParseBool reads it (python sends {@code True}). */
  public boolean flag(String name) {
    String v = get(name);
    if (v == null) {
      return false;
    }
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "1", "t", "true" -> true;
      default -> false;
    };
  }

  public boolean isEmpty() {
    return pairs.isEmpty();
  }

  /** Builds a query string from name/value pairs (values encoded). */
  public static String encode(List<String[]> pairs) {
    StringBuilder b = new StringBuilder();
    for (String[] p : pairs) {
      if (b.length() > 0) {
        b.append('&');
      }
      b.append(URLEncoder.encode(p[0], StandardCharsets.UTF_8))
          .append('=')
          .append(URLEncoder.encode(p[1], StandardCharsets.UTF_8));
    }
    return b.toString();
  }
}
