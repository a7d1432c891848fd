package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.ConfigBuilder;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.protocol.application.Application;
import io.kedge.testkit.Waits;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A node's requests against an apiserver that accepts connections and never answers: the request
 * deadline answers 504 and frees the node's slot; while the slot is taken, further requests and
 * {@code watchapp/sync} are answered 429 at once, the sync with one failure per watch it asked for.
 */
class DynamicControllerDeadlineTest {
  static final String NODE = "edge-slow";

  ServerSocket blackHole;
  final List<Socket> held = new CopyOnWriteArrayList<>();
  KubeClients kube;
  RecordingMessenger messenger;
  DynamicController controller;
  SimulatedMetaServer edge;

  @BeforeEach
  void setUp() throws IOException {
    blackHole = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor =
        new Thread(
            () -> {
              while (!blackHole.isClosed()) {
                try {
                  held.add(blackHole.accept()); // read nothing, answer nothing
                } catch (IOException e) {
                  return;
                }
              }
            },
            "black-hole");
    acceptor.setDaemon(true);
    acceptor.start();
    kube =
        KubeClients.of(
            new ConfigBuilder()
                .withMasterUrl("https://127.0.0.1:" + blackHole.getLocalPort())
                .withRequestTimeout((int) TimeUnit.HOURS.toMillis(1))
                .build());
    messenger = new RecordingMessenger();
    controller =
        new DynamicController(
            DynamicControllerOptions.defaults()
                .withIdentity(
                    DynamicControllerOptions.Identity.NODE, DynamicControllerOptions.Tokenless.NODE)
                // one request of the node at a time, none waiting
                .withQueues(1, 0, 16)
                // the apiserver call and informer sync would wait an hour; the deadline does not
                .withTimeouts(Duration.ofHours(1), Duration.ofHours(1), Duration.ofSeconds(2)),
            kube,
            messenger,
            null);
    edge = new SimulatedMetaServer(NODE, controller, messenger);
  }

  @AfterEach
  void tearDown() throws IOException {
    controller.close();
    kube.close();
    blackHole.close();
    for (Socket s : held) {
      s.close();
    }
  }

  static Application watch(String ns) {
    return SimulatedMetaServer.kubeEdgeApp(
        "watch", "/core/v1/configmaps/" + ns + "/null", "{}", null, "");
  }

  @Test
  void deadlineAnswers504AndFreesTheSlotWhichMeanwhileRefusesWith429() throws Exception {
    var hanging =
        edge.sendAsync(
            SimulatedMetaServer.kedge("GET", "/api/v1/namespaces/d/configmaps", "", "", null, ""));

    // the node's only slot is taken: a second request is refused at once
    var refused = edge.http("GET", "/api/v1/namespaces/d/configmaps/x", "");
    assertThat(refused.approved()).isFalse();
    assertThat(refused.code()).isEqualTo(429);
    assertThat(refused.status().path("reason").asString()).isEqualTo("TooManyRequests");
    assertThat(hanging).isNotDone();

    // and so is a watchapp/sync: every watch it asked for is reported failed with 429
    Application w1 = watch("a");
    Application w2 = watch("b");
    JsonNode failed = edge.sync(Map.of(w1.id(), w1, w2.id(), w2));
    assertThat(failed.size()).isEqualTo(2);
    for (Application w : List.of(w1, w2)) {
      JsonNode f = failed.path(w.id());
      assertThat(f.path("Status").asString()).isEqualTo("Rejected");
      assertThat(f.path("ID").asString()).isEqualTo(w.id());
      assertThat(f.path("Nodename").asString()).isEqualTo(NODE);
      assertThat(f.at("/Error/ErrStatus/code").asInt()).isEqualTo(429);
      assertThat(f.at("/Error/ErrStatus/reason").asString()).isEqualTo("TooManyRequests");
      assertThat(f.at("/Error/ErrStatus/details/retryAfterSeconds").asInt()).isEqualTo(1);
    }
    assertThat(hanging).isNotDone();

    // the apiserver never answers; the deadline does
    var late = hanging.get(30, TimeUnit.SECONDS);
    assertThat(late.approved()).isFalse();
    assertThat(late.code()).isEqualTo(504);
    assertThat(late.status().path("reason").asString()).isEqualTo("Timeout");
    assertThat(late.message()).contains("timed out");

    // the slot is free again (just after the reply is sent: retry while 429): the sync now runs,
    // and its watches meet the deadline too
    JsonNode[] synced = new JsonNode[1];
    Waits.until(
        "the slot freed for the sync",
        Duration.ofSeconds(30),
        () -> {
          synced[0] = edge.sync(Map.of(w1.id(), w1, w2.id(), w2));
          return synced[0].at("/" + w1.id() + "/Error/ErrStatus/code").asInt() != 429;
        });
    JsonNode ran = synced[0];
    assertThat(ran.size()).isEqualTo(2);
    for (Application w : List.of(w1, w2)) {
      assertThat(ran.at("/" + w.id() + "/Error/ErrStatus/code").asInt()).isEqualTo(504);
    }
    assertThat(controller.watchCount()).isZero();

    // and the slot is free once more
    SimulatedMetaServer.Reply[] again = new SimulatedMetaServer.Reply[1];
    Waits.until(
        "the slot freed for a request",
        Duration.ofSeconds(30),
        () -> {
          again[0] = edge.http("GET", "/api/v1/namespaces/d/configmaps/x", "");
          return again[0].code() != 429;
        });
    assertThat(again[0].code()).isEqualTo(504);
  }
}
