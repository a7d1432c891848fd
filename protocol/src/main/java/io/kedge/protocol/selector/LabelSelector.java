package io.kedge.protocol.selector;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;

/**
 * A Kubernetes label selector as the kube-apiserver (v1.20) reads {@code labelSelector}:
 * comma-separated requirements, all of which must hold — {@code k}, {@code !k}, {@code k=v}, {@code
 * k==v}, {@code k!=v}, {@code k in (a,b)}, {@code k notin (a,b)}, {@code k>n}, {@code k<n}. Keys
 * and values are validated as the apiserver validates them; a selector it refuses is a {@link
 * SelectorException} with the apiserver's message. The one implementation both sides use: the cloud
 * to decide which events reach an edge, the edge to decide what its clients see.
 */
public final class LabelSelector {
  public enum Operator {
    EXISTS,
    DOES_NOT_EXIST,
    EQUALS,
    NOT_EQUALS,
    IN,
    NOT_IN,
    GREATER_THAN,
    LESS_THAN
  }

  /** One requirement; {@code values} sorted ({@code =}, {@code !=}, {@code >}, {@code <}: one). */
  public record Requirement(String key, Operator operator, List<String> values) {
    public Requirement {
      values = List.copyOf(values);
    }

    boolean matches(JsonNode labels) {
      JsonNode v = labels.get(key);
      boolean has = v != null && v.isString();
      String s = has ? v.asString() : null;
      return switch (operator) {
        case EXISTS -> has;
        case DOES_NOT_EXIST -> !has;
        case EQUALS, IN -> has && values.contains(s);
        case NOT_EQUALS, NOT_IN -> !has || !values.contains(s);
        case GREATER_THAN, LESS_THAN -> has && compares(s);
      };
    }

    private boolean compares(String label) {
      long l;
      try {
        l = Long.parseLong(label);
      } catch (NumberFormatException e) {
        return false; // the apiserver's ParseInt fails the same way: no match, not an error
      }
      long r = Long.parseLong(values.get(0)); // checked when parsed
      return operator == Operator.GREATER_THAN ? l > r : l < r;
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

  /**
   * Reads {@code text} as the apiserver reads the {@code labelSelector} parameter; null or empty
   * selects everything.
   *
   * @throws SelectorException with the apiserver's message when it would refuse the selector
   */
  public static LabelSelector parse(String text) {
    if (text == null || text.isEmpty()) {
      return EVERYTHING;
    }
    List<Requirement> reqs = new Parser(new Lexer(text).scan()).parse();
    return reqs.isEmpty() ? EVERYTHING : new LabelSelector(List.copyOf(reqs), text);
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

  public List<Requirement> requirements() {
    return requirements;
  }

  public boolean isEverything() {
    return requirements.isEmpty();
  }

  /** The selector as it was given. */
  @Override
  public String toString() {
    return text;
  }

  // ------------------------------------------------------------------ the apiserver's grammar

  private enum Token {
    END,
    CLOSED_PAR,
    COMMA,
    DOES_NOT_EXIST,
    DOUBLE_EQUALS,
    EQUALS,
    GREATER_THAN,
    IDENTIFIER,
    IN,
    LESS_THAN,
    NOT_EQUALS,
    NOT_IN,
    OPEN_PAR
  }

  private record Item(Token token, String literal) {}

  private static Token keyword(String s) {
    return switch (s) {
      case ")" -> Token.CLOSED_PAR;
      case "," -> Token.COMMA;
      case "!" -> Token.DOES_NOT_EXIST;
      case "==" -> Token.DOUBLE_EQUALS;
      case "=" -> Token.EQUALS;
      case ">" -> Token.GREATER_THAN;
      case "in" -> Token.IN;
      case "<" -> Token.LESS_THAN;
      case "!=" -> Token.NOT_EQUALS;
      case "notin" -> Token.NOT_IN;
      case "(" -> Token.OPEN_PAR;
      default -> null;
    };
  }

  private static boolean special(char c) {
    return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
  }

  private static boolean space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  }

  /**
   * Splits a selector into tokens. As in the apiserver, a NUL character reads as the end of the
   * input where a token would start, and ends an identifier.
   */
  private static final class Lexer {
    private final String s;
    private int pos;

    Lexer(String s) {
      this.s = s;
    }

    private char read() {
      return pos < s.length() ? s.charAt(pos++) : 0;
    }

    List<Item> scan() {
      List<Item> items = new ArrayList<>();
      Item it;
      do {
        it = next();
        items.add(it);
      } while (it.token() != Token.END);
      return items;
    }

    private Item next() {
      char c = read();
      while (space(c)) {
        c = read();
      }
      if (c == 0) {
        return new Item(Token.END, "");
      }
      pos--;
      return special(c) ? symbol() : word();
    }

    private Item word() {
      StringBuilder b = new StringBuilder();
      for (char c = read(); c != 0; c = read()) {
        if (special(c) || space(c)) {
          pos--;
          break;
        }
        b.append(c);
      }
      String w = b.toString();
      Token t = keyword(w);
      return new Item(t == null ? Token.IDENTIFIER : t, w);
    }

    /** The longest run of symbol characters that is a token ({@code !=} over {@code !}). */
    private Item symbol() {
      StringBuilder b = new StringBuilder();
      Item last = null;
      for (char c = read(); c != 0; c = read()) {
        if (!special(c)) {
          pos--;
          break;
        }
        b.append(c);
        Token t = keyword(b.toString());
        if (t != null) {
          last = new Item(t, b.toString());
        } else if (last != null) {
          pos--;
          break;
        }
      }
      return last; // every symbol character alone is a token
    }
  }

  private static final class Parser {
    private final List<Item> items;
    private int position;

    Parser(List<Item> items) {
      this.items = items;
    }

    /** The next item; {@code in} and {@code notin} read as identifiers where values are read. */
    private Item lookahead(boolean values) {
      Item it = items.get(Math.min(position, items.size() - 1));
      if (values && (it.token() == Token.IN || it.token() == Token.NOT_IN)) {
        return new Item(Token.IDENTIFIER, it.literal());
      }
      return it;
    }

    private Item consume(boolean values) {
      Item it = lookahead(values);
      position++;
      return it;
    }

    private static SelectorException error(String message) {
      return new SelectorException(message);
    }

    List<Requirement> parse() {
      List<Requirement> out = new ArrayList<>();
      while (true) {
        Item it = lookahead(true);
        switch (it.token()) {
          case IDENTIFIER, DOES_NOT_EXIST -> {
            try {
              out.add(requirement());
            } catch (SelectorException e) {
              throw error("unable to parse requirement: " + e.getMessage());
            }
            Item after = consume(true);
            if (after.token() == Token.END) {
              return out;
            }
            if (after.token() != Token.COMMA) {
              throw error("found '" + after.literal() + "', expected: ',' or 'end of string'");
            }
            Item next = lookahead(true);
            if (next.token() != Token.IDENTIFIER && next.token() != Token.DOES_NOT_EXIST) {
              throw error("found '" + next.literal() + "', expected: identifier after ','");
            }
          }
          case END -> {
            return out;
          }
          default ->
              throw error(
                  "found '" + it.literal() + "', expected: !, identifier, or 'end of string'");
        }
      }
    }

    private Requirement requirement() {
      Operator op = null;
      Item it = consume(true);
      if (it.token() == Token.DOES_NOT_EXIST) {
        op = Operator.DOES_NOT_EXIST;
        it = consume(true);
      }
      if (it.token() != Token.IDENTIFIER) {
        throw error("found '" + it.literal() + "', expected: identifier");
      }
      String key = it.literal();
      validateKey(key);
      Token next = lookahead(true).token();
      if ((next == Token.END || next == Token.COMMA) && op == null) {
        op = Operator.EXISTS;
      }
      if (op == Operator.EXISTS || op == Operator.DOES_NOT_EXIST) {
        return new Requirement(key, op, List.of());
      }
      Item o = consume(false);
      op =
          switch (o.token()) {
            case IN -> Operator.IN;
            case EQUALS, DOUBLE_EQUALS -> Operator.EQUALS;
            case GREATER_THAN -> Operator.GREATER_THAN;
            case LESS_THAN -> Operator.LESS_THAN;
            case NOT_IN -> Operator.NOT_IN;
            case NOT_EQUALS -> Operator.NOT_EQUALS;
            default ->
                throw error("found '" + o.literal() + "', expected: '=', '!=', '==', 'in', notin'");
          };
      TreeSet<String> values =
          op == Operator.IN || op == Operator.NOT_IN ? valueSet() : exactValue();
      if (op == Operator.GREATER_THAN || op == Operator.LESS_THAN) {
        try {
          Long.parseLong(values.first());
        } catch (NumberFormatException e) {
          throw error("for 'Gt', 'Lt' operators, the value must be an integer");
        }
      }
      for (String v : values) {
        validateValue(key, v);
      }
      return new Requirement(key, op, new ArrayList<>(values));
    }

    private TreeSet<String> valueSet() {
      Item open = consume(true);
      if (open.token() != Token.OPEN_PAR) {
        throw error("found '" + open.literal() + "' expected: '('");
      }
      Item first = lookahead(true);
      switch (first.token()) {
        case IDENTIFIER, COMMA -> {
          TreeSet<String> s = identifiers();
          if (consume(true).token() != Token.CLOSED_PAR) {
            // the apiserver names the item after '(' here, not the one it found
            throw error("found '" + first.literal() + "', expected: ')'");
          }
          return s;
        }
        case CLOSED_PAR -> {
          consume(true);
          TreeSet<String> s = new TreeSet<>();
          s.add(""); // "k in ()" is k in ("")
          return s;
        }
        default -> throw error("found '" + first.literal() + "', expected: ',', ')' or identifier");
      }
    }

    /** Values between the parentheses; empty ones where commas leave a gap. */
    private TreeSet<String> identifiers() {
      TreeSet<String> s = new TreeSet<>();
      while (true) {
        Item it = consume(true);
        switch (it.token()) {
          case IDENTIFIER -> {
            s.add(it.literal());
            Item next = lookahead(true);
            if (next.token() == Token.CLOSED_PAR) {
              return s;
            }
            if (next.token() != Token.COMMA) {
              throw error("found '" + next.literal() + "', expected: ',' or ')'");
            }
          }
          case COMMA -> {
            if (s.isEmpty()) {
              s.add("");
            }
            Token next = lookahead(true).token();
            if (next == Token.CLOSED_PAR) {
              s.add("");
              return s;
            }
            if (next == Token.COMMA) {
              consume(true);
              s.add("");
            }
          }
          default -> throw error("found '" + it.literal() + "', expected: ',', or identifier");
        }
      }
    }

    private TreeSet<String> exactValue() {
      TreeSet<String> s = new TreeSet<>();
      Token next = lookahead(true).token();
      if (next == Token.END || next == Token.COMMA) {
        s.add("");
        return s;
      }
      Item it = consume(true);
      if (it.token() != Token.IDENTIFIER) {
        throw error("found '" + it.literal() + "', expected: identifier");
      }
      s.add(it.literal());
      return s;
    }
  }

  // ------------------------------------------------------------------ the apiserver's validation

  private static final String QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
  private static final String QUALIFIED_NAME_MSG =
      "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an"
          + " alphanumeric character";
  private static final String LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?";
  private static final String LABEL_VALUE_MSG =
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or"
          + " '.', and must start and end with an alphanumeric character";
  private static final String DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  private static final String DNS1123_SUBDOMAIN_FMT =
      DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*";
  private static final String DNS1123_SUBDOMAIN_MSG =
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or"
          + " '.', and must start and end with an alphanumeric character";

  private static void validateKey(String key) {
    List<String> errs = qualifiedNameErrors(key);
    if (!errs.isEmpty()) {
      throw new SelectorException(
          "invalid label key " + GoQuoting.quote(key) + ": " + String.join("; ", errs));
    }
  }

  private static void validateValue(String key, String value) {
    List<String> errs = new ArrayList<>();
    if (utf8Length(value) > 63) {
      errs.add(maxLen(63));
    }
    if (!value.isEmpty() && !qualifiedName(value)) {
      errs.add(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"));
    }
    if (!errs.isEmpty()) {
      throw new SelectorException(
          "invalid label value: "
              + GoQuoting.quote(value)
              + ": at key: "
              + GoQuoting.quote(key)
              + ": "
              + String.join("; ", errs));
    }
  }

  private static List<String> qualifiedNameErrors(String value) {
    List<String> errs = new ArrayList<>();
    String[] parts = value.split("/", -1);
    String name;
    if (parts.length == 1) {
      name = parts[0];
    } else if (parts.length == 2) {
      String prefix = parts[0];
      name = parts[1];
      if (prefix.isEmpty()) {
        errs.add("prefix part must be non-empty");
      } else {
        if (utf8Length(prefix) > 253) {
          errs.add("prefix part " + maxLen(253));
        }
        if (!dns1123Subdomain(prefix)) {
          errs.add(
              "prefix part "
                  + regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"));
        }
      }
    } else {
      errs.add(
          "a qualified name "
              + regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
              + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
      return errs;
    }
    if (name.isEmpty()) {
      errs.add("name part must be non-empty");
    } else if (utf8Length(name) > 63) {
      errs.add("name part " + maxLen(63));
    }
    if (!qualifiedName(name)) {
      errs.add(
          "name part "
              + regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc"));
    }
    return errs;
  }

  /** {@code ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]}, in linear time. */
  private static boolean qualifiedName(String s) {
    int n = s.length();
    if (n == 0 || !alnum(s.charAt(0)) || !alnum(s.charAt(n - 1))) {
      return false;
    }
    for (int i = 1; i < n - 1; i++) {
      char c = s.charAt(i);
      if (!alnum(c) && c != '-' && c != '_' && c != '.') {
        return false;
      }
    }
    return true;
  }

  /** Dot-separated labels {@code [a-z0-9]([-a-z0-9]*[a-z0-9])?}, in linear time. */
  private static boolean dns1123Subdomain(String s) {
    for (String label : s.split("\\.", -1)) {
      int n = label.length();
      if (n == 0 || !lowerAlnum(label.charAt(0)) || !lowerAlnum(label.charAt(n - 1))) {
        return false;
      }
      for (int i = 1; i < n - 1; i++) {
        char c = label.charAt(i);
        if (!lowerAlnum(c) && c != '-') {
          return false;
        }
      }
    }
    return true;
  }

  private static boolean alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  private static boolean lowerAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }

  private static String maxLen(int n) {
    return "must be no more than " + n + " characters";
  }

  /** The apiserver's wording of a pattern mismatch, examples included. */
  private static String regexError(String msg, String fmt, String... examples) {
    StringBuilder b = new StringBuilder(msg).append(" (e.g. ");
    for (int i = 0; i < examples.length; i++) {
      if (i > 0) {
        b.append(" or ");
      }
      b.append('\'').append(examples[i]).append("', ");
    }
    return b.append("regex used for validation is '").append(fmt).append("')").toString();
  }

  /** Lengths are counted in bytes, as Go counts them. */
  static int utf8Length(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n++;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }
}
