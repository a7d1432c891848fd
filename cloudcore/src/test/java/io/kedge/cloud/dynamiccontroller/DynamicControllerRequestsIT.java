package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EndpointsBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.Json;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Requests of both forms against the real apiserver: Kedge edges' HTTP requests replayed with their
 * query, content types and bytes (JSON, YAML, the four patch types, protobuf), KubeEdge edges'
 * verbs, discovery and OpenAPI (issue 4, "Must show" 4), and the default master filter.
 */
@WithControlPlane
class DynamicControllerRequestsIT {
  static final String OPENAPI_PROTOBUF =
      "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

  @TempDir static Path tmp;

  static KubeClients cloudcore;
  static ClusterFixture fixture;
  static RecordingMessenger messenger;
  static DynamicController controller;
  static String ns;
  static String token;
  static Pod nodePod;

  @BeforeAll
  static void setUp(ControlPlane plane, KubernetesClient admin) {
    cloudcore = ClusterFixture.cloudcore(plane, tmp);
    fixture = new ClusterFixture(admin);
    messenger = new RecordingMessenger();
    controller =
        new DynamicController(DynamicControllerOptions.defaults(), cloudcore, messenger, null);
    controller.start().join();
    ns = fixture.namespace("requests");
    fixture.serviceAccount(ns, "app");
    fixture.grant(
        ns,
        "app",
        List.of("configmaps"),
        List.of("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"));
    Pod pod = fixture.pod(ns, "app", "app", "edge-r");
    token = fixture.token(pod);
    nodePod = fixture.pod(ns, "node-pod", "app", "edge-k");
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

  static SimulatedMetaServer edge(String node) {
    return new SimulatedMetaServer(node, controller, messenger);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  String cms() {
    return "/api/v1/namespaces/" + ns + "/configmaps";
  }

  // ------------------------------------------------------------------ Kedge form

  @Test
  void createWithQueryParametersAsKubectlSendsIt(KubernetesClient admin) {
    var r =
        edge("edge-r")
            .http(
                "POST",
                cms() + "?fieldManager=kubectl-create&fieldValidation=Strict",
                "application/json",
                "application/json",
                utf8(
                    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"created\"},\"data\":{\"a\":\"1\"}}"),
                token);
    assertThat(r.approved()).as(r.message()).isTrue();
    assertThat(r.code()).isEqualTo(201);
    assertThat(r.json().at("/metadata/managedFields/0/manager").asString())
        .isEqualTo("kubectl-create");
    assertThat(admin.configMaps().inNamespace(ns).withName("created").get().getData())
        .containsEntry("a", "1");

    // dryRun: answered like a create, nothing stored
    var dry =
        edge("edge-r")
            .http(
                "POST",
                cms() + "?dryRun=All",
                "",
                "application/json",
                utf8("{\"metadata\":{\"name\":\"dry\"}}"),
                token);
    assertThat(dry.code()).isEqualTo(201);
    assertThat(admin.configMaps().inNamespace(ns).withName("dry").get()).isNull();

    // strict field validation is the apiserver's: an unknown field is a 400 with its message
    var strict =
        edge("edge-r")
            .http(
                "POST",
                cms() + "?fieldValidation=Strict",
                "",
                "application/json",
                utf8("{\"metadata\":{\"name\":\"x\"},\"bogus\":1}"),
                token);
    assertThat(strict.code()).isBetween(200, 499); // 1.20 ignores fieldValidation; no crash, no 5xx
  }

  @Test
  void theFourPatchTypesAndYaml(KubernetesClient admin) {
    fixture.configMap(ns, "patched", Map.of("a", "1"));
    String p = cms() + "/patched";
    var strategic =
        edge("edge-r")
            .http(
                "PATCH",
                p + "?fieldManager=kubectl-patch",
                "application/json",
                "application/strategic-merge-patch+json",
                utf8("{\"data\":{\"b\":\"2\"}}"),
                token);
    assertThat(strategic.code()).as(strategic.message()).isEqualTo(200);
    var merge =
        edge("edge-r")
            .http(
                "PATCH",
                p,
                "application/json",
                "application/merge-patch+json",
                utf8("{\"data\":{\"c\":\"3\"}}"),
                token);
    assertThat(merge.code()).as(merge.message()).isEqualTo(200);
    var json =
        edge("edge-r")
            .http(
                "PATCH",
                p,
                "",
                "application/json-patch+json",
                utf8("[{\"op\":\"add\",\"path\":\"/data/d\",\"value\":\"4\"}]"),
                token);
    assertThat(json.code()).as(json.message()).isEqualTo(200);
    var apply =
        edge("edge-r")
            .http(
                "PATCH",
                cms() + "/applied?fieldManager=fabric8",
                "",
                "application/apply-patch+yaml",
                utf8(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  e: \"5\"\n"),
                token);
    assertThat(apply.code()).as(apply.message()).isEqualTo(201); // apply created it
    assertThat(admin.configMaps().inNamespace(ns).withName("patched").get().getData())
        .containsEntry("a", "1")
        .containsEntry("b", "2")
        .containsEntry("c", "3")
        .containsEntry("d", "4");
    assertThat(admin.configMaps().inNamespace(ns).withName("applied").get().getData())
        .containsEntry("e", "5");

    // an invalid patch is the apiserver's 4xx, passed through
    var bad =
        edge("edge-r")
            .http("PATCH", p, "", "application/json-patch+json", utf8("{not a patch"), token);
    assertThat(bad.approved()).isFalse();
    assertThat(bad.code()).isBetween(400, 499);
    assertThat(bad.status().path("code").asInt()).isEqualTo(bad.code());

    // YAML out
    var yaml = edge("edge-r").http("GET", p, "application/yaml", "", null, token);
    assertThat(yaml.code()).isEqualTo(200);
    assertThat(yaml.app().kedge().responseContentType()).isEqualTo("application/yaml");
    assertThat(yaml.body()).contains("kind: ConfigMap").contains("name: patched");
  }

  @Test
  void updateDeleteAndDeleteCollection(KubernetesClient admin) {
    fixture.configMap(ns, "upd", Map.of("a", "1"));
    var got = edge("edge-r").http("GET", cms() + "/upd", token);
    JsonNode obj = got.json();
    ((tools.jackson.databind.node.ObjectNode) obj.get("data")).put("a", "2");
    var put =
        edge("edge-r").http("PUT", cms() + "/upd", "", "application/json", Json.bytes(obj), token);
    assertThat(put.code()).as(put.message()).isEqualTo(200);
    // the same resourceVersion again: the apiserver's conflict
    var conflict =
        edge("edge-r").http("PUT", cms() + "/upd", "", "application/json", Json.bytes(obj), token);
    assertThat(conflict.code()).isEqualTo(409);
    assertThat(conflict.status().path("reason").asString()).isEqualTo("Conflict");

    var del =
        edge("edge-r")
            .http(
                "DELETE",
                cms() + "/upd?propagationPolicy=Background",
                "",
                "application/json",
                utf8("{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"gracePeriodSeconds\":0}"),
                token);
    assertThat(del.code()).as(del.message()).isEqualTo(200);
    assertThat(admin.configMaps().inNamespace(ns).withName("upd").get()).isNull();

    for (String n : List.of("bulk-1", "bulk-2")) {
      admin
          .configMaps()
          .inNamespace(ns)
          .resource(
              new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
                  .withNewMetadata()
                  .withName(n)
                  .addToLabels("bulk", "yes")
                  .endMetadata()
                  .build())
          .create();
    }
    var dc = edge("edge-r").http("DELETE", cms() + "?labelSelector=bulk%3Dyes", token);
    assertThat(dc.code()).as(dc.message()).isEqualTo(200);
    assertThat(admin.configMaps().inNamespace(ns).withLabel("bulk", "yes").list().getItems())
        .isEmpty();

    var missing = edge("edge-r").http("GET", cms() + "/nope", token);
    assertThat(missing.code()).isEqualTo(404);
    assertThat(missing.message()).isEqualTo("configmaps \"nope\" not found");
  }

  @Test
  void protobufSelfSubjectAccessReviewAsKubectlAuthCanI() {
    String ct = "application/vnd.kubernetes.protobuf";
    var yes =
        edge("edge-r")
            .http(
                "POST",
                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                "application/vnd.kubernetes.protobuf,application/json",
                ct,
                K8sProtobuf.selfSubjectAccessReview(ns, "list", "configmaps"),
                token);
    assertThat(yes.code()).as(yes.message()).isEqualTo(201);
    assertThat(yes.app().kedge().responseContentType()).isEqualTo(ct);
    assertThat(K8sProtobuf.typeKind(yes.app().respBody())).isEqualTo("SelfSubjectAccessReview");
    // evaluated for the pod's ServiceAccount: its Role allows configmaps, nothing grants secrets
    assertThat(K8sProtobuf.allowed(yes.app().respBody())).isTrue();
    var no =
        edge("edge-r")
            .http(
                "POST",
                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                "application/vnd.kubernetes.protobuf,application/json",
                ct,
                K8sProtobuf.selfSubjectAccessReview(ns, "list", "secrets"),
                token);
    assertThat(K8sProtobuf.allowed(no.app().respBody())).isFalse();
  }

  @Test
  void openApiV2AsProtobufComesBackAsTheApiserversBytes(ControlPlane plane) throws Exception {
    var r =
        edge("edge-r").http("GET", "/openapi/v2?timeout=32s", OPENAPI_PROTOBUF, "", null, token);
    assertThat(r.code()).isEqualTo(200);

    HttpClient direct = HttpClient.newBuilder().sslContext(plane.adminSslContext()).build();
    HttpResponse<byte[]> d =
        direct.send(
            HttpRequest.newBuilder(URI.create(plane.apiserverUrl() + "/openapi/v2?timeout=32s"))
                .header("Accept", OPENAPI_PROTOBUF)
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.app().kedge().responseContentType())
        .isEqualTo(d.headers().firstValue("Content-Type").orElse(""))
        .doesNotContain("json");
    assertThat(r.app().respBody()).hasSizeGreaterThan(100_000).isEqualTo(d.body());
    assertThat(r.app().respBody()[0]).isNotEqualTo((byte) '{');

    // and JSON when asked for JSON
    var json = edge("edge-r").http("GET", "/openapi/v2", "application/json", "", null, token);
    assertThat(json.code()).isEqualTo(200);
    assertThat(json.json().path("swagger").asString()).isEqualTo("2.0");
  }

  @Test
  void discoveryAndNonResourcePaths() {
    for (String p : List.of("/api", "/apis", "/api/v1", "/apis/apps/v1", "/version", "/healthz")) {
      var r = edge("edge-r").http("GET", p, token);
      assertThat(r.code()).as(p + ": " + r.message()).isEqualTo(200);
    }
    assertThat(edge("edge-r").http("GET", "/version", token).json().path("gitVersion").asString())
        .startsWith("v1.20");
    // 1.20 has no OpenAPI v3: its 404 (with the body it sends) passes through
    var v3 = edge("edge-r").http("GET", "/openapi/v3", "application/json, */*", "", null, token);
    assertThat(v3.code()).isEqualTo(404);
    assertThat(v3.approved()).isFalse();
    // what the cloud does not relay
    var metrics = edge("edge-r").http("GET", "/metrics", token);
    assertThat(metrics.code()).isEqualTo(404);
    var exec =
        edge("edge-r")
            .http("POST", "/api/v1/namespaces/" + ns + "/pods/app/exec?command=sh", token);
    assertThat(exec.code()).isEqualTo(403);
    // KubeEdge edges ask for discovery with the path as the key
    var k = edge("edge-r").kubeEdge("get", "/apis", null, null, "");
    assertThat(k.approved()).as(k.message()).isTrue();
    assertThat(k.json().path("kind").asString()).isEqualTo("APIGroupList");
  }

  // ------------------------------------------------------------------ KubeEdge form

  /** KubeEdge's verbs, run as the node ({@code tokenlessIdentity: node}). */
  @Test
  void kubeEdgeVerbsRunAsTheNode(KubernetesClient admin) {
    try (DynamicController asNode =
        new DynamicController(
            DynamicControllerOptions.defaults()
                .withIdentity(
                    DynamicControllerOptions.Identity.POD, DynamicControllerOptions.Tokenless.NODE),
            cloudcore,
            messenger,
            null)) {
      asNode.start().join();
      kubeEdgeVerbs(admin, new SimulatedMetaServer("edge-k", asNode, messenger));
    }
  }

  private void kubeEdgeVerbs(KubernetesClient admin, SimulatedMetaServer e) {
    String lease =
        "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"edge-k\","
            + "\"namespace\":\"kube-node-lease\"},\"spec\":{\"holderIdentity\":\"edge-k\","
            + "\"leaseDurationSeconds\":40}}";
    var created =
        e.kubeEdge(
            "create",
            "/coordination.k8s.io/v1/leases/kube-node-lease/null",
            "{\"kind\":\"CreateOptions\",\"apiVersion\":\"meta.k8s.io/v1\"}",
            lease,
            "");
    assertThat(created.approved()).as(created.message()).isTrue();
    assertThat(created.json().at("/metadata/name").asString()).isEqualTo("edge-k");
    assertThat(created.app().kedge()).isNull();

    var got =
        e.kubeEdge("get", "/coordination.k8s.io/v1/leases/kube-node-lease/edge-k", "{}", null, "");
    assertThat(got.approved()).isTrue();
    JsonNode leaseObj = got.json();
    ((tools.jackson.databind.node.ObjectNode) leaseObj.get("spec")).put("leaseDurationSeconds", 41);
    var updated =
        e.kubeEdge(
            "update",
            "/coordination.k8s.io/v1/leases/kube-node-lease/edge-k",
            "{}",
            Json.string(leaseObj),
            "");
    assertThat(updated.approved()).as(updated.message()).isTrue();
    assertThat(updated.json().at("/spec/leaseDurationSeconds").asInt()).isEqualTo(41);

    String patchInfo =
        "{\"Name\":\"edge-k\",\"PatchType\":\"application/merge-patch+json\",\"Data\":\""
            + Base64.getEncoder().encodeToString(utf8("{\"spec\":{\"leaseDurationSeconds\":42}}"))
            + "\",\"Options\":{\"kind\":\"PatchOptions\",\"apiVersion\":\"meta.k8s.io/v1\"},"
            + "\"Subresources\":[\"\"]}";
    var patched =
        e.kubeEdge(
            "patch", "/coordination.k8s.io/v1/leases/kube-node-lease/edge-k", patchInfo, null, "");
    assertThat(patched.approved()).as(patched.message()).isTrue();
    assertThat(patched.json().at("/spec/leaseDurationSeconds").asInt()).isEqualTo(42);

    // a list: items carry apiVersion and kind, as KubeEdge's dynamic client returns them
    var services = e.kubeEdge("list", "/core/v1/services/default/null", "{}", null, "");
    assertThat(services.approved()).as(services.message()).isTrue();
    assertThat(services.json().path("items").get(0).path("kind").asString()).isEqualTo("Service");

    // updatestatus of the node's own pod
    var pod = e.kubeEdge("get", "/core/v1/pods/" + ns + "/node-pod", "{}", null, "");
    assertThat(pod.approved()).as(pod.message()).isTrue();
    var p = (tools.jackson.databind.node.ObjectNode) pod.json();
    ((tools.jackson.databind.node.ObjectNode) p.get("status")).put("phase", "Running");
    var status =
        e.kubeEdge("updatestatus", "/core/v1/pods/" + ns + "/node-pod", "{}", Json.string(p), "");
    assertThat(status.approved()).as(status.message()).isTrue();
    assertThat(admin.pods().inNamespace(ns).withName("node-pod").get().getStatus().getPhase())
        .isEqualTo("Running");

    var deleted =
        e.kubeEdge(
            "delete",
            "/coordination.k8s.io/v1/leases/kube-node-lease/edge-k",
            "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"meta.k8s.io/v1\"}",
            null,
            "");
    assertThat(deleted.approved()).as(deleted.message()).isTrue();
    assertThat(deleted.app().respBody()).isNull();
    assertThat(admin.leases().inNamespace("kube-node-lease").withName("edge-k").get()).isNull();

    // denied: the Node authorizer's answer
    var denied = e.kubeEdge("list", "/core/v1/secrets/" + ns + "/null", "{}", null, "");
    assertThat(denied.approved()).isFalse();
    assertThat(denied.code()).isEqualTo(403);
    assertThat(denied.app().error().path("ErrStatus").has("kind")).isFalse();
  }

  // ------------------------------------------------------------------ filter

  @Test
  void defaultKubernetesEndpointsPointAtMetaServer(KubernetesClient admin) {
    admin
        .endpoints()
        .inNamespace("default")
        .resource(
            new EndpointsBuilder()
                .withNewMetadata()
                .withName("kubernetes")
                .endMetadata()
                .addNewSubset()
                .addNewAddress()
                .withIp("10.9.8.7")
                .endAddress()
                .addNewPort()
                .withName("https")
                .withPort(6443)
                .withProtocol("TCP")
                .endPort()
                .endSubset()
                .build())
        .createOr(x -> x.update());
    admin
        .rbac()
        .roles()
        .inNamespace("default")
        .resource(
            new RoleBuilder()
                .withNewMetadata()
                .withName("read-endpoints-" + ns)
                .endMetadata()
                .withRules(
                    new PolicyRuleBuilder()
                        .withApiGroups("")
                        .withResources("endpoints")
                        .withVerbs("get", "list")
                        .build())
                .build())
        .create();
    admin
        .rbac()
        .roleBindings()
        .inNamespace("default")
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName("read-endpoints-" + ns)
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", "read-endpoints-" + ns)
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("app")
                .withNamespace(ns)
                .endSubject()
                .build())
        .create();
    Waits.until(
        "the apiserver lets app get endpoints in default",
        Duration.ofSeconds(30),
        () ->
            fixture.allowed("system:serviceaccount:" + ns + ":app", "default", "get", "endpoints"));
    var one = edge("edge-r").http("GET", "/api/v1/namespaces/default/endpoints/kubernetes", token);
    assertThat(one.code()).as(one.message()).isEqualTo(200);
    assertThat(one.json().at("/subsets/0/addresses/0/ip").asString()).isEqualTo("127.0.0.1");
    assertThat(one.json().at("/subsets/0/ports/0/port").asInt()).isEqualTo(10550);
    // KubeEdge's default: cloudcore's own identity (its RBAC lists endpoints)
    SimulatedMetaServer.Reply list;
    try (DynamicController asCloudcore =
        new DynamicController(
            DynamicControllerOptions.defaults()
                .withIdentity(
                    DynamicControllerOptions.Identity.CLOUDCORE,
                    DynamicControllerOptions.Tokenless.CLOUDCORE),
            cloudcore,
            messenger,
            null)) {
      asCloudcore.start().join();
      list =
          new SimulatedMetaServer("edge-r", asCloudcore, messenger)
              .kubeEdge("list", "/core/v1/endpoints/default/null", "{}", null, "");
    }
    assertThat(list.approved()).as(list.message()).isTrue();
    JsonNode item = null;
    for (JsonNode i : list.json().path("items")) {
      if (i.at("/metadata/name").asString().equals("kubernetes")) {
        item = i;
      }
    }
    assertThat(item).isNotNull();
    assertThat(item.at("/subsets/0/addresses/0/ip").asString()).isEqualTo("127.0.0.1");
    // the object itself is untouched
    assertThat(
            admin
                .endpoints()
                .inNamespace("default")
                .withName("kubernetes")
                .get()
                .getSubsets()
                .get(0)
                .getAddresses()
                .get(0)
                .getIp())
        .isEqualTo("10.9.8.7");
  }
}
