package io.kedge.protocol.selector;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The selector grammar and the per-resource fields, case by case. What the apiserver answers for
 * the same selectors is checked against a real one by cloudcore's {@code
 * SelectorsMatchTheApiserverIT}.
 */
class SelectorsTest {
  static final JsonNode POD =
      Json.parse(
          """
          {"metadata":{"name":"p1","namespace":"demo",
             "labels":{"app":"web","tier":"front","n":"7","empty":"","in":"notin"}},
           "spec":{"nodeName":"edge-1","restartPolicy":"Always","serviceAccount":"sa",
             "hostNetwork":true},
           "status":{"phase":"Running","podIP":"10.0.0.5","podIPs":[{"ip":"10.0.0.5"}]}}
          """);
  static final SelectableFields PODS = SelectableFields.of("", "v1", "pods");

  static boolean labels(String s) {
    return LabelSelector.parse(s).matches(POD);
  }

  static boolean fields(String s) {
    return FieldSelector.parse(s, PODS).matches(POD);
  }

  static String labelError(String s) {
    try {
      LabelSelector.parse(s);
      return null;
    } catch (SelectorException e) {
      assertThat(e.code()).isEqualTo(400);
      assertThat(e.reason()).isEqualTo("BadRequest");
      return e.getMessage();
    }
  }

  static String fieldError(String s, SelectableFields f) {
    try {
      FieldSelector.parse(s, f);
      return null;
    } catch (SelectorException e) {
      return e.getMessage();
    }
  }

  @Test
  void labelRequirementsOfEveryKind() {
    assertThat(labels("")).isTrue();
    assertThat(labels(null)).isTrue();
    assertThat(labels("  ")).isTrue();
    assertThat(labels("app=web")).isTrue();
    assertThat(labels("app==web")).isTrue();
    assertThat(labels("app!=web")).isFalse();
    assertThat(labels("missing!=x")).isTrue();
    assertThat(labels("app in (db, web)")).isTrue();
    assertThat(labels("app notin (db,web)")).isFalse();
    assertThat(labels("missing notin (a)")).isTrue();
    assertThat(labels("tier")).isTrue();
    assertThat(labels("!tier")).isFalse();
    assertThat(labels("!missing, app")).isTrue();
    assertThat(labels("app=web,tier=back")).isFalse();
    assertThat(labels("n>5")).isTrue();
    assertThat(labels("n<5")).isFalse();
    assertThat(labels("app>5")).as("a label that is no number is not greater").isFalse();
    assertThat(labels("example.com/role")).isFalse();
    assertThat(labels("app=")).isFalse();
    assertThat(labels("empty=")).isTrue();
    assertThat(labels("empty in ()")).as("'()' is the empty value").isTrue();
    assertThat(labels("app in (,web)")).isTrue();
    assertThat(labels("in=notin")).as("keywords are keys and values where those are read").isTrue();
    assertThat(labels("in in (notin)")).isTrue();
  }

  @Test
  void labelSelectorsTheApiserverRefusesWithItsMessage() {
    assertThat(labelError("app in ("))
        .isEqualTo("unable to parse requirement: found '', expected: ',', ')' or identifier");
    assertThat(labelError("app in (a,"))
        .isEqualTo("unable to parse requirement: found '', expected: ',', or identifier");
    assertThat(labelError("!!a"))
        .isEqualTo("unable to parse requirement: found '!', expected: identifier");
    assertThat(labelError("a=b=c")).isEqualTo("found '=', expected: ',' or 'end of string'");
    assertThat(labelError("a b"))
        .isEqualTo(
            "unable to parse requirement: found 'b', expected: '=', '!=', '==', 'in', notin'");
    assertThat(labelError("!a=b")).isEqualTo("found '=', expected: ',' or 'end of string'");
    assertThat(labelError(",")).isEqualTo("found ',', expected: !, identifier, or 'end of string'");
    assertThat(labelError("a,,b")).isEqualTo("found ',', expected: identifier after ','");
    assertThat(labelError("a in b"))
        .isEqualTo("unable to parse requirement: found 'b' expected: '('");
    assertThat(labelError("a>x"))
        .isEqualTo(
            "unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer");
    assertThat(labelError("a in (b c)"))
        .isEqualTo("unable to parse requirement: found 'c', expected: ',' or ')'");
    assertThat(labelError("a=%%%"))
        .isEqualTo(
            "unable to parse requirement: invalid label value: \"%%%\": at key: \"a\": a valid"
                + " label must be an empty string or consist of alphanumeric characters, '-', '_'"
                + " or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', "
                + " or 'my_value',  or '12345', regex used for validation is"
                + " '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
    assertThat(labelError("/a"))
        .isEqualTo(
            "unable to parse requirement: invalid label key \"/a\": prefix part must be"
                + " non-empty");
    assertThat(labelError("a/b/c"))
        .startsWith(
            "unable to parse requirement: invalid label key"
                + " \"a/b/c\": a qualified name must consist of");
    assertThat(labelError("Ex.com/a")).contains("prefix part a lowercase RFC 1123 subdomain");
    assertThat(labelError("a".repeat(64))).contains("name part must be no more than 63 characters");
    assertThat(labelError("a=" + "b".repeat(64))).contains(": must be no more than 63 characters");
    // a NUL ends a token (and is swallowed), and ends the input where a token would start
    assertThat(LabelSelector.parse("app=web,\u0000tier").requirements()).hasSize(2);
    assertThat(labelError("app=web, \u0000tier"))
        .isEqualTo("found '', expected: identifier after ','");
  }

  @Test
  void longKeysAreCheckedInLinearTime() {
    String key = "a".repeat(200_000) + "!";
    assertThat(labelError(key + "=x")).contains("name part must be no more than 63");
  }

  @Test
  void fieldTermsAsTheApiserverReadsThem() {
    assertThat(fields("")).isTrue();
    assertThat(fields("metadata.name=p1")).isTrue();
    assertThat(fields("metadata.name==p1,metadata.namespace=demo")).isTrue();
    assertThat(fields("metadata.namespace!=demo")).isFalse();
    assertThat(fields("spec.nodeName=edge-1")).isTrue();
    assertThat(fields("spec.host=edge-1")).as("the old name of spec.nodeName").isTrue();
    assertThat(fields("status.phase=Running,spec.restartPolicy=Always")).isTrue();
    assertThat(fields("spec.serviceAccountName=sa")).isTrue();
    assertThat(fields("status.podIP=10.0.0.5")).isTrue();
    assertThat(fields("status.podIPs=")).as("accepted, but never a value").isTrue();
    assertThat(fields("status.nominatedNodeName=")).isTrue();
    assertThat(fields(",")).isTrue();
    assertThat(FieldSelector.parse("=,!=", PODS).isEverything()).isTrue();
    FieldSelector f = FieldSelector.parse("metadata.name=a\\,b,spec.host=n", PODS);
    assertThat(f.requiredValue("metadata.name")).isEqualTo("a,b");
    assertThat(f.requiredValue("spec.nodeName")).isEqualTo("n");
    assertThat(FieldSelector.parse("metadata.name!=a", PODS).requiredValue("metadata.name"))
        .isNull();
  }

  @Test
  void fieldSelectorsTheApiserverRefusesWithItsMessage() {
    assertThat(fieldError("metadata.name", PODS))
        .isEqualTo("invalid selector: 'metadata.name'; can't understand 'metadata.name'");
    assertThat(fieldError("metadata.name=a=b", PODS))
        .isEqualTo("invalid field selector: unescaped character in value: 61");
    assertThat(fieldError("metadata.name=a\\x", PODS))
        .isEqualTo("invalid field selector: invalid escape sequence: \\x");
    assertThat(fieldError(" ", PODS)).isEqualTo("invalid selector: ' '; can't understand ' '");
    assertThat(fieldError("spec.nope=x", PODS)).isEqualTo("field label not supported: spec.nope");
    assertThat(fieldError("metadata.name =x", PODS))
        .isEqualTo("field label not supported: metadata.name ");
    SelectableFields configMaps = SelectableFields.of("", "v1", "configmaps");
    assertThat(fieldError("spec.nodeName=x", configMaps))
        .isEqualTo(
            "\"spec.nodeName\" is not a known field selector: only \"metadata.name\","
                + " \"metadata.namespace\"");
    assertThat(fieldError("status.replicas=1", SelectableFields.of("apps", "v1", "replicasets")))
        .startsWith("\"status.replicas\" is not a known field selector");
    assertThat(fieldError("metadata.namespace=x", SelectableFields.of("", "v1", "nodes")))
        .isEqualTo("field label not supported: metadata.namespace");
    assertThat(fieldError("status.x=1", SelectableFields.of("batch", "v1", "jobs")))
        .isEqualTo("field label \"status.x\" not supported for batchv1.Job");
    assertThat(
            fieldError("metadata.namespace=a", SelectableFields.of("x.io", "v1", "things", false)))
        .isEqualTo("field label not supported: metadata.namespace");
    assertThat(fieldError("metadata.namespace=a", SelectableFields.of("x.io", "v1", "things")))
        .isNull();
    // terms are sorted before they are read: the first refused in that order is named
    assertThat(fieldError("b=1=2,a", PODS))
        .isEqualTo("invalid selector: 'b=1=2,a'; can't" + " understand 'a'");
  }

  @Test
  void fieldValuesAsTheApiserverComputesThem() {
    JsonNode node = Json.parse("{\"metadata\":{\"name\":\"n1\"},\"spec\":{}}");
    SelectableFields nodes = SelectableFields.of("", "v1", "nodes");
    assertThat(FieldSelector.parse("spec.unschedulable=false", nodes).matches(node)).isTrue();
    JsonNode job = Json.parse("{\"metadata\":{\"name\":\"j\"},\"status\":{}}");
    assertThat(
            FieldSelector.parse("status.successful=0", SelectableFields.of("batch", "v1", "jobs"))
                .matches(job))
        .isTrue();
    JsonNode event =
        Json.parse(
            "{\"metadata\":{\"name\":\"e\"},\"involvedObject\":{\"kind\":\"Pod\"},"
                + "\"reportingComponent\":\"ctl\",\"source\":{}}");
    SelectableFields events = SelectableFields.of("", "v1", "events");
    assertThat(FieldSelector.parse("source=ctl,involvedObject.kind=Pod", events).matches(event))
        .isTrue();
    JsonNode newEvent =
        Json.parse(
            "{\"metadata\":{\"name\":\"e\"},\"regarding\":{\"kind\":\"Pod\"},"
                + "\"reportingController\":\"ctl\"}");
    SelectableFields newEvents = SelectableFields.of("events.k8s.io", "v1", "events");
    assertThat(
            FieldSelector.parse("reportingController=ctl,regarding.kind=Pod", newEvents)
                .matches(newEvent))
        .isTrue();
    assertThat(fieldError("source=x", newEvents)).isEqualTo("field label not supported: source");
  }
}
