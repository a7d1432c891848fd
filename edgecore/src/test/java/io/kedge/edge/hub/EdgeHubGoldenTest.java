package io.kedge.edge.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import io.kedge.protocol.config.EdgeCoreConfig;
import io.kedge.protocol.config.EdgeCoreConfig.EdgeHubConfig;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageCodec;
import io.kedge.testkit.Waits;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Replays every cloud→edge message of the recorded KubeEdge v1.17.0 session into EdgeHub and
 * compares its acknowledgements with the real edge's: everything the cloud needs acknowledged
 * (object changes, and replies carrying a resourceversion) is, and nothing else is dispatched.
 */
class EdgeHubGoldenTest {
  @TempDir Path dir;

  @Test
  void acknowledgesWhatKubeEdgesEdgeAcknowledgedAndTheCloudNeeds() throws Exception {
    List<Message> fromCloud = new ArrayList<>();
    Set<String> ackedByKubeEdge = new HashSet<>();
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
        if (!n.has("message")) {
          continue;
        }
        Message m = MessageCodec.fromTree(n.get("message"));
        if ("cloud->edge".equals(n.path("dir").asString())) {
          fromCloud.add(m);
        } else if (m.isAck()) {
          ackedByKubeEdge.add(m.parentId());
        }
      }
    }

    TestPki pki = new TestPki();
    List<Message> handled = new CopyOnWriteArrayList<>();
    try (TestBootstrapServer certs = new TestBootstrapServer(pki);
        TestCloudHub cloud = new TestCloudHub(pki).start()) {
      EdgeHubConfig cfg =
          EdgeCoreConfig.load(
                  null,
                  List.of(
                      "modules.edgeHub.websocket.server="
                          + cloud.address()
                          + ",modules.edgeHub.httpServer="
                          + certs.uri()
                          + ",modules.edgeHub.token="
                          + certs.token()
                          + ",modules.edgeHub.tlsCaFile="
                          + dir.resolve("ca.crt")
                          + ",modules.edgeHub.tlsCertFile="
                          + dir.resolve("edge.crt")
                          + ",modules.edgeHub.tlsPrivateKeyFile="
                          + dir.resolve("edge.key")))
              .config()
              .modules()
              .edgeHub();
      try (EdgeHub hub = new EdgeHub(cfg, "edge-node-1")) {
        hub.setDownstreamHandler(
            m -> {
              handled.add(m);
              return CompletableFuture.completedFuture(null);
            });
        hub.start();
        Waits.until("connected", Duration.ofSeconds(30), hub::isConnected);
        cloud.sendAll(fromCloud);
        Set<String> needed = new HashSet<>();
        for (Message m : fromCloud) {
          boolean reply = m.header().hasParent();
          if (!reply || !m.header().resourceVersion().isEmpty()) {
            needed.add(m.id());
          }
        }
        Set<String> acked = new HashSet<>();
        Waits.until(
            "every needed acknowledgement",
            Duration.ofSeconds(60),
            () -> {
              Message a;
              while ((a = cloud.received.poll()) != null) {
                if (a.isAck()) {
                  acked.add(a.parentId());
                }
              }
              return acked.containsAll(needed);
            });
        assertThat(acked).isEqualTo(needed);
        // Whatever the cloud needs acknowledged, KubeEdge's edge acknowledged too, except replies
        // to status patches (KubeEdge's cloud never waits for those; an extra ACK is harmless).
        for (Message m : fromCloud) {
          if (needed.contains(m.id()) && !ackedByKubeEdge.contains(m.id())) {
            assertThat(m.resource()).matches(".*/(nodepatch|podpatch)/.*");
          }
        }
        assertThat(handled)
            .allMatch(m -> !m.header().hasParent())
            .hasSize((int) fromCloud.stream().filter(m -> !m.header().hasParent()).count());
      }
    }
  }
}
