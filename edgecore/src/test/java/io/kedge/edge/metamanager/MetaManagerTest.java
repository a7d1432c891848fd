package io.kedge.edge.metamanager;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.ResourceCatalog;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import io.kedge.edge.store.StoredObject;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageCodec;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetaManagerTest {
  static final Gvr PODS = Gvr.core("pods");
  static final Gvr CMS = Gvr.core("configmaps");
  static final Gvr SAA = new Gvr("policy.kubeedge.io", "v1alpha1", "serviceaccountaccesses");

  @TempDir Path dir;
  ObjectStore store;
  MetaManager mm;

  @BeforeEach
  void open() {
    store = SqliteStore.open(StoreSettings.defaults(dir.resolve("edge.db")));
    mm = new MetaManager(store, new ResourceCatalog(store));
  }

  @AfterEach
  void close() {
    store.close();
  }

  /** cloud→edge object messages of the recorded KubeEdge v1.17.0 session, in order. */
  static List<Message> golden() throws Exception {
    List<Message> out = new ArrayList<>();
    try (InputStream in =
            MetaManagerTest.class.getResourceAsStream("/golden/cloud-to-edge-objects.jsonl.gz");
        BufferedReader r =
            new BufferedReader(
                new InputStreamReader(new GZIPInputStream(in), StandardCharsets.UTF_8))) {
      String l;
      while ((l = r.readLine()) != null) {
        out.add(MessageCodec.fromTree(Json.parse(l).get("message")));
      }
    }
    return out;
  }

  @Test
  void theRecordedSessionLeavesWhatTheCloudHadAtItsEnd() throws Exception {
    List<Message> msgs = golden();
    boolean sawPod = false;
    for (Message m : msgs) {
      mm.handle(m).toCompletableFuture().get();
      if (m.resource().equals("demo/pod/golden") && !m.operation().equals("delete")) {
        sawPod = true;
        assertThat(store.get(PODS, "demo", "golden")).isPresent();
      }
      if (m.resource().equals("demo/configmap/made-at-edge") && m.operation().equals("update")) {
        StoredObject o = store.get(CMS, "demo", "made-at-edge").orElseThrow();
        assertThat(Json.parse(o.json()).path("data").path("b").asString()).isEqualTo("2");
      }
    }
    assertThat(sawPod).isTrue();
    // pod golden, SAA app and the ConfigMap made at the edge were deleted by the end
    assertThat(store.get(PODS, "demo", "golden")).isEmpty();
    assertThat(store.get(SAA, "demo", "app")).isEmpty();
    assertThat(store.get(CMS, "demo", "made-at-edge")).isEmpty();
    // SAA noperm was never deleted
    StoredObject noperm = store.get(SAA, "demo", "noperm").orElseThrow();
    assertThat(Json.parse(noperm.json()).path("kind").asString()).isEqualTo("ServiceAccountAccess");
    // the pod went through 9 versions and one deletion: all logged, in order
    assertThat(store.events(PODS, 0, 100))
        .extracting(e -> e.type().name())
        .last()
        .isEqualTo("DELETED");
  }

  @Test
  void redeliveryIsHarmlessAndOlderVersionsDoNotWin() throws Exception {
    List<Message> pods =
        golden().stream().filter(m -> m.resource().equals("demo/pod/golden")).toList();
    Message newest = pods.get(pods.size() - 2); // last update before the delete
    mm.handle(newest).toCompletableFuture().get();
    for (Message m : pods.subList(0, pods.size() - 2)) {
      mm.handle(m).toCompletableFuture().get(); // older versions, resent late
    }
    mm.handle(newest).toCompletableFuture().get();
    StoredObject o = store.get(PODS, "demo", "golden").orElseThrow();
    assertThat(Long.toString(o.resourceVersion())).isEqualTo(newest.header().resourceVersion());
    assertThat(store.events(PODS, 0, 100)).hasSize(1);
  }

  @Test
  void typedObjectsWithoutKindAndClusterScopedWatchEvents() throws Exception {
    Message pod =
        new Message(
            MessageHeader.create().withResourceVersion("77"),
            new MessageRoute("edgecontroller", "resource", "insert", "ns1/pod/p1"),
            Json.parse(
                "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"ns1\",\"uid\":\"u\"},\"spec\":{}}"));
    mm.handle(pod).toCompletableFuture().get();
    StoredObject p = store.get(PODS, "ns1", "p1").orElseThrow();
    assertThat(p.resourceVersion()).isEqualTo(77); // from the header
    assertThat(Json.parse(p.json()).path("kind").asString()).isEqualTo("Pod");

    Message ns =
        new Message(
            MessageHeader.create().withResourceVersion("80"),
            new MessageRoute("dynamiccontroller", "resource", "insert", "null/namespace/ns1"),
            Json.parse(
                "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ns1\",\"resourceVersion\":\"80\"}}"));
    mm.handle(ns).toCompletableFuture().get();
    assertThat(store.get(Gvr.core("namespaces"), "", "ns1")).isPresent();

    Message crd =
        new Message(
            MessageHeader.create().withResourceVersion("81"),
            new MessageRoute("dynamiccontroller", "resource", "insert", "ns1/widget/w1"),
            Json.parse(
                "{\"apiVersion\":\"example.io/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w1\",\"namespace\":\"ns1\",\"resourceVersion\":\"81\"}}"));
    mm.handle(crd).toCompletableFuture().get();
    assertThat(store.get(new Gvr("example.io", "v1", "widgets"), "ns1", "w1")).isPresent();
  }

  @Test
  void contentThatCannotBeStoredIsAcknowledgedAndChangesNothing() throws Exception {
    Message bad =
        new Message(
            MessageHeader.create(),
            new MessageRoute("edgecontroller", "resource", "insert", "ns1/pod/p1"),
            Json.parse("[1,2,3]"));
    mm.handle(bad).toCompletableFuture().get();
    Message noName =
        new Message(
            MessageHeader.create(),
            new MessageRoute("edgecontroller", "resource", "update", "ns1/configmap"),
            Json.parse("{}"));
    mm.handle(noName).toCompletableFuture().get();
    Message unknown =
        new Message(
            MessageHeader.create(),
            new MessageRoute("edgecontroller", "resource", "update", "ns1/rule/r1"),
            Json.parse("{\"x\":1}"));
    mm.handle(unknown).toCompletableFuture().get();
    assertThat(store.headSeq()).isZero();
    assertThat(store.blob("message/ns1/rule/r1")).isPresent();
  }
}
