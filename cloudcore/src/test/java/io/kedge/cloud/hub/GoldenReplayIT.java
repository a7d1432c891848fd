package io.kedge.cloud.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageCodec;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.ControlPlane;
import io.kedge.testkit.edge.SimulatedEdge;
import io.kedge.testkit.junit.WithControlPlane;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Must-show 1 (cloud side): the handshake, registration, keepalive and ACK portions of the recorded
 * KubeEdge v1.17.0 session, replayed against the real {@code bin/cloudcore} (node name, ids and
 * UIDs rewritten), get answers with the same operations, resources and {@code parent_msg_id}
 * correlation as recorded.
 */
@WithControlPlane
class GoldenReplayIT {
  static final String RECORDED_NODE = "edge-node-1";
  static final Duration T = Duration.ofSeconds(30);

  /** Registration, node status, lease, keepalive, ACKs, the k8s CA and the MetaServer CSR. */
  static final Set<Integer> EXTRA = Set.of(158, 159, 160, 161, 162);

  static List<JsonNode> golden() throws IOException {
    Path f =
        CloudCoreProcess.kedgeHome()
            .resolve("protocol/src/test/resources/golden/kubeedge-v1.17.0-session.jsonl.gz");
    List<JsonNode> out = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(
                new GZIPInputStream(Files.newInputStream(f)), StandardCharsets.UTF_8))) {
      String l;
      while ((l = r.readLine()) != null) {
        out.add(Json.parse(l));
      }
    }
    return out;
  }

  static String shape(JsonNode content) {
    if (content.isString()) {
      return "string";
    }
    if (content.has("Object") && content.has("Err")) {
      int code = content.path("Err").path("ErrStatus").path("code").asInt(0);
      return "ObjectResp" + (code == 0 ? "" : " Err " + code);
    }
    if (content.has("ErrStatus")) {
      return "ErrStatus " + content.path("ErrStatus").path("code").asInt(0);
    }
    return content.isObject()
        ? "object " + content.path("kind").asString("")
        : content.getNodeType().toString();
  }

  @Test
  void replayedSessionGetsTheRecordedAnswers(ControlPlane plane, @TempDir Path dir)
      throws Exception {
    String node = "golden-" + Long.toString(System.nanoTime() % 1_000_000, 36);
    List<JsonNode> lines = golden();
    JsonNode handshake = lines.get(0).get("handshake");
    try (CloudCoreProcess cc = CloudCoreProcess.start(plane, dir)) {
      // the handshake as recorded: path and header spelling of KubeEdge's Go client
      Map<String, String> headers = new LinkedHashMap<>();
      for (JsonNode h : handshake.get("headers")) {
        String name = h.get(0).asString();
        if (Set.of("Node_id", "Connectionuse", "Project_id").contains(name)) {
          headers.put(name, h.get(1).asString().replace(RECORDED_NODE, node));
        }
      }
      String path =
          handshake.get("request_line").asString().split(" ")[1].replace(RECORDED_NODE, node);
      SimulatedEdge edge =
          SimulatedEdge.connect(
              cc.hubUri(),
              cc.identity(node),
              SimulatedEdge.Options.defaults(node)
                  .withNodeIdHeader(null)
                  .withConnectionUse(null)
                  .withExtraHeaders(headers)
                  .withPath(path)
                  .withAckPolicy(null));
      try {
        Map<String, String> ids = new HashMap<>(); // recorded msg_id -> replayed msg_id
        Map<String, String> rewrites = new LinkedHashMap<>();
        rewrites.put(RECORDED_NODE, node);
        List<String> compared = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
          JsonNode line = lines.get(i);
          int seq = line.path("seq").asInt();
          if (!line.has("message") || !"edge->cloud".equals(line.path("dir").asString())) {
            continue;
          }
          if (seq > 46 && !EXTRA.contains(seq)) {
            continue;
          }
          String text = Json.string(line.get("message"));
          for (Map.Entry<String, String> e : rewrites.entrySet()) {
            text = text.replace(e.getKey(), e.getValue());
          }
          Message recorded = MessageCodec.decode(text);
          Message sent;
          if (recorded.isAck()) {
            String parent = ids.get(recorded.parentId());
            assertThat(parent)
                .as(
                    "seq %d acknowledges cloud message %s, which the replay must have received",
                    seq, recorded.parentId())
                .isNotNull();
            sent = recorded.withHeader(MessageHeader.replyTo(parent));
          } else {
            sent = recorded.withHeader(MessageHeader.create());
          }
          ids.put(recorded.id(), sent.id());
          edge.send(sent);
          JsonNode recordedReply = replyTo(lines, recorded.id());
          if (recordedReply == null) {
            continue;
          }
          Message want =
              MessageCodec.decode(
                  Json.string(recordedReply.get("message")).replace(RECORDED_NODE, node));
          Message got = edge.await(m -> sent.id().equals(m.parentId()), T);
          ids.put(want.id(), got.id());
          compared.add(seq + " " + recorded.operation() + " " + recorded.resource());
          assertThat(got.source())
              .as("source of the reply to seq %d", seq)
              .isEqualTo(want.source());
          assertThat(got.group()).as("group of the reply to seq %d", seq).isEqualTo(want.group());
          assertThat(got.operation())
              .as("operation of the reply to seq %d", seq)
              .isEqualTo(want.operation());
          assertThat(got.resource())
              .as("resource of the reply to seq %d", seq)
              .isEqualTo(want.resource());
          assertThat(shape(got.content()))
              .as("content of the reply to seq %d: %s", seq, got.content())
              .isEqualTo(shape(want.content()));
          assertThat(got.header().resourceVersion().isEmpty())
              .as("resourceversion presence in the reply to seq %d", seq)
              .isEqualTo(want.header().resourceVersion().isEmpty());
          // later messages name the objects created here by their recorded UIDs
          String wantUid = uid(want.content());
          String gotUid = uid(got.content());
          if (!wantUid.isEmpty() && !gotUid.isEmpty()) {
            rewrites.put(wantUid, gotUid);
          }
        }
        assertThat(compared).hasSize(17);
        // keepalives and ACKs are never answered
        assertThat(edge.received()).allSatisfy(m -> assertThat(m.operation()).isIn("response"));
        assertThat(edge.isOpen()).isTrue();
        assertThat(cc.forbiddenLines()).isEmpty();
      } finally {
        edge.close();
      }
    }
  }

  private static String uid(JsonNode content) {
    JsonNode o = content.has("Object") ? content.get("Object") : content;
    return o.path("metadata").path("uid").asString("");
  }

  private static JsonNode replyTo(List<JsonNode> lines, String recordedId) {
    for (JsonNode l : lines) {
      if (l.has("message")
          && "cloud->edge".equals(l.path("dir").asString())
          && recordedId.equals(
              l.get("message").path("header").path("parent_msg_id").asString(""))) {
        return l;
      }
    }
    return null;
  }
}
