package io.kedge.edge.metaserver;

import io.kedge.edge.store.Gvr;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;

/**
 * A Kubernetes field selector ({@code fields.ParseSelector}): {@code field=value}, {@code
 * field==value}, {@code field!=value}, comma-separated, with {@code \,} {@code \=} {@code \\}
 * escapes in values. Which fields a type supports is the apiserver's per-type list ({@code
 * metadata.name} and {@code metadata.namespace} everywhere; pod {@code spec.nodeName}, {@code
 * status.phase}, …); others are a 400 as the apiserver answers them.
 */
public final class FieldSelector {
  record Term(String field, boolean equal, String value) {}

  private static final FieldSelector EVERYTHING = new FieldSelector(List.of(), "");

  private static final Map<String, Function<JsonNode, String>> COMMON =
      Map.of(
          "metadata.name", o -> o.path("metadata").path("name").asString(""),
          "metadata.namespace", o -> o.path("metadata").path("namespace").asString(""));

  /** Extra field labels per resource (group/resource), as registered in the apiserver. */
  private static final Map<String, Set<String>> PER_TYPE =
      Map.ofEntries(
          Map.entry(
              "/pods",
              Set.of(
                  "spec.nodeName",
                  "spec.restartPolicy",
                  "spec.schedulerName",
                  "spec.serviceAccountName",
                  "status.phase",
                  "status.podIP",
                  "status.nominatedNodeName")),
          Map.entry("/secrets", Set.of("type")),
          Map.entry("/nodes", Set.of("spec.unschedulable")),
          Map.entry("/namespaces", Set.of("status.phase")),
          Map.entry("/replicationcontrollers", Set.of("status.replicas")),
          Map.entry("apps/replicasets", Set.of("status.replicas")),
          Map.entry("batch/jobs", Set.of("status.successful")),
          Map.entry("certificates.k8s.io/certificatesigningrequests", Set.of("spec.signerName")),
          Map.entry(
              "/events",
              Set.of(
                  "involvedObject.kind",
                  "involvedObject.namespace",
                  "involvedObject.name",
                  "involvedObject.uid",
                  "involvedObject.apiVersion",
                  "involvedObject.resourceVersion",
                  "involvedObject.fieldPath",
                  "reason",
                  "reportingComponent",
                  "source",
                  "type")));

  private final List<Term> terms;
  private final String text;

  private FieldSelector(List<Term> terms, String text) {
    this.terms = terms;
    this.text = text;
  }

  public static FieldSelector everything() {
    return EVERYTHING;
  }

  public boolean isEverything() {
    return terms.isEmpty();
  }

  /** The name an exact {@code metadata.name=} term asks for, or null. */
  public String exactName() {
    for (Term t : terms) {
      if (t.equal() && t.field().equals("metadata.name")) {
        return t.value();
      }
    }
    return null;
  }

  public boolean matches(JsonNode object) {
    for (Term t : terms) {
      String v = value(object, t.field());
      if (t.equal() != v.equals(t.value())) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return text;
  }

  /** Parses {@code s} and checks its fields against those {@code gvr} supports. */
  public static FieldSelector parse(String s, Gvr gvr) {
    if (s == null || s.isBlank()) {
      return EVERYTHING;
    }
    List<Term> terms = new ArrayList<>();
    for (String part : split(s, ',')) {
      if (part.isBlank()) {
        continue;
      }
      int at = indexOfOperator(part);
      if (at < 0) {
        throw ApiException.badRequest(
            "invalid selector: '" + s + "'; can't understand '" + part + "'");
      }
      String field = part.substring(0, at).trim();
      boolean not = part.charAt(at) == '!';
      int valueStart = at + (part.startsWith("==", at) || not ? 2 : 1);
      String value = unescape(part.substring(valueStart), s);
      if (field.isEmpty()) {
        throw ApiException.badRequest("invalid selector: '" + s + "'; field is empty");
      }
      if (!supported(gvr, field)) {
        throw ApiException.badRequest("field label not supported: " + field);
      }
      terms.add(new Term(field, !not, value));
    }
    return new FieldSelector(List.copyOf(terms), s);
  }

  static boolean supported(Gvr gvr, String field) {
    if (COMMON.containsKey(field)) {
      return true;
    }
    Set<String> extra = PER_TYPE.get(gvr.group() + "/" + gvr.resource());
    return extra != null && extra.contains(field);
  }

  static String value(JsonNode o, String field) {
    Function<JsonNode, String> f = COMMON.get(field);
    if (f != null) {
      return f.apply(o);
    }
    if (field.equals("spec.unschedulable")) {
      return Boolean.toString(o.path("spec").path("unschedulable").asBoolean(false));
    }
    if (field.equals("source")) {
      return o.path("source").path("component").asString("");
    }
    JsonNode n = o;
    for (String p : field.split("\\.")) {
      n = n.path(p);
    }
    if (n.isString()) {
      return n.asString();
    }
    if (n.isNumber() || n.isBoolean()) {
      return n.asString();
    }
    return "";
  }

  private static int indexOfOperator(String part) {
    boolean escaped = false;
    for (int i = 0; i < part.length(); i++) {
      char c = part.charAt(i);
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '=') {
        return i;
      } else if (c == '!' && i + 1 < part.length() && part.charAt(i + 1) == '=') {
        return i;
      }
    }
    return -1;
  }

  private static List<String> split(String s, char sep) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean escaped = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (escaped) {
        cur.append('\\').append(c);
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == sep) {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    if (escaped) {
      cur.append('\\');
    }
    out.add(cur.toString());
    return out;
  }

  private static String unescape(String v, String whole) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c == '\\') {
        if (i + 1 >= v.length()) {
          throw ApiException.badRequest("invalid selector: '" + whole + "'; trailing backslash");
        }
        char n = v.charAt(++i);
        if (n != '\\' && n != ',' && n != '=') {
          throw ApiException.badRequest(
              "invalid selector: '" + whole + "'; invalid escape sequence '\\" + n + "'");
        }
        b.append(n);
      } else if (c == '=' || c == ',') {
        throw ApiException.badRequest("invalid selector: '" + whole + "'; unescaped '" + c + "'");
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
