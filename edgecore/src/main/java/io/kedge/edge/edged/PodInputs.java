package io.kedge.edge.edged;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * The objects a pod's environment and volumes refer to, fetched before its containers are built:
 * ConfigMaps and Secrets by name (absent = does not exist) and service-account tokens by volume.
 */
final class PodInputs {
  final Map<String, Optional<JsonNode>> configMaps = new LinkedHashMap<>();
  final Map<String, Optional<JsonNode>> secrets = new LinkedHashMap<>();

  /** Tokens by "volume/path". */
  final Map<String, ServiceAccountTokens.Token> tokens = new LinkedHashMap<>();

  Optional<JsonNode> configMap(String name) {
    return configMaps.getOrDefault(name, Optional.empty());
  }

  Optional<JsonNode> secret(String name) {
    return secrets.getOrDefault(name, Optional.empty());
  }

  /** The names of the ConfigMaps and Secrets a pod refers to (env, envFrom, volumes). */
  record References(Set<String> configMaps, Set<String> secrets) {
    static References of(JsonNode pod) {
      Set<String> cms = new LinkedHashSet<>();
      Set<String> secs = new LinkedHashSet<>();
      JsonNode spec = pod.path("spec");
      for (String list : new String[] {"initContainers", "containers"}) {
        for (JsonNode c : spec.path(list)) {
          for (JsonNode e : c.path("envFrom")) {
            addName(cms, e.path("configMapRef").path("name"));
            addName(secs, e.path("secretRef").path("name"));
          }
          for (JsonNode e : c.path("env")) {
            addName(cms, e.path("valueFrom").path("configMapKeyRef").path("name"));
            addName(secs, e.path("valueFrom").path("secretKeyRef").path("name"));
          }
        }
      }
      for (JsonNode v : spec.path("volumes")) {
        addName(cms, v.path("configMap").path("name"));
        addName(secs, v.path("secret").path("secretName"));
        for (JsonNode s : v.path("projected").path("sources")) {
          addName(cms, s.path("configMap").path("name"));
          addName(secs, s.path("secret").path("name"));
        }
      }
      return new References(cms, secs);
    }

    private static void addName(Set<String> into, JsonNode name) {
      if (name.isString() && !name.asString().isEmpty()) {
        into.add(name.asString());
      }
    }
  }
}
