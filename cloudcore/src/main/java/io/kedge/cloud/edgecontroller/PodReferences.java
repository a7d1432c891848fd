package io.kedge.cloud.edgecontroller;

import java.util.Set;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;

/**
 * The ConfigMaps and Secrets a pod needs on its node: volumes (including projected sources such as
 * {@code kube-root-ca.crt}), {@code env[].valueFrom}, {@code envFrom} of every container, init and
 * ephemeral container, and {@code imagePullSecrets}. Keys are {@code configmap/<ns>/<name>} and
 * {@code secret/<ns>/<name>}.
 */
final class PodReferences {
  private PodReferences() {}

  static final String CONFIGMAP = "configmap";
  static final String SECRET = "secret";

  static String key(String type, String namespace, String name) {
    return type + "/" + namespace + "/" + name;
  }

  static Set<String> of(JsonNode pod) {
    Set<String> out = new TreeSet<>();
    String ns = pod.path("metadata").path("namespace").asString("default");
    JsonNode spec = pod.path("spec");
    for (JsonNode v : spec.path("volumes")) {
      add(out, CONFIGMAP, ns, v.path("configMap").path("name"));
      add(out, SECRET, ns, v.path("secret").path("secretName"));
      for (JsonNode src : v.path("projected").path("sources")) {
        add(out, CONFIGMAP, ns, src.path("configMap").path("name"));
        add(out, SECRET, ns, src.path("secret").path("name"));
      }
    }
    for (String list : new String[] {"containers", "initContainers", "ephemeralContainers"}) {
      for (JsonNode c : spec.path(list)) {
        for (JsonNode e : c.path("env")) {
          add(out, CONFIGMAP, ns, e.path("valueFrom").path("configMapKeyRef").path("name"));
          add(out, SECRET, ns, e.path("valueFrom").path("secretKeyRef").path("name"));
        }
        for (JsonNode e : c.path("envFrom")) {
          add(out, CONFIGMAP, ns, e.path("configMapRef").path("name"));
          add(out, SECRET, ns, e.path("secretRef").path("name"));
        }
      }
    }
    for (JsonNode s : spec.path("imagePullSecrets")) {
      add(out, SECRET, ns, s.path("name"));
    }
    return out;
  }

  private static void add(Set<String> out, String type, String ns, JsonNode name) {
    if (name.isString() && !name.asString().isEmpty()) {
      out.add(key(type, ns, name.asString()));
    }
  }
}
