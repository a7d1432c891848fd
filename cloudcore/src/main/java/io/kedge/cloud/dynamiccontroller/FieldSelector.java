package io.kedge.cloud.dynamiccontroller;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * A Kubernetes field selector: comma-separated {@code path=value}, {@code path==value}, {@code
 * path!=value} terms ({@code \,}, {@code \=} and {@code \\} escape), evaluated against the object's
 * JSON ({@code metadata.name}, {@code metadata.namespace}, {@code spec.nodeName}, ...); a missing
 * field reads as the empty string.
 */
public final class FieldSelector {
  private record Term(String[] path, boolean equals, String value, String field) {}

  private static final FieldSelector EVERYTHING = new FieldSelector(List.of(), "");

  private final List<Term> terms;
  private final String text;

  private FieldSelector(List<Term> terms, String text) {
    this.terms = terms;
    this.text = text;
  }

  public static FieldSelector everything() {
    return EVERYTHING;
  }

  public static FieldSelector parse(String s) {
    if (s == null || s.isBlank()) {
      return EVERYTHING;
    }
    List<Term> out = new ArrayList<>();
    for (String term : split(s, ',')) {
      out.add(term(term));
    }
    return new FieldSelector(List.copyOf(out), s);
  }

  private static Term term(String t) {
    int i = 0;
    StringBuilder field = new StringBuilder();
    while (i < t.length()) {
      char c = t.charAt(i);
      if (c == '\\' && i + 1 < t.length()) {
        field.append(t.charAt(i + 1));
        i += 2;
        continue;
      }
      if (c == '=' || c == '!') {
        break;
      }
      field.append(c);
      i++;
    }
    String op;
    if (t.startsWith("!=", i)) {
      op = "!=";
    } else if (t.startsWith("==", i)) {
      op = "==";
    } else if (t.startsWith("=", i)) {
      op = "=";
    } else {
      throw new IllegalArgumentException(
          "invalid selector: '" + t + "'; can't understand '" + t + "'");
    }
    String value = unescape(t.substring(i + op.length()));
    String f = field.toString().trim();
    if (f.isEmpty()) {
      throw new IllegalArgumentException("invalid selector: '" + t + "': empty field name");
    }
    return new Term(f.split("\\."), !op.equals("!="), value, f);
  }

  private static String unescape(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length()) {
        b.append(s.charAt(++i));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  private static List<String> split(String s, char sep) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length()) {
        cur.append(c).append(s.charAt(++i));
      } else if (c == sep) {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    out.add(cur.toString());
    return out;
  }

  public boolean matches(JsonNode object) {
    for (Term t : terms) {
      JsonNode n = object;
      for (String p : t.path) {
        n = n.path(p);
      }
      String v = n.isMissingNode() || n.isNull() ? "" : n.asString("");
      if (n.isBoolean() || n.isNumber()) {
        v = n.toString();
      }
      if (v.equals(t.value) != t.equals) {
        return false;
      }
    }
    return true;
  }

  /** The value required for {@code field} by an equality term, or null. */
  public String required(String field) {
    for (Term t : terms) {
      if (t.equals && t.field.equals(field)) {
        return t.value;
      }
    }
    return null;
  }

  public boolean isEverything() {
    return terms.isEmpty();
  }

  @Override
  public String toString() {
    return text;
  }
}
