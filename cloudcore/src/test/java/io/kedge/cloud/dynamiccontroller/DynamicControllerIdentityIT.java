package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.cloud.hub.GoldenTrace;
import io.kedge.cloud.hub.ShapeDiff;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.Json;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.message.MessageCodec;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Identity of edge requests in {@code pod} mode, against the real apiserver with real pod-bound
 * tokens (issue 4, "Must show" 1): the pod's own RBAC decides; tokens of pods on other nodes or of
 * deleted pods are refused; tokenless requests run as the node, or as cloudcore for KubeEdge's
 * edges.
 */
@WithControlPlane
class DynamicControllerIdentityIT {
  @TempDir static Path tmp;

  static KubeClients cloudcore;
  static ClusterFixture fixture;
  static RecordingMessenger messenger;
  static DynamicController controller;
  static String ns;
  static Pod podA;
  static Pod podB;
  static Pod podOnOtherNode;
  static String tokenA;
  static String tokenB;
  static String tokenOther;

  @BeforeAll
  static void setUp(ControlPlane plane, KubernetesClient admin) {
    cloudcore = ClusterFixture.cloudcore(plane, tmp);
    fixture = new ClusterFixture(admin);
    messenger = new RecordingMessenger();
    controller =
        new DynamicController(DynamicControllerOptions.defaults(), cloudcore, messenger, null);
    controller.start().join();
    ns = fixture.namespace("identity");
    fixture.serviceAccount(ns, "a");
    fixture.serviceAccount(ns, "b");
    fixture.grant(ns, "a", List.of("configmaps"), List.of("get", "list", "watch"));
    fixture.configMap(ns, "cfg", Map.of("k", "v"));
    podA = fixture.pod(ns, "pod-a", "a", "edge-a");
    podB = fixture.pod(ns, "pod-b", "b", "edge-a");
    podOnOtherNode = fixture.pod(ns, "pod-other", "a", "edge-b");
    tokenA = fixture.token(podA);
    tokenB = fixture.token(podB);
    tokenOther = fixture.token(podOnOtherNode);
  }

  @AfterAll
  static void tearDown() {
    if (controller != null) {
      controller.close();
    }
    if (cloudcore != null) {
      cloudcore.close();
    }
    if (fixture != null) {
      fixture.close();
    }
  }

  SimulatedMetaServer edge(String node) {
    return new SimulatedMetaServer(node, controller, messenger);
  }

  @Test
  void serviceAccountWithRoleListsConfigMaps() {
    var r = edge("edge-a").http("GET", "/api/v1/namespaces/" + ns + "/configmaps", tokenA);
    assertThat(r.approved()).as(r.message()).isTrue();
    assertThat(r.code()).isEqualTo(200);
    assertThat(r.app().kedge().responseContentType()).startsWith("application/json");
    assertThat(r.json().path("kind").asString()).isEqualTo("ConfigMapList");
    assertThat(r.json().path("items").findValuesAsString("name")).contains("cfg");
    assertThat(MessageCodec.encodeToString(r.wire())).doesNotContain(tokenA);
  }

  @Test
  void serviceAccountWithoutRbacGetsTheApiserversForbidden() {
    var r = edge("edge-a").http("GET", "/api/v1/namespaces/" + ns + "/configmaps", tokenB);
    assertThat(r.approved()).isFalse();
    assertThat(r.code()).isEqualTo(403);
    assertThat(r.status().path("reason").asString()).isEqualTo("Forbidden");
    assertThat(r.message())
        .isEqualTo(
            "configmaps is forbidden: User \"system:serviceaccount:"
                + ns
                + ":b\" cannot list resource \"configmaps\" in API group \"\" in the namespace \""
                + ns
                + "\"");
    // the apiserver's own bytes come back for the Kedge edge to relay
    assertThat(r.json().path("message").asString()).isEqualTo(r.message());
    assertThat(MessageCodec.encodeToString(r.wire())).doesNotContain(tokenB);
  }

  @Test
  void tokenOfAPodOnAnotherNodeIsRefused() {
    var r = edge("edge-a").http("GET", "/api/v1/namespaces/" + ns + "/configmaps", tokenOther);
    assertThat(r.approved()).isFalse();
    assertThat(r.code()).isEqualTo(403);
    assertThat(r.message()).contains("pod-other").contains("not bound to this node");
    // the same token is fine from the pod's own node
    var ok = edge("edge-b").http("GET", "/api/v1/namespaces/" + ns + "/configmaps", tokenOther);
    assertThat(ok.approved()).as(ok.message()).isTrue();
  }

  @Test
  void tokenOfADeletedPodIsRefusedEvenAfterItWasAccepted(KubernetesClient admin) {
    Pod gone = fixture.pod(ns, "pod-gone", "a", "edge-a");
    String token = fixture.token(gone);
    var before = edge("edge-a").http("GET", "/api/v1/namespaces/" + ns + "/configmaps", token);
    assertThat(before.approved()).as(before.message()).isTrue();

    fixture.deletePodNow(gone);
    SimulatedMetaServer.Reply[] last = new SimulatedMetaServer.Reply[1];
    Waits.until(
        "token of the deleted pod refused",
        Duration.ofSeconds(30),
        () -> {
          last[0] = edge("edge-a").http("GET", "/api/v1/namespaces/" + ns + "/configmaps", token);
          return !last[0].approved();
        });
    assertThat(last[0].code()).isEqualTo(401);
    assertThat(last[0].message()).contains("pod-gone").contains("no longer exists");
  }

  @Test
  void tokenlessRequestOfAKedgeEdgeRunsAsTheNode() {
    var r = edge("edge-a").http("GET", "/api/v1/namespaces/" + ns + "/configmaps/cfg", null);
    assertThat(r.approved()).isFalse();
    assertThat(r.code()).isEqualTo(403);
    assertThat(r.message())
        .contains("User \"system:node:edge-a\" cannot get resource \"configmaps\"");
  }

  /**
   * KubeEdge's edges never forward a token (they authorize the pod themselves): by default their
   * requests run as cloudcore, bounded by cloudcore's RBAC, as on KubeEdge's cloud.
   */
  @Test
  void kubeEdgeEdgesRunAsCloudcoreByDefault() {
    var k = edge("edge-a").kubeEdge("get", "/core/v1/configmaps/" + ns + "/cfg", "{}", null, "");
    assertThat(k.approved()).as(k.message()).isTrue();
    assertThat(k.json().at("/data/k").asString()).isEqualTo("v");
    assertThat(k.app().nodename()).isEqualTo("edge-a");
    // what cloudcore's RBAC does not grant is the apiserver's 403 for cloudcore
    var create =
        edge("edge-a")
            .kubeEdge(
                "create",
                "/core/v1/configmaps/" + ns + "/null",
                "{\"kind\":\"CreateOptions\",\"apiVersion\":\"meta.k8s.io/v1\"}",
                "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"by-kubeedge\"}}",
                "");
    assertThat(create.approved()).isFalse();
    assertThat(create.code()).isEqualTo(403);
    assertThat(create.message())
        .contains(
            "User \"system:serviceaccount:kubeedge:cloudcore\" cannot create resource"
                + " \"configmaps\"");
  }

  /**
   * The recorded KubeEdge edge's LIST and WATCH of ConfigMaps (golden seq 1341, 1346) get answers
   * of the recorded shape (1342, 1347): Approved with the list, as KubeEdge's cloud running them as
   * cloudcore answered. As the node they would be refused.
   */
  @Test
  void recordedKubeEdgeListAndWatchGetTheRecordedAnswers(KubernetesClient admin) {
    fixture.configMap(ns, "cfg1", Map.of("greeting", "hello"));
    Waits.until(
        "kube-root-ca.crt in " + ns,
        Duration.ofSeconds(60),
        () -> admin.configMaps().inNamespace(ns).withName("kube-root-ca.crt").get() != null);
    for (int[] exchange : new int[][] {{1341, 1342}, {1346, 1347}}) {
      Application recorded = recordedApplication(exchange[0]);
      JsonNode want = GoldenTrace.message(exchange[1]).get("content");
      var reply = edge("edge-r1").send(recorded);
      assertThat(ShapeDiff.of(want, reply.wire().content()))
          .as("the answer to seq %d", exchange[0])
          .isEmpty();
      assertThat(reply.wire().route().operation()).isEqualTo("applicationResponse");
    }
    edge("edge-r1").sync(Map.of()); // the watch ends, as at seq 1675
    try (DynamicController asNode =
        new DynamicController(
            DynamicControllerOptions.defaults()
                .withIdentity(
                    DynamicControllerOptions.Identity.POD, DynamicControllerOptions.Tokenless.NODE),
            cloudcore,
            messenger,
            null)) {
      asNode.start().join();
      var refused =
          new SimulatedMetaServer("edge-r1", asNode, messenger).send(recordedApplication(1341));
      assertThat(ShapeDiff.of(GoldenTrace.message(1342).get("content"), refused.wire().content()))
          .contains("$.Status: \"Rejected\", recorded \"Approved\"");
    }
  }

  /** A recorded Application of the KubeEdge edge, for this test's namespace (the node is ours). */
  Application recordedApplication(int seq) {
    String text =
        Json.string(GoldenTrace.message(seq).get("content")).replace("/demo/", "/" + ns + "/");
    return Application.fromJson(Json.parse(text));
  }

  /** {@code tokenlessIdentity: node} takes KubeEdge's edges down to the node's rights. */
  @Test
  void tokenlessIdentityNodeAppliesToKubeEdgeEdges() {
    try (DynamicController asNode =
        new DynamicController(
            DynamicControllerOptions.defaults()
                .withIdentity(
                    DynamicControllerOptions.Identity.POD, DynamicControllerOptions.Tokenless.NODE),
            cloudcore,
            messenger,
            null)) {
      asNode.start().join();
      var k =
          new SimulatedMetaServer("edge-a", asNode, messenger)
              .kubeEdge("get", "/core/v1/configmaps/" + ns + "/cfg", "{}", null, "");
      assertThat(k.approved()).isFalse();
      assertThat(k.code()).isEqualTo(403);
      assertThat(k.message()).contains("User \"system:node:edge-a\"");
    }
  }

  @Test
  void forgedTokenIsUnauthorized() {
    var r =
        edge("edge-a")
            .http(
                "GET",
                "/api/v1/namespaces/" + ns + "/configmaps",
                tokenA.substring(0, tokenA.length() - 4) + "AAAA");
    assertThat(r.approved()).isFalse();
    assertThat(r.code()).isEqualTo(401);
  }
}
