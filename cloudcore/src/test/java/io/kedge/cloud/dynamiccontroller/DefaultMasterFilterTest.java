package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class DefaultMasterFilterTest {
  private final DefaultMasterFilter filter = new DefaultMasterFilter("127.0.0.1", 10550);

  @Test
  void endpointsOfTheKubernetesServicePointAtMetaServer() {
    JsonNode ep =
        Json.parse(
            "{\"kind\":\"Endpoints\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"kubernetes\","
                + "\"namespace\":\"default\"},\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.1\"},"
                + "{\"ip\":\"10.0.0.2\"}],\"ports\":[{\"name\":\"https\",\"port\":6443,\"protocol\":\"TCP\"}]}]}");
    JsonNode out = filter.apply(ep);
    assertThat(out.path("subsets")).hasSize(1);
    assertThat(out.path("subsets").get(0).path("addresses")).hasSize(1);
    assertThat(out.at("/subsets/0/addresses/0/ip").asString()).isEqualTo("127.0.0.1");
    assertThat(out.at("/subsets/0/ports/0/port").asInt()).isEqualTo(10550);
    assertThat(ep.at("/subsets/0/addresses/0/ip").asString()).isEqualTo("10.0.0.1"); // untouched
  }

  @Test
  void endpointSliceInAList() {
    JsonNode list =
        Json.parse(
            "{\"kind\":\"EndpointSliceList\",\"apiVersion\":\"discovery.k8s.io/v1beta1\",\"items\":["
                + "{\"metadata\":{\"name\":\"kubernetes\",\"namespace\":\"default\","
                + "\"labels\":{\"kubernetes.io/service-name\":\"kubernetes\"}},\"addressType\":\"IPv4\","
                + "\"endpoints\":[{\"addresses\":[\"10.0.0.1\"],\"conditions\":{\"ready\":true}},"
                + "{\"addresses\":[\"10.0.0.2\"]}],\"ports\":[{\"name\":\"https\",\"port\":6443}]},"
                + "{\"metadata\":{\"name\":\"web-abc\",\"namespace\":\"default\"},"
                + "\"endpoints\":[{\"addresses\":[\"10.1.0.1\"]}],\"ports\":[{\"name\":\"https\",\"port\":443}]}]}");
    JsonNode out = filter.apply(list);
    assertThat(out.at("/items/0/endpoints")).hasSize(1);
    assertThat(out.at("/items/0/endpoints/0/addresses/0").asString()).isEqualTo("127.0.0.1");
    assertThat(out.at("/items/0/endpoints/0/conditions/ready").asBoolean()).isTrue();
    assertThat(out.at("/items/0/ports/0/port").asInt()).isEqualTo(10550);
    assertThat(out.at("/items/1")).isEqualTo(list.at("/items/1"));
  }

  @Test
  void otherObjectsPass() {
    assertThat(
            filter.apply(
                Json.parse(
                    "{\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"kubernetes\",\"namespace\":\"other\"}}")))
        .isNull();
    assertThat(
            filter.apply(
                Json.parse(
                    "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"kubernetes\",\"namespace\":\"default\"}}")))
        .isNull();
  }
}
