package io.kedge.edge.metaserver;

import java.util.Locale;

/**
 * Which representation to serve from the edge's own data for a request's {@code Accept} header:
 * JSON, YAML or a {@code meta.k8s.io} Table, taken in the order the client lists them (kubectl asks
 * for a Table first, then plain JSON). Protobuf and other {@code as=} conversions are not produced
 * here; when nothing else is acceptable the answer is {@link Format#NONE} (406).
 */
public final class Negotiation {
  private Negotiation() {}

  public enum Format {
    JSON,
    YAML,
    TABLE,
    NONE
  }

  public record Choice(Format format, String tableVersion, String includeObject) {
    public String contentType() {
      return format == Format.YAML ? "application/yaml" : "application/json";
    }
  }

  static final Choice JSON = new Choice(Format.JSON, "", "");

  public static Choice choose(String accept) {
    if (accept == null || accept.isBlank()) {
      return JSON;
    }
    for (String range : accept.split(",")) {
      String[] parts = range.split(";");
      String type = parts[0].trim().toLowerCase(Locale.ROOT);
      String as = "";
      String g = "";
      String v = "";
      double q = 1;
      for (int i = 1; i < parts.length; i++) {
        String p = parts[i].trim();
        int eq = p.indexOf('=');
        if (eq < 0) {
          continue;
        }
        String k = p.substring(0, eq).trim().toLowerCase(Locale.ROOT);
        String val = p.substring(eq + 1).trim();
        switch (k) {
          case "as" -> as = val;
          case "g" -> g = val;
          case "v" -> v = val;
          case "q" -> {
            try {
              q = Double.parseDouble(val);
            } catch (NumberFormatException e) {
              q = 0;
            }
          }
          default -> {}
        }
      }
      if (q <= 0) {
        continue;
      }
      boolean json =
          type.equals("application/json") || type.equals("application/*") || type.equals("*/*");
      if (json && !as.isEmpty()) {
        if (as.equals("Table")
            && g.equals("meta.k8s.io")
            && (v.equals("v1") || v.equals("v1beta1"))) {
          return new Choice(Format.TABLE, v, "");
        }
        continue; // other conversions (PartialObjectMetadata, aggregated discovery) not made here
      }
      if (json) {
        return JSON;
      }
      if (type.equals("application/yaml")) {
        return new Choice(Format.YAML, "", "");
      }
    }
    return new Choice(Format.NONE, "", "");
  }

  /** Whether plain JSON is among what the client accepts. */
  public static boolean acceptsJson(String accept) {
    if (accept == null || accept.isBlank()) {
      return true;
    }
    for (String range : accept.split(",")) {
      String[] parts = range.split(";");
      String type = parts[0].trim().toLowerCase(Locale.ROOT);
      boolean plain = true;
      for (int i = 1; i < parts.length; i++) {
        if (parts[i].trim().toLowerCase(Locale.ROOT).startsWith("as=")) {
          plain = false;
        }
      }
      if (plain
          && (type.equals("application/json")
              || type.equals("application/*")
              || type.equals("*/*"))) {
        return true;
      }
    }
    return false;
  }
}
