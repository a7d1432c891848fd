package io.kedge.cloud.edgecontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.cloud.CloudCoreFixture;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.testkit.edge.SimulatedEdge;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Issue 17, item 4: an edge's registration is held to the apiserver's NodeRestriction rules for a
 * kubelet although cloudcore creates the Node with its own rights. What the apiserver refuses to
 * {@code system:node:<node>} is refused to the edge with the apiserver's Status (naming the label
 * or field) in KubeEdge's reply shape, and no Node is created; a registration as KubeEdge's edged
 * sends it still succeeds.
 */
@WithControlPlane
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeRegistrationIT {
  static final Duration T = Duration.ofSeconds(60);

  final String sfx = UUID.randomUUID().toString().substring(0, 6);
  final List<String> nodes = new ArrayList<>();
  KubernetesClient admin;
  KubeClients adminClients;
  CloudCoreFixture cloud;

  @BeforeAll
  void start(ControlPlane plane, KubernetesClient admin, @TempDir Path dir) throws Exception {
    this.admin = admin;
    adminClients =
        KubeClients.of(
            Config.fromKubeconfig(null, Files.readString(plane.adminKubeconfig()), null));
    cloud = new CloudCoreFixture(plane, dir);
  }

  @AfterAll
  void stop() {
    if (cloud != null) {
      cloud.close();
    }
    for (String n : nodes) {
      admin.nodes().withName(n).delete();
    }
    if (adminClients != null) {
      adminClients.close();
    }
  }

  String name(String base) {
    String n = base + "-" + sfx;
    nodes.add(n);
    return n;
  }

  /** A registration shaped as KubeEdge v1.17's edged sends it (golden session, seq 21). */
  static ObjectNode kubeEdgeNode(String name) {
    ObjectNode n = Json.object();
    ObjectNode meta = n.putObject("metadata");
    meta.put("name", name);
    meta.putObject("labels")
        .put("beta.kubernetes.io/arch", "amd64")
        .put("beta.kubernetes.io/os", "linux")
        .put("kubernetes.io/arch", "amd64")
        .put("kubernetes.io/hostname", name)
        .put("kubernetes.io/os", "linux")
        .put("node-role.kubernetes.io/agent", "")
        .put("node-role.kubernetes.io/edge", "");
    meta.putObject("annotations")
        .put("volumes.kubernetes.io/controller-managed-attach-detach", "true");
    n.putObject("spec");
    n.putObject("status")
        .putArray("addresses")
        .addObject()
        .put("type", "InternalIP")
        .put("address", "127.0.0.1");
    return n;
  }

  static ObjectNode labels(ObjectNode node) {
    return (ObjectNode) node.get("metadata").get("labels");
  }

  Message register(SimulatedEdge edge, ObjectNode node) {
    return edge.request(SimulatedEdge.edged("insert", "default/node/" + edge.node(), node), T);
  }

  /** KubeEdge's ObjectResp with a Status error: {"Object": null, "Err": {"ErrStatus": Status}}. */
  static JsonNode refusal(Message reply) {
    assertThat(reply.content().has("Object")).as("%s", reply.content()).isTrue();
    assertThat(reply.content().get("Object").isNull()).as("%s", reply.content()).isTrue();
    JsonNode status = reply.content().path("Err").path("ErrStatus");
    assertThat(status.path("status").asString()).as("%s", reply.content()).isEqualTo("Failure");
    return status;
  }

  @Test
  void aKubeEdgeRegistrationIsCreatedWithTheEdgeLabels() {
    String n = name("reg-ok");
    SimulatedEdge edge = cloud.connect(n);
    Message reply = register(edge, kubeEdgeNode(n));
    assertThat(reply.content().path("Err").isNull()).as("%s", reply.content()).isTrue();
    Node created = admin.nodes().withName(n).get();
    assertThat(created.getMetadata().getLabels())
        .containsEntry("node-role.kubernetes.io/edge", "")
        .containsEntry("node-role.kubernetes.io/agent", "")
        .containsEntry("kubernetes.io/hostname", n);
    // Registering again: the Node exists (409, as KubeEdge answers), nothing changes.
    Message again = register(edge, kubeEdgeNode(n));
    assertThat(again.content().path("Err").path("ErrStatus").path("code").asInt()).isEqualTo(409);
  }

  @Test
  void aRestrictedLabelIsRefusedNamingIt() {
    String n = name("reg-label");
    SimulatedEdge edge = cloud.connect(n);
    ObjectNode node = kubeEdgeNode(n);
    labels(node).put("node-restriction.kubernetes.io/x", "y");
    JsonNode status = refusal(register(edge, node));
    assertThat(status.path("code").asInt()).isEqualTo(403);
    assertThat(status.path("reason").asString()).isEqualTo("Forbidden");
    assertThat(status.path("message").asString())
        .contains("is not allowed to set the following labels: node-restriction.kubernetes.io/x");
    assertThat(admin.nodes().withName(n).get()).isNull();
  }

  @Test
  void aKubernetesIoLabelNoKubeletMaySetIsRefused() {
    String n = name("reg-role");
    SimulatedEdge edge = cloud.connect(n);
    ObjectNode node = kubeEdgeNode(n);
    labels(node).put("node-role.kubernetes.io/control-plane", "");
    JsonNode status = refusal(register(edge, node));
    assertThat(status.path("code").asInt()).isEqualTo(403);
    assertThat(status.path("message").asString())
        .contains("node-role.kubernetes.io/control-plane")
        .doesNotContain("node-role.kubernetes.io/edge")
        .doesNotContain("node-role.kubernetes.io/agent");
    assertThat(admin.nodes().withName(n).get()).isNull();
    // The agent role is granted with KubeEdge's empty value only.
    String m = name("reg-agent");
    SimulatedEdge other = cloud.connect(m);
    ObjectNode withValue = kubeEdgeNode(m);
    labels(withValue).put("node-role.kubernetes.io/agent", "master");
    assertThat(refusal(register(other, withValue)).path("message").asString())
        .contains("node-role.kubernetes.io/agent");
    assertThat(admin.nodes().withName(m).get()).isNull();
  }

  @Test
  void aConfigSourceIsRefusedNamingIt() {
    String n = name("reg-config");
    SimulatedEdge edge = cloud.connect(n);
    ObjectNode node = kubeEdgeNode(n);
    ((ObjectNode) node.get("spec"))
        .putObject("configSource")
        .putObject("configMap")
        .put("namespace", "kube-system")
        .put("name", "kubelet-config")
        .put("kubeletConfigKey", "kubelet");
    JsonNode status = refusal(register(edge, node));
    assertThat(status.path("code").asInt()).isEqualTo(403);
    assertThat(status.path("message").asString()).contains("configSource");
    assertThat(admin.nodes().withName(n).get()).isNull();
  }

  /**
   * NodeRestriction in v1.20 lets a kubelet register with taints ({@code --register-with-taints})
   * and refuses only changing them later; the edge gets exactly the apiserver's rule.
   */
  @Test
  void taintsAreJudgedAsTheApiserverJudgesThemForAKubelet() {
    String n = name("reg-taint");
    SimulatedEdge edge = cloud.connect(n);
    ObjectNode node = kubeEdgeNode(n);
    ((ObjectNode) node.get("spec"))
        .putArray("taints")
        .addObject()
        .put("key", "example.com/dedicated")
        .put("value", "edge")
        .put("effect", "NoSchedule");
    // What the apiserver itself says to the kubelet of this node (dry run, nothing stored).
    ObjectNode own = node.deepCopy();
    labels(own).remove("node-role.kubernetes.io/agent");
    labels(own).remove("node-role.kubernetes.io/edge");
    Node asKubelet =
        adminClients
            .asNode(n)
            .nodes()
            .resource(admin.getKubernetesSerialization().unmarshal(Json.string(own), Node.class))
            .dryRun()
            .create();
    assertThat(asKubelet.getSpec().getTaints())
        .extracting(t -> t.getKey())
        .contains("example.com/dedicated");

    Message reply = register(edge, node);
    assertThat(reply.content().path("Err").isNull()).as("%s", reply.content()).isTrue();
    assertThat(admin.nodes().withName(n).get().getSpec().getTaints())
        .extracting(t -> t.getKey())
        .contains("example.com/dedicated");

    // Changing taints or restricted labels later, through the edge, runs as the node: refused.
    Message taint =
        edge.request(
            SimulatedEdge.edged(
                "patch",
                "default/node/" + n,
                Json.NODES.stringNode("{\"spec\":{\"taints\":null}}")),
            T);
    assertThat(taint.content().path("Err").path("ErrStatus").path("message").asString())
        .contains("is not allowed to modify taints");
    Message label =
        edge.request(
            SimulatedEdge.edged(
                "patch",
                "default/node/" + n,
                Json.NODES.stringNode(
                    "{\"metadata\":{\"labels\":{\"node-restriction.kubernetes.io/x\":\"y\"}}}")),
            T);
    assertThat(label.content().path("Err").path("ErrStatus").path("message").asString())
        .contains("node-restriction.kubernetes.io/x");
    assertThat(admin.nodes().withName(n).get().getMetadata().getLabels())
        .doesNotContainKey("node-restriction.kubernetes.io/x");
    assertThat(admin.nodes().withName(n).get().getSpec().getTaints())
        .extracting(t -> t.getKey())
        .contains("example.com/dedicated");
  }

  /** A node whose Node was deleted registers again under the same rules. */
  @Test
  void aDeletedNodeRegistersAgainUnderTheSameRules() {
    String n = name("reg-again");
    SimulatedEdge edge = cloud.connect(n);
    assertThat(register(edge, kubeEdgeNode(n)).content().path("Err").isNull()).isTrue();
    admin.nodes().withName(n).withGracePeriod(0).delete();
    io.kedge.testkit.Waits.until("node deleted", T, () -> admin.nodes().withName(n).get() == null);
    ObjectNode node = kubeEdgeNode(n);
    labels(node).put("node-restriction.kubernetes.io/x", "y");
    assertThat(refusal(register(edge, node)).path("code").asInt()).isEqualTo(403);
    assertThat(admin.nodes().withName(n).get()).isNull();
  }
}
