package io.kedge.edge.metaserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.edge.store.ResourceCatalog;
import io.kedge.protocol.Json;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The discovery documents edgecore answers itself when its cloud cannot ({@link BuiltInDiscovery})
 * are those of the real v1.20 kube-apiserver for its built-in groups: every path, every byte of
 * JSON, except the apiserver's own address ({@code serverAddressByClientCIDRs}), which means
 * nothing to a pod at the edge. With {@code -Dkedge.recordDiscovery=FILE} the test writes the
 * apiserver's documents to FILE, which is how {@value BuiltInDiscovery#RESOURCE} was made.
 */
@WithControlPlane
class BuiltInDiscoveryIT {

  @Test
  void theBuiltInDocumentsAreTheApiserversOwn(KubernetesClient admin) throws Exception {
    Set<String> customGroups =
        admin.apiextensions().v1().customResourceDefinitions().list().getItems().stream()
            .map(CustomResourceDefinition::getSpec)
            .map(s -> s.getGroup())
            .collect(Collectors.toSet());
    Map<String, JsonNode> real = new LinkedHashMap<>();
    real.put("/api", withoutAddress(get(admin, "/api")));
    for (JsonNode v : real.get("/api").path("versions")) {
      real.put("/api/" + v.asString(), get(admin, "/api/" + v.asString()));
    }
    ObjectNode apis = withoutAddress(get(admin, "/apis"));
    ArrayNode groups = (ArrayNode) apis.get("groups");
    for (int i = groups.size() - 1; i >= 0; i--) {
      if (customGroups.contains(groups.get(i).path("name").asString())) {
        groups.remove(i);
      }
    }
    real.put("/apis", apis);
    for (JsonNode g : groups) {
      String name = g.path("name").asString();
      real.put("/apis/" + name, withoutAddress(get(admin, "/apis/" + name)));
      for (JsonNode v : g.path("versions")) {
        String gv = v.path("groupVersion").asString();
        real.put("/apis/" + gv, get(admin, "/apis/" + gv));
      }
    }
    String record = System.getProperty("kedge.recordDiscovery", "");
    if (!record.isEmpty()) {
      ObjectNode all = Json.object();
      real.forEach(all::set);
      Files.writeString(Path.of(record), Json.string(all));
    }

    Map<String, JsonNode> builtIn = new BuiltInDiscovery(new ResourceCatalog(null)).documents();
    assertThat(builtIn.keySet()).containsExactlyInAnyOrderElementsOf(real.keySet());
    for (String path : real.keySet()) {
      assertThat(builtIn.get(path)).as(path).isEqualTo(real.get(path));
    }
  }

  private static JsonNode get(KubernetesClient admin, String path) {
    return Json.parse(admin.raw(admin.getMasterUrl().toString().replaceAll("/$", "") + path));
  }

  /** The apiserver's address, in {@code /api}, {@code /apis} and groups, is dropped. */
  private static ObjectNode withoutAddress(JsonNode doc) {
    ObjectNode o = (ObjectNode) doc.deepCopy();
    o.remove("serverAddressByClientCIDRs");
    for (JsonNode g : o.path("groups")) {
      ((ObjectNode) g).remove("serverAddressByClientCIDRs");
    }
    return o;
  }
}
