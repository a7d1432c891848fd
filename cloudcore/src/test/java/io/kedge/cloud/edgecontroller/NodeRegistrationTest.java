package io.kedge.cloud.edgecontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

class NodeRegistrationTest {
  static ObjectNode sent() {
    ObjectNode n = Json.object();
    ObjectNode meta = n.putObject("metadata");
    meta.put("name", "someone-else")
        .put("resourceVersion", "7")
        .put("uid", "u")
        .put("namespace", "default");
    meta.putObject("labels")
        .put("kubernetes.io/hostname", "e")
        .put("node-role.kubernetes.io/edge", "true")
        .put("node-role.kubernetes.io/agent", "")
        .put("node-restriction.kubernetes.io/x", "y");
    n.putObject("spec").putArray("taints").addObject().put("key", "k").put("effect", "NoSchedule");
    return n;
  }

  @Test
  void theClaimIsTheEdgesObjectUnderItsOwnNameWithoutTheLabelsCloudcoreGrants() {
    ObjectNode claim = NodeRegistration.claim("e", sent());
    assertThat(claim.path("kind").asString()).isEqualTo("Node");
    assertThat(claim.path("apiVersion").asString()).isEqualTo("v1");
    var meta = claim.path("metadata");
    assertThat(meta.path("name").asString()).isEqualTo("e");
    assertThat(meta.has("resourceVersion") || meta.has("uid") || meta.has("namespace")).isFalse();
    // The edge label is cloudcore's whatever its value; agent only with KubeEdge's value. All else,
    // including what NodeRestriction refuses, stays for the apiserver to judge as the node's.
    assertThat(Json.string(meta.path("labels")))
        .isEqualTo("{\"kubernetes.io/hostname\":\"e\",\"node-restriction.kubernetes.io/x\":\"y\"}");
    assertThat(claim.path("spec").path("taints").size()).isEqualTo(1);

    ObjectNode agent = sent();
    ((ObjectNode) agent.path("metadata").path("labels")).put("node-role.kubernetes.io/agent", "x");
    assertThat(
            NodeRegistration.claim("e", agent)
                .path("metadata")
                .path("labels")
                .has("node-role.kubernetes.io/agent"))
        .isTrue();
  }

  @Test
  void anythingButAnObjectIsAnEmptyClaim() {
    ObjectNode claim = NodeRegistration.claim("e", Json.parse("\"text\""));
    assertThat(claim.path("metadata").path("name").asString()).isEqualTo("e");
    assertThat(claim.path("metadata").path("labels").size()).isZero();
  }
}
