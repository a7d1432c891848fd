package io.kedge.protocol.selector;

import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import tools.jackson.databind.JsonNode;

/**
 * The fields a resource can be selected by, as the kube-apiserver (v1.20) has them: which field
 * labels a request may name (per group, version and kind; anything else is refused with the
 * apiserver's message for that kind), the name each stands for, and each field's value read from
 * the object's JSON as the apiserver computes it (numbers and booleans as text, a missing field as
 * the empty string).
 */
public final class SelectableFields {
  private static final String NAME = "metadata.name";
  private static final String NAMESPACE = "metadata.namespace";

  /**
   * The groups kube-apiserver serves itself (v1.20 and later); other groups are custom resources.
   */
  private static final Set<String> BUILT_IN_GROUPS =
      Set.of(
          "",
          "admissionregistration.k8s.io",
          "apiextensions.k8s.io",
          "apiregistration.k8s.io",
          "apps",
          "authentication.k8s.io",
          "authorization.k8s.io",
          "autoscaling",
          "batch",
          "certificates.k8s.io",
          "coordination.k8s.io",
          "discovery.k8s.io",
          "events.k8s.io",
          "extensions",
          "flowcontrol.apiserver.k8s.io",
          "internal.apiserver.k8s.io",
          "networking.k8s.io",
          "node.k8s.io",
          "policy",
          "rbac.authorization.k8s.io",
          "resource.k8s.io",
          "scheduling.k8s.io",
          "storage.k8s.io",
          "storagemigration.k8s.io");

  /**
   * Whether kube-apiserver serves {@code group} itself (its types compiled in) rather than from
   * CustomResourceDefinitions.
   */
  public static boolean builtInGroup(String group) {
    return BUILT_IN_GROUPS.contains(group == null ? "" : group);
  }

  private static final SelectableFields METADATA =
      new SelectableFields(
          Map.of(NAME, NAME, NAMESPACE, NAMESPACE),
          label ->
              GoQuoting.quote(label)
                  + " is not a known field selector: only \"metadata.name\","
                  + " \"metadata.namespace\"",
          Map.of());

  /** Every field name taken as it is: the apiserver's reading before the resource is known. */
  private static final SelectableFields ANY = new SelectableFields(null, label -> "", Map.of());

  private static final UnaryOperator<String> NOT_SUPPORTED =
      label -> "field label not supported: " + label;

  private static final Map<String, SelectableFields> BY_RESOURCE = table();

  // label a request may use -> field it selects by; null: any label, as itself
  private final Map<String, String> labels;
  private final UnaryOperator<String> refusal;
  private final Map<String, Function<JsonNode, String>> values; // besides metadata's

  private SelectableFields(
      Map<String, String> labels,
      UnaryOperator<String> refusal,
      Map<String, Function<JsonNode, String>> values) {
    this.labels = labels == null ? null : Map.copyOf(labels);
    this.refusal = refusal;
    this.values = values;
  }

  /**
   * The fields of {@code group/version/resource} ({@code ""} is the core group); {@code namespaced}
   * matters for custom resources only, where a cluster-scoped one has no {@code metadata.namespace}
   * field.
   */
  public static SelectableFields of(
      String group, String version, String resource, boolean namespaced) {
    String g = group == null ? "" : group;
    SelectableFields known = BY_RESOURCE.get(g + "/" + version + "/" + resource);
    if (known != null) {
      return known;
    }
    if (BUILT_IN_GROUPS.contains(g)) {
      return METADATA;
    }
    return namespaced
        ? new SelectableFields(Map.of(NAME, NAME, NAMESPACE, NAMESPACE), NOT_SUPPORTED, Map.of())
        : new SelectableFields(Map.of(NAME, NAME), NOT_SUPPORTED, Map.of());
  }

  /** As {@link #of(String, String, String, boolean)} for a namespaced custom resource. */
  public static SelectableFields of(String group, String version, String resource) {
    return of(group, version, resource, true);
  }

  static SelectableFields any() {
    return ANY;
  }

  /** {@code metadata.name} and {@code metadata.namespace}: what every built-in resource has. */
  static SelectableFields metadataOnly() {
    return METADATA;
  }

  /**
   * The field {@code label} selects by.
   *
   * @throws SelectorException the apiserver's refusal when the resource has no such field
   */
  String convert(String label) {
    if (labels == null) {
      return label;
    }
    String f = labels.get(label);
    if (f == null) {
      throw new SelectorException(refusal.apply(label));
    }
    return f;
  }

  /** The value of {@code field} (as {@link #convert} names it) for {@code object}. */
  String value(JsonNode object, String field) {
    Function<JsonNode, String> f = values.get(field);
    if (f != null) {
      return f.apply(object);
    }
    if (field.equals(NAME) || field.equals(NAMESPACE)) {
      return text(object.path("metadata").path(field.substring("metadata.".length())));
    }
    return ""; // accepted, but not among the fields the apiserver computes (pods' status.podIPs)
  }

  // ------------------------------------------------------------------ the apiserver's table

  private static String text(JsonNode n) {
    if (n.isString()) {
      return n.asString();
    }
    if (n.isNumber() || n.isBoolean()) {
      return n.asString();
    }
    return "";
  }

  private static Function<JsonNode, String> at(String path) {
    String[] p = path.split("\\.");
    return o -> {
      JsonNode n = o;
      for (String s : p) {
        n = n.path(s);
      }
      return text(n);
    };
  }

  /** An integer field the apiserver formats even when absent (as 0). */
  private static Function<JsonNode, String> count(String path) {
    Function<JsonNode, String> f = at(path);
    return o -> {
      String v = f.apply(o);
      return v.isEmpty() ? "0" : v;
    };
  }

  private static Map<String, String> accepting(String... labels) {
    Map<String, String> m = new java.util.HashMap<>();
    for (String l : labels) {
      m.put(l, l);
    }
    return m;
  }

  private static Map<String, SelectableFields> table() {
    Map<String, SelectableFields> t = new java.util.HashMap<>();

    Map<String, String> podLabels =
        accepting(
            NAME,
            NAMESPACE,
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName");
    podLabels.put("spec.host", "spec.nodeName"); // the field's old name
    Function<JsonNode, String> serviceAccount = at("spec.serviceAccountName");
    Function<JsonNode, String> deprecatedServiceAccount = at("spec.serviceAccount");
    Function<JsonNode, String> firstPodIp =
        o -> text(o.path("status").path("podIPs").path(0).path("ip"));
    Function<JsonNode, String> podIp = at("status.podIP");
    t.put(
        "/v1/pods",
        new SelectableFields(
            podLabels,
            NOT_SUPPORTED,
            Map.of(
                "spec.nodeName", at("spec.nodeName"),
                "spec.restartPolicy", at("spec.restartPolicy"),
                "spec.schedulerName", at("spec.schedulerName"),
                "spec.serviceAccountName",
                    o -> {
                      String s = serviceAccount.apply(o);
                      return s.isEmpty() ? deprecatedServiceAccount.apply(o) : s;
                    },
                "status.phase", at("status.phase"),
                "status.podIP",
                    o -> {
                      String s = firstPodIp.apply(o);
                      return s.isEmpty() ? podIp.apply(o) : s;
                    },
                "status.nominatedNodeName", at("status.nominatedNodeName"))));
    t.put(
        "/v1/nodes",
        new SelectableFields(
            accepting(NAME, "spec.unschedulable"),
            NOT_SUPPORTED,
            Map.of(
                "spec.unschedulable",
                o -> Boolean.toString(o.path("spec").path("unschedulable").asBoolean(false)))));
    t.put(
        "/v1/replicationcontrollers",
        new SelectableFields(
            accepting(NAME, NAMESPACE, "status.replicas"),
            NOT_SUPPORTED,
            Map.of("status.replicas", count("status.replicas"))));
    t.put(
        "/v1/namespaces",
        new SelectableFields(
            accepting(NAME, "status.phase"),
            NOT_SUPPORTED,
            Map.of("status.phase", at("status.phase"))));
    t.put(
        "/v1/secrets",
        new SelectableFields(
            accepting(NAME, NAMESPACE, "type"), NOT_SUPPORTED, Map.of("type", at("type"))));

    String[] involved = {"kind", "namespace", "name", "uid", "apiVersion", "resourceVersion"};
    Map<String, Function<JsonNode, String>> coreEvent = new java.util.HashMap<>();
    Map<String, String> coreEventLabels =
        accepting(
            NAME,
            NAMESPACE,
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type");
    Map<String, Function<JsonNode, String>> newEvent = new java.util.HashMap<>();
    Map<String, String> newEventLabels = accepting(NAME, NAMESPACE, "reason", "type");
    for (String f : involved) {
      coreEventLabels.put("involvedObject." + f, "involvedObject." + f);
      newEventLabels.put("regarding." + f, "involvedObject." + f);
    }
    newEventLabels.put("regarding.fieldPath", "involvedObject.fieldPath");
    newEventLabels.put("reportingController", "reportingComponent");
    for (String f : involved) {
      coreEvent.put("involvedObject." + f, at("involvedObject." + f));
      newEvent.put("involvedObject." + f, at("regarding." + f));
    }
    coreEvent.put("involvedObject.fieldPath", at("involvedObject.fieldPath"));
    newEvent.put("involvedObject.fieldPath", at("regarding.fieldPath"));
    Function<JsonNode, String> component = at("source.component");
    Function<JsonNode, String> reporting = at("reportingComponent");
    coreEvent.put("reason", at("reason"));
    coreEvent.put("type", at("type"));
    coreEvent.put("reportingComponent", reporting);
    coreEvent.put(
        "source",
        o -> {
          String s = component.apply(o);
          return s.isEmpty() ? reporting.apply(o) : s;
        });
    newEvent.put("reason", at("reason"));
    newEvent.put("type", at("type"));
    newEvent.put("reportingComponent", at("reportingController"));
    t.put(
        "/v1/events",
        new SelectableFields(Map.copyOf(coreEventLabels), NOT_SUPPORTED, Map.copyOf(coreEvent)));
    for (String v : new String[] {"v1", "v1beta1"}) {
      t.put(
          "events.k8s.io/" + v + "/events",
          new SelectableFields(Map.copyOf(newEventLabels), NOT_SUPPORTED, Map.copyOf(newEvent)));
      t.put(
          "certificates.k8s.io/" + v + "/certificatesigningrequests",
          new SelectableFields(
              accepting(NAME, "spec.signerName"),
              NOT_SUPPORTED,
              Map.of("spec.signerName", at("spec.signerName"))));
    }
    t.put(
        "batch/v1/jobs",
        new SelectableFields(
            accepting(NAME, NAMESPACE, "status.successful"),
            label -> "field label " + GoQuoting.quote(label) + " not supported for batchv1.Job",
            Map.of("status.successful", count("status.succeeded"))));
    t.put(
        "batch/v1beta1/cronjobs",
        new SelectableFields(
            accepting(NAME, NAMESPACE, "status.successful"),
            label -> "field label " + GoQuoting.quote(label) + " not supported for \"CronJob\"",
            Map.of()));
    return Map.copyOf(t);
  }
}
