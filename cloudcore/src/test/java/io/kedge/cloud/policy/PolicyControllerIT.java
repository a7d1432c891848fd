package io.kedge.cloud.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.cloud.kube.CloudcoreIdentity;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.Sources;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * PolicyController on the real apiserver under cloudcore's shipped RBAC: a ServiceAccountAccess per
 * service account of edge pods, sent to exactly the edge nodes running them, following RBAC, Pod
 * and ServiceAccount changes.
 */
@WithControlPlane
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PolicyControllerIT {
  final String sfx = UUID.randomUUID().toString().substring(0, 6);
  final String ns = "policy-it-" + sfx;
  final String e1 = "edge-1-" + sfx;
  final String e2 = "edge-2-" + sfx;
  final String cloudNode = "cloud-" + sfx;
  final RecordingMessenger edges = new RecordingMessenger();
  KubernetesClient admin;
  KubeClients cloudcore;
  PolicyController controller;

  @BeforeAll
  void start(ControlPlane plane, KubernetesClient admin) {
    this.admin = admin;
    cloudcore = CloudcoreIdentity.clients(plane);
    admin
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    for (String n : List.of(e1, e2, cloudNode)) {
      var b = new NodeBuilder().withNewMetadata().withName(n).endMetadata();
      if (!n.equals(cloudNode)) {
        b.editMetadata().addToLabels(PolicyController.EDGE_NODE_LABEL, "").endMetadata();
      }
      admin.nodes().resource(b.build()).create();
    }
    admin
        .serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("app").endMetadata().build())
        .create();
    admin
        .rbac()
        .roles()
        .inNamespace(ns)
        .resource(
            new RoleBuilder()
                .withNewMetadata()
                .withName("cm-read")
                .endMetadata()
                .withRules(
                    new PolicyRuleBuilder()
                        .withApiGroups("")
                        .withResources("configmaps")
                        .withVerbs("get", "list")
                        .build())
                .build())
        .create();
    admin
        .rbac()
        .roleBindings()
        .inNamespace(ns)
        .resource(binding("rb-a", "Role", "cm-read"))
        .create();
    controller = new PolicyController(cloudcore.own(), edges);
    controller.start(Duration.ofSeconds(60));
  }

  @AfterAll
  void stop() {
    if (controller != null) {
      controller.close();
    }
    if (admin != null) {
      admin.namespaces().withName(ns).delete();
      for (String n : List.of(e1, e2, cloudNode)) {
        admin.nodes().withName(n).delete();
      }
    }
    if (cloudcore != null) {
      cloudcore.close();
    }
  }

  static io.fabric8.kubernetes.api.model.rbac.RoleBinding binding(
      String name, String kind, String role) {
    return new RoleBindingBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewRoleRef("rbac.authorization.k8s.io", kind, role)
        .addNewSubject()
        .withKind("ServiceAccount")
        .withName("app")
        .endSubject()
        .build();
  }

  void pod(String name, String node) {
    var p =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .endMetadata()
            .withNewSpec()
            .withServiceAccountName("app")
            .withNodeName(node)
            .withAutomountServiceAccountToken(false)
            .addNewContainer()
            .withName("c")
            .withImage("busybox")
            .endContainer()
            .endSpec()
            .build();
    for (int i = 0; ; i++) {
      try {
        admin.pods().inNamespace(ns).resource(p).create();
        return;
      } catch (RuntimeException e) {
        if (i > 50) {
          throw e;
        }
        sleep(200);
      }
    }
  }

  GenericKubernetesResource saa() {
    return admin
        .genericKubernetesResources(PolicyController.SAA_CONTEXT)
        .inNamespace(ns)
        .withName("app")
        .get();
  }

  List<Message> ops(String node, String op) {
    return edges.of(node).stream().filter(m -> m.operation().equals(op)).toList();
  }

  static List<String> bindingNames(JsonNode body) {
    List<String> out = new ArrayList<>();
    for (JsonNode e : body.path("spec").path("accessRoleBinding")) {
      out.add(e.path("roleBinding").path("metadata").path("name").asString());
    }
    return out;
  }

  @Test
  void followsPodsRbacAndServiceAccounts() {
    pod("p1", e1);
    pod("p-cloud", cloudNode);
    // a new object goes out as an update, as KubeEdge sends it (golden seq 1089)
    Waits.until(
        "update to " + e1, Duration.ofSeconds(30), () -> !ops(e1, Operations.UPDATE).isEmpty());
    Message m = ops(e1, Operations.UPDATE).get(0);
    assertThat(m.resource()).isEqualTo(ns + "/serviceaccountaccess/app");
    assertThat(m.source()).isEqualTo(Sources.POLICY_CONTROLLER);
    assertThat(m.group()).isEqualTo(Sources.GROUP_RESOURCE);
    assertThat(m.header().resourceVersion()).isNotEmpty();
    assertThat(m.content().path("kind").asString()).isEqualTo("ServiceAccountAccess");
    assertThat(m.content().path("status").path("nodeList").size()).isZero();
    assertThat(bindingNames(m.content())).containsExactly("rb-a");
    JsonNode rules = m.content().path("spec").path("accessRoleBinding").get(0).path("rules");
    assertThat(rules.get(0).path("resources").get(0).asString()).isEqualTo("configmaps");
    String saUid =
        admin.serviceAccounts().inNamespace(ns).withName("app").get().getMetadata().getUid();
    assertThat(m.content().path("spec").path("serviceAccountUid").asString()).isEqualTo(saUid);
    Waits.until(
        "nodeList [e1]",
        Duration.ofSeconds(30),
        () -> String.valueOf(saa().getAdditionalProperties().get("status")).contains(e1));
    assertThat(edges.of(cloudNode)).isEmpty();

    // a second edge node with a pod of the same account gets the object; the first nothing new
    pod("p2", e2);
    Waits.until(
        "insert to " + e2, Duration.ofSeconds(30), () -> !ops(e2, Operations.INSERT).isEmpty());
    assertThat(edges.of(e1)).hasSize(1);

    // RBAC change: both nodes get the update
    Map<String, Integer> updatesBefore =
        Map.of(e1, ops(e1, Operations.UPDATE).size(), e2, ops(e2, Operations.UPDATE).size());
    admin
        .rbac()
        .roleBindings()
        .inNamespace(ns)
        .resource(binding("rb-b", "ClusterRole", "view"))
        .create();
    for (String n : List.of(e1, e2)) {
      Waits.until(
          "update to " + n,
          Duration.ofSeconds(30),
          () -> ops(n, Operations.UPDATE).size() > updatesBefore.get(n));
      Message u = ops(n, Operations.UPDATE).get(ops(n, Operations.UPDATE).size() - 1);
      assertThat(bindingNames(u.content())).containsExactly("rb-a", "rb-b");
      assertThat(u.content().path("spec").path("accessRoleBinding").get(1).path("rules").size())
          .as("rules of the aggregated ClusterRole view")
          .isGreaterThan(3);
    }
    Waits.until(
        "object carries the new binding",
        Duration.ofSeconds(30),
        () -> String.valueOf(saa().getAdditionalProperties().get("spec")).contains("rb-b"));

    // the pod leaves e2: e2 gets a delete, e1 nothing
    int e1Before = edges.of(e1).size();
    admin.pods().inNamespace(ns).withName("p2").withGracePeriod(0).delete();
    Waits.until(
        "delete to " + e2, Duration.ofSeconds(30), () -> !ops(e2, Operations.DELETE).isEmpty());
    assertThat(edges.of(e1)).hasSize(e1Before);

    // a reconnecting node gets its objects again
    controller.connected(e1);
    Waits.until(
        "resend to " + e1, Duration.ofSeconds(30), () -> ops(e1, Operations.INSERT).size() == 1);

    // the service account goes: the object is deleted and e1 told
    admin.serviceAccounts().inNamespace(ns).withName("app").delete();
    Waits.until(
        "delete to " + e1, Duration.ofSeconds(30), () -> !ops(e1, Operations.DELETE).isEmpty());
    Waits.until("object deleted", Duration.ofSeconds(30), () -> saa() == null);
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
