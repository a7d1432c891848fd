package io.kedge.cloud.dynamiccontroller;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * A Kubernetes label selector: comma-separated requirements {@code k}, {@code !k}, {@code k=v},
 * {@code k==v}, {@code k!=v}, {@code k in (a,b)}, {@code k notin (a,b)}, {@code k>n}, {@code k<n}.
 */
public final class LabelSelector {
  private static final String KEY = "([A-Za-z0-9][-A-Za-z0-9_./]*)";
  private static final String VALUE = "([-A-Za-z0-9_.]*)";
  private static final Pattern EXISTS = Pattern.compile("\\s*" + KEY + "\\s*");
  private static final Pattern NOT_EXISTS = Pattern.compile("\\s*!\\s*" + KEY + "\\s*");
  private static final Pattern EQUALITY =
      Pattern.compile("\\s*" + KEY + "\\s*(==|=|!=)\\s*" + VALUE + "\\s*");
  private static final Pattern SET =
      Pattern.compile("\\s*" + KEY + "\\s+(in|notin)\\s*\\(([^()]*)\\)\\s*");
  private static final Pattern ORDER = Pattern.compile("\\s*" + KEY + "\\s*([<>])\\s*(-?\\d+)\\s*");
  private static final Pattern VALUE_ONLY = Pattern.compile(VALUE);

  private enum Op {
    EXISTS,
    NOT_EXISTS,
    EQUALS,
    NOT_EQUALS,
    IN,
    NOT_IN,
    GT,
    LT
  }

  private record Requirement(String key, Op op, Set<String> values, long number) {}

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

  /** Parses a selector; {@link IllegalArgumentException} names the requirement it cannot read. */
  public static LabelSelector parse(String s) {
    if (s == null || s.isBlank()) {
      return EVERYTHING;
    }
    List<Requirement> reqs = new ArrayList<>();
    for (String part : splitTopLevel(s)) {
      reqs.add(requirement(part));
    }
    return new LabelSelector(List.copyOf(reqs), s);
  }

  private static Requirement requirement(String r) {
    Matcher m;
    if ((m = SET.matcher(r)).matches()) {
      Set<String> vals = new java.util.HashSet<>();
      for (String v : m.group(3).split(",", -1)) {
        String t = v.trim();
        if (!VALUE_ONLY.matcher(t).matches()) {
          throw bad(r);
        }
        vals.add(t);
      }
      return new Requirement(m.group(1), m.group(2).equals("in") ? Op.IN : Op.NOT_IN, vals, 0);
    }
    if ((m = EQUALITY.matcher(r)).matches()) {
      Op op = m.group(2).equals("!=") ? Op.NOT_EQUALS : Op.EQUALS;
      return new Requirement(m.group(1), op, Set.of(m.group(3)), 0);
    }
    if ((m = ORDER.matcher(r)).matches()) {
      return new Requirement(
          m.group(1), m.group(2).equals(">") ? Op.GT : Op.LT, Set.of(), Long.parseLong(m.group(3)));
    }
    if ((m = NOT_EXISTS.matcher(r)).matches()) {
      return new Requirement(m.group(1), Op.NOT_EXISTS, Set.of(), 0);
    }
    if ((m = EXISTS.matcher(r)).matches()) {
      return new Requirement(m.group(1), Op.EXISTS, Set.of(), 0);
    }
    throw bad(r);
  }

  private static IllegalArgumentException bad(String r) {
    return new IllegalArgumentException("unable to parse requirement: \"" + r.trim() + "\"");
  }

  private static List<String> splitTopLevel(String s) {
    List<String> out = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == ',' && depth == 0) {
        out.add(s.substring(start, i));
        start = i + 1;
      }
    }
    out.add(s.substring(start));
    return out;
  }

  /** Whether an object's {@code metadata.labels} satisfy every requirement. */
  public boolean matches(JsonNode object) {
    if (requirements.isEmpty()) {
      return true;
    }
    JsonNode labels = object.path("metadata").path("labels");
    for (Requirement r : requirements) {
      JsonNode v = labels.get(r.key);
      boolean has = v != null && !v.isNull();
      String val = has ? v.asString("") : null;
      boolean ok =
          switch (r.op) {
            case EXISTS -> has;
            case NOT_EXISTS -> !has;
            case EQUALS, IN -> has && r.values.contains(val);
            case NOT_EQUALS, NOT_IN -> !has || !r.values.contains(val);
            case GT, LT -> has && compare(val, r);
          };
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static boolean compare(String val, Requirement r) {
    try {
      long n = Long.parseLong(val);
      return r.op == Op.GT ? n > r.number : n < r.number;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  public boolean isEverything() {
    return requirements.isEmpty();
  }

  @Override
  public String toString() {
    return text;
  }
}
