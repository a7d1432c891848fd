package io.kedge.protocol.selector;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * A Kubernetes field selector as the kube-apiserver (v1.20) reads {@code fieldSelector}:
 * comma-separated {@code field=value}, {@code field==value} and {@code field!=value} terms, all of
 * which must hold, with {@code \,} {@code \=} {@code \\} escapes in values. Which fields a resource
 * can be selected by, and what their values are, is {@link SelectableFields}' table of the
 * apiserver's; a selector it refuses is a {@link SelectorException} with the apiserver's message.
 */
public final class FieldSelector {
  /** One term, after the apiserver's renaming of the field (pods' {@code spec.host}). */
  public record Requirement(String field, boolean equal, String value) {}

  private static final FieldSelector EVERYTHING =
      new FieldSelector(List.of(), "", SelectableFields.metadataOnly());

  private final List<Requirement> terms;
  private final String text;
  private final SelectableFields fields;

  private FieldSelector(List<Requirement> terms, String text, SelectableFields fields) {
    this.terms = terms;
    this.text = text;
    this.fields = fields;
  }

  public static FieldSelector everything() {
    return EVERYTHING;
  }

  /**
   * Reads {@code text} as the apiserver reads the {@code fieldSelector} parameter of a request for
   * {@code resource}; null or empty selects everything.
   *
   * @throws SelectorException with the apiserver's message when it would refuse the selector
   */
  public static FieldSelector parse(String text, SelectableFields resource) {
    if (text == null || text.isEmpty()) {
      return EVERYTHING;
    }
    List<String> parts = splitTerms(text);
    // the apiserver sorts the terms: the first refused in that order is the one it names
    parts.sort(FieldSelector::compareCodePoints);
    List<String[]> parsed = new ArrayList<>();
    for (String part : parts) {
      if (part.isEmpty()) {
        continue;
      }
      String[] t = splitTerm(part);
      if (t == null) {
        throw new SelectorException(
            "invalid selector: '" + text + "'; can't understand '" + part + "'");
      }
      t[2] = unescape(t[2]);
      if (t[0].isEmpty() && t[2].isEmpty()) {
        continue; // "=" selects everything: the apiserver drops a term with neither side
      }
      parsed.add(t);
    }
    List<Requirement> out = new ArrayList<>();
    for (String[] t : parsed) {
      out.add(new Requirement(resource.convert(t[0]), !t[1].equals("!="), t[2]));
    }
    return out.isEmpty() ? EVERYTHING : new FieldSelector(List.copyOf(out), text, resource);
  }

  /**
   * Reads {@code text} as the apiserver reads it before it knows the resource (any field name is
   * taken): for what a request names ({@link #requiredValue}), as authorization looks at it.
   *
   * @throws SelectorException with the apiserver's message when it cannot read the selector
   */
  public static FieldSelector parse(String text) {
    return parse(text, SelectableFields.any());
  }

  /** {@code value} with backslash, comma and equals sign escaped, to be put in a term. */
  public static String escape(String value) {
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=");
  }

  /**
   * Whether every term holds for {@code object} (the resource's JSON as the apiserver serves it).
   */
  public boolean matches(JsonNode object) {
    for (Requirement t : terms) {
      if (fields.value(object, t.field()).equals(t.value()) != t.equal()) {
        return false;
      }
    }
    return true;
  }

  /**
   * The value an equality term requires of {@code field} (the first in the apiserver's order), or
   * null: what narrows a request to one name or one namespace.
   */
  public String requiredValue(String field) {
    for (Requirement t : terms) {
      if (t.equal() && t.field().equals(field)) {
        return t.value();
      }
    }
    return null;
  }

  public List<Requirement> requirements() {
    return terms;
  }

  public boolean isEverything() {
    return terms.isEmpty();
  }

  /** The selector as it was given. */
  @Override
  public String toString() {
    return text;
  }

  /** Go sorts strings by their UTF-8 bytes, which is code point order. */
  private static int compareCodePoints(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  /** Terms split at commas that no backslash escapes. */
  private static List<String> splitTerms(String s) {
    List<String> out = new ArrayList<>();
    int start = 0;
    boolean slash = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (slash) {
        slash = false;
      } else if (c == '\\') {
        slash = true;
      } else if (c == ',') {
        out.add(s.substring(start, i));
        start = i + 1;
      }
    }
    out.add(s.substring(start));
    return out;
  }

  /** {field, operator, raw value} at the first operator ({@code !=}, {@code ==}, {@code =}). */
  private static String[] splitTerm(String term) {
    for (int i = 0; i < term.length(); i++) {
      for (String op : new String[] {"!=", "==", "="}) {
        if (term.startsWith(op, i)) {
          return new String[] {term.substring(0, i), op, term.substring(i + op.length())};
        }
      }
    }
    return null;
  }

  private static String unescape(String s) {
    if (s.indexOf('\\') < 0 && s.indexOf(',') < 0 && s.indexOf('=') < 0) {
      return s;
    }
    StringBuilder b = new StringBuilder(s.length());
    boolean slash = false;
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      i += Character.charCount(c);
      if (slash) {
        if (c != '\\' && c != ',' && c != '=') {
          throw new SelectorException(
              "invalid field selector: invalid escape sequence: \\" + Character.toString(c));
        }
        b.appendCodePoint(c);
        slash = false;
      } else if (c == '\\') {
        slash = true;
      } else if (c == ',' || c == '=') {
        // Go prints the rune as a number here
        throw new SelectorException("invalid field selector: unescaped character in value: " + c);
      } else {
        b.appendCodePoint(c);
      }
    }
    if (slash) {
      throw new SelectorException("invalid field selector: invalid escape sequence: \\");
    }
    return b.toString();
  }
}
