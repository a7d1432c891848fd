package io.kedge.edge.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import io.kedge.protocol.config.EdgeCoreConfig;
import io.kedge.protocol.config.EdgeCoreConfig.EdgedConfig;
import io.kedge.protocol.message.Message;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class NodeLifecycleTest {
  private static final String NODE = "edge-node-1";

  final FakeCloud cloud = new FakeCloud();
  final AtomicReference<Instant> now =
      new AtomicReference<>(Instant.parse("2026-11-25T19:43:19.288194Z"));
  final List<NodeLifecycle> started = new ArrayList<>();

  @AfterEach
  void stop() {
    started.forEach(NodeLifecycle::close);
  }

  private static EdgedConfig edged(String sets) {
    return EdgeCoreConfig.load(null, sets.isEmpty() ? List.of() : List.of(sets))
        .config()
        .modules()
        .edged();
  }

  private NodeLifecycle lifecycle(EdgedConfig edged) {
    NodeFacts facts =
        new NodeFacts(
            Map.of("cpu", "2", "memory", "1024Ki", "pods", "110"),
            Map.of("cpu", "2", "memory", "1000Ki", "pods", "110"),
            Map.of("architecture", "amd64", "operatingSystem", "linux", "kubeletVersion", "v1"));
    Clock clock = new io.kedge.edge.SettableClock(now);
    NodeLifecycle l =
        new NodeLifecycle(
            cloud, NODE, edged, Duration.ofSeconds(5), () -> Optional.of("10.1.2.3"), facts, clock);
    started.add(l);
    return l;
  }

  @Test
  void registersReportsStatusAndCreatesThenRenewsTheLease() {
    NodeLifecycle l = lifecycle(edged(""));
    l.sync();

    Message reg = cloud.requests.get(0);
    assertThat(reg.route().source()).isEqualTo("edged");
    assertThat(reg.route().group()).isEqualTo("meta");
    assertThat(reg.operation()).isEqualTo("insert");
    assertThat(reg.resource()).isEqualTo("default/node/edge-node-1");
    JsonNode node = reg.content();
    assertThat(node.path("metadata").path("labels").path("node-role.kubernetes.io/edge").asString())
        .isEmpty();
    assertThat(node.path("metadata").path("labels").has("node-role.kubernetes.io/edge")).isTrue();
    assertThat(node.path("status").path("addresses").get(0).path("address").asString())
        .isEqualTo("10.1.2.3");

    Message patch = cloud.requests.get(1);
    assertThat(patch.operation()).isEqualTo("patch");
    assertThat(patch.resource()).isEqualTo("default/nodepatch/edge-node-1");
    assertThat(patch.content().isString()).isTrue();
    JsonNode status = Json.parse(patch.content().asString()).path("status");
    JsonNode ready = status.path("conditions").get(3);
    assertThat(ready.path("type").asString()).isEqualTo("Ready");
    assertThat(ready.path("status").asString()).isEqualTo("True");
    assertThat(ready.path("lastHeartbeatTime").asString()).isEqualTo("2026-11-25T19:43:19Z");
    assertThat(status.path("capacity").path("pods").asString()).isEqualTo("110");
    assertThat(status.path("nodeInfo").path("architecture").asString()).isEqualTo("amd64");
    assertThat(status.path("$setElementOrder/conditions").size()).isEqualTo(4);

    Message q = cloud.requests.get(2);
    assertThat(q.operation()).isEqualTo("query");
    assertThat(q.resource()).isEqualTo("kube-node-lease/lease/edge-node-1");
    Message ins = cloud.requests.get(3);
    assertThat(ins.operation()).isEqualTo("insert");
    JsonNode owner = ins.content().path("metadata").path("ownerReferences").get(0);
    assertThat(owner.path("kind").asString()).isEqualTo("Node");
    assertThat(owner.path("uid").asString()).isEqualTo(l.nodeUid().orElseThrow());
    assertThat(ins.content().path("spec").path("renewTime").asString())
        .isEqualTo("2026-11-25T19:43:19.288194Z");
    assertThat(ins.content().path("spec").path("leaseDurationSeconds").asInt()).isEqualTo(40);

    String createdRv =
        cloud.objects.get("lease/" + NODE).path("metadata").path("resourceVersion").asString();
    now.set(now.get().plusSeconds(10));
    l.sync();
    assertThat(cloud.requests("update", "lease")).hasSize(1);
    Message upd = cloud.requests("update", "lease").get(0);
    assertThat(upd.content().path("metadata").path("resourceVersion").asString())
        .isEqualTo(createdRv);
    assertThat(upd.content().path("spec").path("renewTime").asString())
        .isEqualTo("2026-11-25T19:43:29.288194Z");
    assertThat(cloud.requests("insert", "node")).hasSize(1); // registered once
    assertThat(cloud.requests("patch", "nodepatch")).hasSize(2);
  }

  @Test
  void anExistingNodeIsAdoptedByQuery() {
    cloud.objects.put(
        "node/" + NODE,
        (tools.jackson.databind.node.ObjectNode)
            Json.parse(
                "{\"metadata\":{\"name\":\"edge-node-1\",\"uid\":\"u-1\",\"resourceVersion\":\"5\"}}"));
    NodeLifecycle l = lifecycle(edged(""));
    l.sync();
    assertThat(l.nodeUid()).contains("u-1");
    assertThat(cloud.requests.get(1).operation()).isEqualTo("query");
    assertThat(cloud.requests.get(1).resource()).isEqualTo("default/node/edge-node-1");
  }

  @Test
  void withRegisterNodeOffItOnlyLooksTheNodeUp() {
    NodeLifecycle l = lifecycle(edged("modules.edged.registerNode=false"));
    l.sync();
    assertThat(cloud.requests("insert", "node")).isEmpty();
    assertThat(cloud.requests("patch", "nodepatch")).isEmpty();
    assertThat(l.nodeUid()).isEmpty();
  }

  @Test
  void aNodeDeletedInTheCloudIsRegisteredAgain() {
    NodeLifecycle l = lifecycle(edged(""));
    l.sync();
    String first = l.nodeUid().orElseThrow();
    cloud.objects.remove("node/" + NODE);
    cloud.rv.addAndGet(10);
    l.sync(); // the patch finds no node
    l.sync(); // registers again
    assertThat(cloud.requests("insert", "node")).hasSize(2);
    assertThat(l.nodeUid().orElseThrow()).isNotEqualTo(first);
  }

  @Test
  void aConflictingLeaseIsReadAgain() {
    NodeLifecycle l = lifecycle(edged(""));
    l.sync();
    // someone else updated the lease
    ((tools.jackson.databind.node.ObjectNode) cloud.objects.get("lease/" + NODE).get("metadata"))
        .put("resourceVersion", "999");
    l.sync(); // update → 409
    l.sync(); // query, then update succeeds
    List<Message> leaseOps =
        cloud.requests.stream().filter(m -> m.resource().contains("/lease/")).toList();
    assertThat(leaseOps)
        .extracting(Message::operation)
        .containsExactly("query", "insert", "update", "query", "update");
    assertThat(
            cloud.objects.get("lease/" + NODE).path("metadata").path("resourceVersion").asString())
        .isNotEqualTo("999");
  }

  @Test
  void registrationFailureIsRetriedOnTheNextRound() {
    cloud.override =
        m ->
            m.operation().equals("insert") && m.resource().contains("/node/")
                ? FakeCloud.objectResp(null, FakeCloud.err(403, "Forbidden"))
                : null;
    NodeLifecycle l = lifecycle(edged(""));
    l.sync();
    assertThat(l.nodeUid()).isEmpty();
    assertThat(cloud.requests("patch", "nodepatch")).isEmpty();
    cloud.override = m -> null;
    l.sync();
    assertThat(l.nodeUid()).isPresent();
  }

  @Test
  void offlineRoundsSendNothing() {
    cloud.connected = false;
    NodeLifecycle l = lifecycle(edged("modules.edged.nodeStatusUpdateFrequency=1"));
    l.start();
    l.connected();
    assertThat(cloud.requests).isEmpty();
  }

  @Test
  void messageFormsMatchTheRecordedKubeEdgeSession() throws Exception {
    Set<String> golden = new HashSet<>();
    Path gz =
        Path.of(System.getProperty("kedge.home", "../"))
            .resolve("protocol/src/test/resources/golden/kubeedge-v1.17.0-session.jsonl.gz");
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(
                new GZIPInputStream(Files.newInputStream(gz)), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        JsonNode n = Json.parse(line);
        if ("edge->cloud".equals(n.path("dir").asString())
            && n.path("message").path("route").path("source").asString().equals("edged")) {
          JsonNode route = n.path("message").path("route");
          JsonNode c = n.path("message").path("content");
          golden.add(
              route.path("source").asString()
                  + "/"
                  + route.path("group").asString()
                  + "/"
                  + route.path("operation").asString()
                  + " "
                  + route.path("resource").asString()
                  + " "
                  + c.getNodeType());
        }
      }
    }
    NodeLifecycle l = lifecycle(edged(""));
    l.sync();
    now.set(now.get().plusSeconds(10));
    l.sync();
    for (Message m : cloud.requests) {
      String form =
          m.source()
              + "/"
              + m.group()
              + "/"
              + m.operation()
              + " "
              + m.resource()
              + " "
              + m.content().getNodeType();
      assertThat(golden).as("recorded KubeEdge message forms").contains(form);
    }
    assertThat(cloud.requests).hasSizeGreaterThanOrEqualTo(6);
  }
}
