package io.kedge.cloud.edgecontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.kedge.cloud.CloudCoreFixture;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.testkit.Waits;
import io.kedge.testkit.edge.SimulatedEdge;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/** EdgeController and SyncController against the real apiserver, with cloudcore's own rights. */
@WithControlPlane
class EdgeControllerIT {
  static final Duration T = Duration.ofSeconds(60);
  static final ResourceDefinitionContext OBJECT_SYNCS =
      new ResourceDefinitionContext.Builder()
          .withGroup("reliablesyncs.kubeedge.io")
          .withVersion("v1alpha1")
          .withPlural("objectsyncs")
          .withKind("ObjectSync")
          .withNamespaced(true)
          .build();

  /** Fresh names per run: the control plane may be shared with earlier runs. */
  static String suffix() {
    return Long.toString(System.nanoTime() % 1_000_000, 36);
  }

  static ObjectNode nodeObject(String name) {
    ObjectNode n = Json.object();
    ObjectNode meta = n.putObject("metadata");
    meta.put("name", name);
    meta.putObject("labels").put("kubernetes.io/hostname", name);
    n.putObject("spec");
    return n;
  }

  /** Joins like KubeEdge's edged: node insert, then status. */
  static void register(SimulatedEdge edge, String node) {
    Message reply =
        edge.request(SimulatedEdge.edged("insert", "default/node/" + node, nodeObject(node)), T);
    assertThat(reply.content().path("Err").isNull())
        .as("registration: %s", reply.content())
        .isTrue();
    assertThat(
            reply
                .content()
                .path("Object")
                .path("metadata")
                .path("labels")
                .has(EdgeController.EDGE_LABEL))
        .isTrue();
  }

  static void namespace(KubernetesClient admin, String ns) {
    admin
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .serverSideApply();
    Waits.until(
        "default ServiceAccount in " + ns,
        T,
        () -> admin.serviceAccounts().inNamespace(ns).withName("default").get() != null);
  }

  static Pod pod(String ns, String name, String node) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(ns)
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .addNewContainer()
        .withName("c")
        .withImage("busybox")
        .addNewEnvFrom()
        .withNewSecretRef()
        .withName("sec-a")
        .endSecretRef()
        .endEnvFrom()
        .addNewVolumeMount()
        .withName("cfg")
        .withMountPath("/cfg")
        .endVolumeMount()
        .endContainer()
        .addNewVolume()
        .withName("cfg")
        .withNewConfigMap()
        .withName("cfg-a")
        .endConfigMap()
        .endVolume()
        .endSpec()
        .build();
  }

  @Test
  void registersNodeAndServesItsPodsAndTheirObjects(
      ControlPlane plane, KubernetesClient admin, @TempDir Path dir) {
    String node = "ec-edge-1-" + suffix();
    String ns = "ec-demo-" + suffix();
    namespace(admin, ns);
    admin
        .configMaps()
        .inNamespace(ns)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("cfg-a")
                .endMetadata()
                .addToData("k", "v1")
                .build())
        .create();
    admin
        .configMaps()
        .inNamespace(ns)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("cfg-b")
                .endMetadata()
                .addToData("k", "never")
                .build())
        .create();
    admin
        .secrets()
        .inNamespace(ns)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("sec-a")
                .endMetadata()
                .addToStringData("p", "w")
                .build())
        .create();
    try (CloudCoreFixture f = new CloudCoreFixture(plane, dir)) {
      SimulatedEdge edge = f.connect(node);
      // node query before registration: 404 as KubeEdge answers it
      Message q = edge.request(SimulatedEdge.query("default/node/" + node), T);
      assertThat(q.content().path("ErrStatus").path("code").asInt()).isEqualTo(404);
      register(edge, node);
      Node created = admin.nodes().withName(node).get();
      assertThat(created.getMetadata().getLabels()).containsKey(EdgeController.EDGE_LABEL);

      // status as the node
      String now = Instant.now().toString().replaceAll("\\.\\d+Z$", "Z");
      String patch =
          "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"EdgeReady\",\"lastHeartbeatTime\":\""
              + now
              + "\",\"lastTransitionTime\":\""
              + now
              + "\"}]}}";
      Message st =
          edge.request(
              SimulatedEdge.edged(
                  "patch", "default/nodepatch/" + node, Json.NODES.stringNode(patch)),
              T);
      assertThat(st.content().path("Err").isNull()).as("%s", st.content()).isTrue();
      assertThat(st.header().resourceVersion()).isNotEmpty();
      Waits.until(
          "node Ready",
          T,
          () ->
              admin.nodes().withName(node).get().getStatus().getConditions().stream()
                  .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus())));

      // lease as the node
      Message lq = edge.request(SimulatedEdge.query("kube-node-lease/lease/" + node), T);
      assertThat(lq.content().path("Err").path("ErrStatus").path("code").asInt()).isEqualTo(404);
      ObjectNode lease = Json.object();
      lease.putObject("metadata").put("name", node).put("namespace", "kube-node-lease");
      lease.putObject("spec").put("holderIdentity", node).put("leaseDurationSeconds", 40);
      Message li =
          edge.request(SimulatedEdge.edged("insert", "kube-node-lease/lease/" + node, lease), T);
      assertThat(li.content().path("Err").isNull()).as("%s", li.content()).isTrue();
      // another node's lease is refused by the apiserver (Node authorizer)
      ObjectNode other = lease.deepCopy();
      ((ObjectNode) other.get("metadata")).put("name", "someone-else");
      Message lo =
          edge.request(
              SimulatedEdge.edged("insert", "kube-node-lease/lease/someone-else", other), T);
      assertThat(lo.content().path("Err").path("ErrStatus").path("code").asInt()).isEqualTo(403);

      // a pod bound to the node, and exactly the objects it references
      admin.pods().inNamespace(ns).resource(pod(ns, "p1", node)).create();
      Message podInsert =
          edge.await(m -> m.operation().equals("insert") && m.resource().equals(ns + "/pod/p1"), T);
      assertThat(podInsert.header().resourceVersion()).isNotEmpty();
      assertThat(podInsert.content().path("kind").asString()).isEqualTo("Pod");
      Message cm = edge.await(m -> m.resource().equals(ns + "/configmap/cfg-a"), T);
      assertThat(cm.operation()).isEqualTo("insert");
      Message sec = edge.await(m -> m.resource().equals(ns + "/secret/sec-a"), T);
      assertThat(sec.operation()).isEqualTo("update");
      // queries: referenced yes, unreferenced no
      Message qa = edge.request(SimulatedEdge.query(ns + "/configmap/cfg-a"), T);
      assertThat(qa.content().path("data").path("k").asString()).isEqualTo("v1");
      assertThat(qa.header().resourceVersion()).isNotEmpty();
      Message qb = edge.request(SimulatedEdge.query(ns + "/configmap/cfg-b"), T);
      assertThat(qb.content().path("ErrStatus").path("code").asInt()).isEqualTo(403);

      // ACKs become ObjectSyncs
      String podUid = podInsert.content().path("metadata").path("uid").asString();
      Waits.until(
          "ObjectSync of the pod",
          T,
          () -> {
            GenericKubernetesResource s =
                admin
                    .genericKubernetesResources(OBJECT_SYNCS)
                    .inNamespace(ns)
                    .withName(node + "." + podUid)
                    .get();
            return s != null
                && podInsert
                    .header()
                    .resourceVersion()
                    .equals(
                        ((Map<?, ?>) s.getAdditionalProperties().get("status"))
                            .get("objectResourceVersion"));
          });

      // an update reaches the node
      admin
          .configMaps()
          .inNamespace(ns)
          .withName("cfg-a")
          .edit(
              c -> {
                c.getData().put("k", "v2");
                return c;
              });
      edge.await(
          m ->
              m.operation().equals("update")
                  && m.resource().equals(ns + "/configmap/cfg-a")
                  && m.content().path("data").path("k").asString("").equals("v2"),
          T);

      // pod status as the node
      Message pp =
          edge.request(
              SimulatedEdge.edged(
                  "patch",
                  ns + "/podpatch/p1",
                  Json.NODES.stringNode("{\"status\":{\"phase\":\"Running\"}}")),
              T);
      assertThat(pp.content().path("Err").isNull()).as("%s", pp.content()).isTrue();
      Waits.until(
          "pod Running",
          T,
          () ->
              "Running"
                  .equals(
                      admin.pods().inNamespace(ns).withName("p1").get().getStatus().getPhase()));

      // a service-account token for the pod, as the node
      ObjectNode tr = Json.object();
      ObjectNode spec = tr.putObject("spec");
      spec.put("expirationSeconds", 3600);
      spec.putObject("boundObjectRef")
          .put("kind", "Pod")
          .put("apiVersion", "v1")
          .put("name", "p1")
          .put("uid", podUid);
      Message tok =
          edge.request(SimulatedEdge.edged("query", ns + "/serviceaccounttoken/default", tr), T);
      assertThat(tok.content().path("status").path("token").asString(""))
          .as("%s", tok.content())
          .isNotEmpty();

      // the unreferenced ConfigMap never came
      assertThat(
              edge.receivedMatching(
                  m -> m.resource().endsWith("/configmap/cfg-b") && !m.header().hasParent()))
          .isEmpty();

      // the pod stops referencing the secret when deleted: pod and its objects are deleted
      admin.pods().inNamespace(ns).withName("p1").withGracePeriod(0).delete();
      edge.await(m -> m.operation().equals("delete") && m.resource().equals(ns + "/pod/p1"), T);
      edge.await(
          m -> m.operation().equals("delete") && m.resource().equals(ns + "/configmap/cfg-a"), T);
      edge.await(
          m -> m.operation().equals("delete") && m.resource().equals(ns + "/secret/sec-a"), T);
    }
  }

  @Test
  void nodeThatWasAwayGetsWhatChanged(
      ControlPlane plane, KubernetesClient admin, @TempDir Path dir) {
    String node = "ec-edge-2-" + suffix();
    String ns = "ec-away-" + suffix();
    namespace(admin, ns);
    admin
        .configMaps()
        .inNamespace(ns)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("cfg-a")
                .endMetadata()
                .addToData("k", "before")
                .build())
        .create();
    admin
        .secrets()
        .inNamespace(ns)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("sec-a")
                .endMetadata()
                .addToStringData("p", "w")
                .build())
        .create();
    try (CloudCoreFixture f = new CloudCoreFixture(plane, dir)) {
      SimulatedEdge edge = f.connect(node);
      register(edge, node);
      admin.pods().inNamespace(ns).resource(pod(ns, "p1", node)).create();
      Message cm = edge.await(m -> m.resource().equals(ns + "/configmap/cfg-a"), T);
      String uid = cm.content().path("metadata").path("uid").asString();
      Waits.until(
          "ObjectSync of cfg-a",
          T,
          () ->
              admin
                      .genericKubernetesResources(OBJECT_SYNCS)
                      .inNamespace(ns)
                      .withName(node + "." + uid)
                      .get()
                  != null);
      edge.closeAbruptly();
      Waits.until("node gone", T, () -> !f.core.hub().isConnected(node));

      admin
          .configMaps()
          .inNamespace(ns)
          .withName("cfg-a")
          .edit(
              c -> {
                c.getData().put("k", "while-away");
                return c;
              });
      admin.pods().inNamespace(ns).resource(new PodBuilder(pod(ns, "p2", node)).build()).create();

      SimulatedEdge back = f.connect(node);
      back.await(
          m ->
              m.resource().equals(ns + "/configmap/cfg-a")
                  && m.content().path("data").path("k").asString("").equals("while-away"),
          T);
      back.await(m -> m.operation().equals("insert") && m.resource().equals(ns + "/pod/p2"), T);
      assertThat(back.receivedMatching(m -> m.resource().equals(ns + "/pod/p1"))).isEmpty();
    }
  }
}
