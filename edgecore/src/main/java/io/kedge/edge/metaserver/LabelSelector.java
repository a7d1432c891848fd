package io.kedge.edge.metaserver;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;

/**
 * A Kubernetes label selector ({@code labels.Parse}): {@code k=v}, {@code k==v}, {@code k!=v},
 * {@code k in (a,b)}, {@code k notin (a,b)}, {@code k}, {@code !k}, {@code k>n}, {@code k<n},
 * comma-separated and all required. Malformed selectors are a 400 {@link ApiException}.
 */
public final class LabelSelector {
  enum Op {
    EQUALS,
    NOT_EQUALS,
    IN,
    NOT_IN,
    EXISTS,
    NOT_EXISTS,
    GT,
    LT
  }

  record Requirement(String key, Op op, Set<String> values) {
    boolean matches(JsonNode labels) {
      JsonNode v = labels.get(key);
      boolean has = v != null && v.isString();
      String s = has ? v.asString() : null;
      return switch (op) {
        case EXISTS -> has;
        case NOT_EXISTS -> !has;
        case EQUALS, IN -> has && values.contains(s);
        case NOT_EQUALS, NOT_IN -> !has || !values.contains(s);
        case GT, LT -> {
          if (!has) {
            yield false;
          }
          try {
            long l = Long.parseLong(s);
            long r = Long.parseLong(values.iterator().next());
            yield op == Op.GT ? l > r : l < r;
          } catch (NumberFormatException e) {
            yield false;
          }
        }
      };
    }
  }

  private static final LabelSelector EVERYTHING = new LabelSelector(List.of(), "");

  private final List<Requirement> requirements;
  private final String text;

  private LabelSelector(List<Requirement> requirements, String text) {
    this.requirements = requirements;
    this.text = text;
  }

  public static LabelSelector everything() {
    return EVERYTHING;
  }

  public boolean isEverything() {
    return requirements.isEmpty();
  }

  /** Whether {@code object}'s {@code metadata.labels} satisfy every requirement. */
  public boolean matches(JsonNode object) {
    if (requirements.isEmpty()) {
      return true;
    }
    JsonNode labels = object.path("metadata").path("labels");
    for (Requirement r : requirements) {
      if (!r.matches(labels)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return text;
  }

  public static LabelSelector parse(String s) {
    if (s == null || s.isBlank()) {
      return EVERYTHING;
    }
    Parser p = new Parser(s);
    List<Requirement> reqs = new ArrayList<>();
    while (true) {
      reqs.add(p.requirement());
      p.skipSpace();
      if (p.done()) {
        break;
      }
      p.expect(',');
    }
    return new LabelSelector(List.copyOf(reqs), s);
  }

  private static final class Parser {
    final String s;
    int i;

    Parser(String s) {
      this.s = s;
    }

    boolean done() {
      return i >= s.length();
    }

    void skipSpace() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
    }

    ApiException error(String what) {
      return ApiException.badRequest("unable to parse requirement: " + what + " in \"" + s + "\"");
    }

    void expect(char c) {
      skipSpace();
      if (done() || s.charAt(i) != c) {
        throw error("expected '" + c + "' at position " + i);
      }
      i++;
    }

    String word() {
      skipSpace();
      int start = i;
      while (i < s.length()) {
        char c = s.charAt(i);
        if (Character.isWhitespace(c) || "=!,()<>".indexOf(c) >= 0) {
          break;
        }
        i++;
      }
      return s.substring(start, i);
    }

    Requirement requirement() {
      skipSpace();
      if (!done() && s.charAt(i) == '!') {
        i++;
        String key = validKey(word());
        return new Requirement(key, Op.NOT_EXISTS, Set.of());
      }
      String key = validKey(word());
      skipSpace();
      if (done() || s.charAt(i) == ',') {
        return new Requirement(key, Op.EXISTS, Set.of());
      }
      char c = s.charAt(i);
      if (c == '=') {
        i++;
        if (!done() && s.charAt(i) == '=') {
          i++;
        }
        return new Requirement(key, Op.EQUALS, Set.of(validValue(word())));
      }
      if (c == '!') {
        i++;
        if (done() || s.charAt(i) != '=') {
          throw error("expected '=' after '!'");
        }
        i++;
        return new Requirement(key, Op.NOT_EQUALS, Set.of(validValue(word())));
      }
      if (c == '>' || c == '<') {
        i++;
        String v = word();
        try {
          Long.parseLong(v);
        } catch (NumberFormatException e) {
          throw error("for 'Gt', 'Lt' operators, the value must be an integer");
        }
        return new Requirement(key, c == '>' ? Op.GT : Op.LT, Set.of(v));
      }
      String op = word();
      Op o;
      if (op.equals("in")) {
        o = Op.IN;
      } else if (op.equals("notin")) {
        o = Op.NOT_IN;
      } else {
        throw error("found '" + op + "', expected: in, notin, =, ==, !=, gt, lt");
      }
      expect('(');
      Set<String> values = new TreeSet<>();
      skipSpace();
      if (!done() && s.charAt(i) == ')') {
        throw error("for 'in', 'notin' operators, values set can't be empty");
      }
      while (true) {
        values.add(validValue(word()));
        skipSpace();
        if (!done() && s.charAt(i) == ')') {
          i++;
          break;
        }
        expect(',');
      }
      return new Requirement(key, o, Set.copyOf(values));
    }

    String validKey(String k) {
      if (k.isEmpty()) {
        throw error("missing label key");
      }
      int slash = k.indexOf('/');
      String name = k;
      if (slash >= 0) {
        String prefix = k.substring(0, slash);
        name = k.substring(slash + 1);
        if (prefix.isEmpty()
            || prefix.length() > 253
            || !prefix.matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?")) {
          throw error("invalid label key \"" + k + "\": prefix must be a DNS subdomain");
        }
      }
      if (!qualifiedName(name)) {
        throw error(
            "invalid label key \""
                + k
                + "\": name part must consist of alphanumeric characters, '-', '_' or '.', and"
                + " must start and end with an alphanumeric character");
      }
      return k;
    }

    String validValue(String v) {
      if (!v.isEmpty() && !qualifiedName(v)) {
        throw error(
            "invalid label value: \""
                + v
                + "\": a valid label must be an empty string or consist of alphanumeric"
                + " characters, '-', '_' or '.', and must start and end with an alphanumeric"
                + " character");
      }
      return v;
    }

    static boolean qualifiedName(String n) {
      return n.length() <= 63 && n.matches("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");
    }
  }
}
