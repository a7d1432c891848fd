package io.kedge.cloud.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.testkit.Waits;
import io.kedge.testkit.edge.EdgeIdentity;
import io.kedge.testkit.edge.SimulatedEdge;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

class CloudHubTest {
  private static final Duration T = Duration.ofSeconds(20);

  static Message configMap(String op, String name, String uid, String rv) {
    ObjectNode c = Json.object();
    c.putObject("metadata").put("name", name).put("namespace", "default").put("uid", uid);
    return new Message(
        MessageHeader.create().withResourceVersion(rv),
        new MessageRoute("edgecontroller", "resource", op, "default/configmap/" + name),
        c);
  }

  @Test
  void routesUpstreamMessagesWithTheSessionsNode() {
    try (HubFixture f = new HubFixture()) {
      SimulatedEdge edge = f.connect("edge-1");
      Waits.until("edge-1 connected", T, () -> f.hub.isConnected("edge-1"));
      Waits.until("listeners told", T, () -> !f.events.isEmpty());
      assertThat(f.events).containsExactly("+edge-1");
      edge.keepalive();
      Message q = SimulatedEdge.query("default/configmap/cfg");
      edge.send(q);
      Message app =
          new Message(
              MessageHeader.create(),
              new MessageRoute("metaserver", "dynamiccontroller", "null", "null"),
              Json.object().put("ID", "x"));
      edge.send(app);
      Waits.until(
          "routed", T, () -> f.edgeController.size() == 1 && f.dynamicController.size() == 1);
      assertThat(f.edgeController.get(0).node()).isEqualTo("edge-1");
      assertThat(f.edgeController.get(0).message().id()).isEqualTo(q.id());
      assertThat(f.dynamicController.get(0).message().id()).isEqualTo(app.id());
    }
  }

  @Test
  void answersTheKubeApiserverCaQuery() {
    try (HubFixture f = new HubFixture()) {
      SimulatedEdge edge = f.connect("edge-1");
      Message q =
          new Message(
              MessageHeader.create(),
              new MessageRoute("metamanager", "meta", "query", "k8s/ca.crt"),
              null);
      Message reply = edge.request(q, T);
      assertThat(reply.source()).isEqualTo("cloudhub");
      assertThat(reply.group()).isEqualTo("resource");
      assertThat(reply.operation()).isEqualTo("response");
      assertThat(reply.resource()).isEqualTo("k8s/ca.crt");
      assertThat(reply.content().asString()).isEqualTo(HubFixture.KUBE_CA);
      assertThat(f.edgeController).isEmpty();
    }
  }

  @Test
  void deliversReliablyAndReportsAcks() {
    try (HubFixture f = new HubFixture("modules.cloudHub.ackTimeout=1")) {
      SimulatedEdge edge =
          f.connect(
              f.identity("edge-1"), SimulatedEdge.Options.defaults("edge-1").withAckPolicy(null));
      Waits.until("connected", T, () -> f.hub.isConnected("edge-1"));
      Message m = configMap("insert", "a", "uid-a", "7");
      CompletableFuture<Void> done = f.hub.deliver("edge-1", m);
      Waits.until(
          "resent with the same id",
          T,
          () -> edge.receivedMatching(r -> r.id().equals(m.id())).size() >= 2);
      assertThat(done).isNotDone();
      edge.send(m.ack());
      Waits.until("acknowledged", T, done::isDone);
      assertThat(done).isCompleted();
      assertThat(f.acked).extracting(r -> r.message().id()).containsExactly(m.id());
    }
  }

  @Test
  void refusesAckRequiredMessagesWithoutResourceVersionAndOfflineNodes() {
    try (HubFixture f = new HubFixture()) {
      f.connect("edge-1");
      Waits.until("connected", T, () -> f.hub.isConnected("edge-1"));
      assertThat(f.hub.deliver("edge-1", configMap("update", "a", "u", "")))
          .isCompletedExceptionally();
      assertThat(f.hub.deliver("edge-2", configMap("update", "a", "u", "1")))
          .isCompletedExceptionally();
      assertThat(f.hub.send("edge-2", configMap("update", "a", "u", "1"))).isFalse();
    }
  }

  @Test
  void autoAckingEdgeCompletesDeliveries() {
    try (HubFixture f = new HubFixture()) {
      f.connect("edge-1");
      Waits.until("connected", T, () -> f.hub.isConnected("edge-1"));
      CompletableFuture<Void> done = f.hub.deliver("edge-1", configMap("update", "a", "u", "3"));
      Waits.until("acknowledged", T, done::isDone);
      assertThat(done).isCompleted();
    }
  }

  /** What the CSR approver may vouch for: the address cloudcore sees, only while connected. */
  @Test
  void knowsTheAddressANodeConnectsFromWhileItIsConnected() throws Exception {
    try (HubFixture f = new HubFixture()) {
      assertThat(f.hub.connectionAddress("edge-1")).isEmpty();
      SimulatedEdge edge = f.connect("edge-1");
      Waits.until("connected", T, () -> f.hub.isConnected("edge-1"));
      assertThat(f.hub.connectionAddress("edge-1")).contains(InetAddress.getByName("127.0.0.1"));
      assertThat(f.hub.connectionAddress("edge-2")).isEmpty();
      edge.closeAbruptly();
      Waits.until("gone", T, () -> !f.hub.isConnected("edge-1"));
      assertThat(f.hub.connectionAddress("edge-1")).isEmpty();
    }
  }

  @Test
  void aNewConnectionReplacesTheOldSession() {
    try (HubFixture f = new HubFixture()) {
      SimulatedEdge first = f.connect("edge-1");
      Waits.until("connected", T, () -> f.hub.isConnected("edge-1"));
      SimulatedEdge second = f.connect("edge-1");
      assertThat(first.awaitClosed(T)).isTrue();
      assertThat(second.isOpen()).isTrue();
      Message q = SimulatedEdge.query("default/configmap/x");
      second.send(q);
      Waits.until("routed from the new session", T, () -> f.edgeController.size() == 1);
      assertThat(f.hub.connectedNodes()).containsExactly("edge-1");
      Waits.until("listeners told", T, () -> f.events.size() >= 3);
      assertThat(f.events).containsExactly("+edge-1", "-edge-1", "+edge-1");
    }
  }

  @Test
  void silentEdgeIsDisconnectedAfterKeepaliveInterval() {
    try (HubFixture f = new HubFixture("modules.cloudHub.keepaliveInterval=1")) {
      SimulatedEdge edge = f.connect("edge-1");
      assertThat(edge.awaitClosed(T)).isTrue();
      Waits.until("session gone", T, () -> !f.hub.isConnected("edge-1"));
      // the session is gone before its listeners hear of it
      Waits.until("listeners told", T, () -> f.events.size() >= 2);
      assertThat(f.events).containsExactly("+edge-1", "-edge-1");
    }
  }

  @Test
  void keepalivesKeepTheSession() throws Exception {
    try (HubFixture f = new HubFixture("modules.cloudHub.keepaliveInterval=2")) {
      SimulatedEdge edge = f.connect("edge-1");
      for (int i = 0; i < 6; i++) {
        edge.keepalive();
        Thread.sleep(500);
      }
      assertThat(edge.isOpen()).isTrue();
      assertThat(f.hub.isConnected("edge-1")).isTrue();
    }
  }

  @Test
  void nodeLimitRefusesFurtherNodesButNotReconnects() {
    try (HubFixture f = new HubFixture("modules.cloudHub.nodeLimit=1")) {
      f.connect("edge-1");
      Waits.until("connected", T, () -> f.hub.isConnected("edge-1"));
      assertThatThrownBy(() -> f.connect("edge-2"))
          .isInstanceOfSatisfying(
              SimulatedEdge.ConnectException.class, e -> assertThat(e.httpStatus()).isEqualTo(503));
      SimulatedEdge again = f.connect("edge-1");
      assertThat(again.isOpen()).isTrue();
    }
  }

  @Test
  void refusesWrongIdentitiesAndHeaders() {
    try (HubFixture f = new HubFixture()) {
      EdgeIdentity id = f.identity("edge-1");
      // certificate of edge-1 presented as edge-2
      assertThatThrownBy(() -> f.connect(id.as("edge-2"), SimulatedEdge.Options.defaults("edge-2")))
          .isInstanceOfSatisfying(
              SimulatedEdge.ConnectException.class, e -> assertThat(e.httpStatus()).isEqualTo(403));
      assertThatThrownBy(
              () -> f.connect(id, SimulatedEdge.Options.defaults("edge-1").withNodeIdHeader(null)))
          .isInstanceOfSatisfying(
              SimulatedEdge.ConnectException.class, e -> assertThat(e.httpStatus()).isEqualTo(400));
      assertThatThrownBy(
              () -> f.connect(id, SimulatedEdge.Options.defaults("edge-1").withConnectionUse(null)))
          .isInstanceOfSatisfying(
              SimulatedEdge.ConnectException.class, e -> assertThat(e.httpStatus()).isEqualTo(400));
      assertThatThrownBy(
              () ->
                  f.connect(
                      id, SimulatedEdge.Options.defaults("edge-1").withNodeIdHeader("Bad_Name")))
          .isInstanceOfSatisfying(
              SimulatedEdge.ConnectException.class, e -> assertThat(e.httpStatus()).isEqualTo(400));
      // certificate from another CA, expired certificate: refused in the TLS handshake
      CertificateAuthority other =
          CertificateAuthority.create("Other", KeyPairs.ecP256(), Duration.ofDays(10));
      EdgeIdentity foreign =
          new EdgeIdentity(
              "edge-1",
              EdgeIdentity.issue(other, "edge-1").key(),
              EdgeIdentity.issue(other, "edge-1").certificate(),
              id.trusted());
      assertThatThrownBy(() -> f.connect(foreign, SimulatedEdge.Options.defaults("edge-1")))
          .isInstanceOf(SimulatedEdge.ConnectException.class);
      EdgeIdentity expired =
          EdgeIdentity.issue(f.ca, "edge-1", "system:node:edge-1", Duration.ofDays(-1));
      assertThatThrownBy(() -> f.connect(expired, SimulatedEdge.Options.defaults("edge-1")))
          .isInstanceOf(SimulatedEdge.ConnectException.class);
      assertThat(f.hub.sessionCount()).isZero();
      // the path does not matter
      SimulatedEdge ok =
          f.connect(id, SimulatedEdge.Options.defaults("edge-1").withPath("/anything/at/all"));
      assertThat(ok.isOpen()).isTrue();
    }
  }

  @Test
  void acceptsBinaryAndFragmentedMessages() {
    try (HubFixture f = new HubFixture()) {
      SimulatedEdge edge = f.connect("edge-1");
      Message a = SimulatedEdge.query("default/configmap/a");
      Message b = SimulatedEdge.query("default/configmap/" + "b".repeat(200));
      edge.sendBinary(io.kedge.protocol.message.MessageCodec.encode(a));
      edge.sendFragmented(b, 4);
      Waits.until("both routed", T, () -> f.edgeController.size() == 2);
      assertThat(f.edgeController)
          .extracting(r -> r.message().id())
          .containsExactly(a.id(), b.id());
      assertThat(edge.isOpen()).isTrue();
    }
  }

  @Test
  void badInputClosesOnlyTheOffendingConnection() {
    try (HubFixture f =
        new HubFixture(
            "modules.cloudHub.maxMessageBytes=65536",
            "modules.cloudHub.messageRateLimit=50",
            "modules.cloudHub.messageBurst=100")) {
      SimulatedEdge bystander = f.connect("bystander");
      String[] cases = {"json", "shape", "op", "noop", "big", "flood", "raw", "continuation"};
      for (String c : cases) {
        SimulatedEdge bad = f.connect("bad-" + c);
        switch (c) {
          case "json" -> bad.sendText("{not json");
          case "shape" -> bad.sendText("[1,2,3]");
          case "op" ->
              bad.send(
                  new Message(
                      MessageHeader.create(),
                      new MessageRoute("edged", "meta", "explode", "default/pod/x"),
                      null));
          case "noop" -> bad.sendText("{\"header\":{},\"route\":{},\"content\":null}");
          case "big" -> bad.sendText("x".repeat(70_000));
          case "flood" -> {
            for (int i = 0; i < 2000 && bad.isOpen(); i++) {
              bad.keepalive();
            }
          }
          case "raw" -> bad.sendRawBytes(new byte[] {(byte) 0x8f, 0x05, 1, 2, 3, 4, 5});
          case "continuation" ->
              bad.sendRawBytes(new byte[] {(byte) 0x80, (byte) 0x81, 1, 2, 3, 4, 0x55});
          default -> throw new IllegalStateException(c);
        }
        assertThat(bad.awaitClosed(T)).as("connection of case %s closed", c).isTrue();
        Waits.until("bad-" + c + " gone", T, () -> !f.hub.isConnected("bad-" + c));
      }
      assertThat(bystander.isOpen()).isTrue();
      Message q = SimulatedEdge.query("default/configmap/still-here");
      bystander.send(q);
      Waits.until(
          "bystander still served",
          T,
          () -> f.edgeController.stream().anyMatch(r -> r.message().id().equals(q.id())));
      assertThat(f.edgeController).allSatisfy(r -> assertThat(r.node()).isEqualTo("bystander"));
    }
  }
}
