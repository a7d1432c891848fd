package io.kedge.edge.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.protocol.Json;
import io.kedge.protocol.config.EdgeCoreConfig;
import io.kedge.protocol.config.EdgeCoreConfig.EdgeHubConfig;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageCodec;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.testkit.Waits;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.StringNode;

class EdgeHubTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String NODE = "edge-1";

  @TempDir Path dir;
  TestPki pki;
  TestBootstrapServer certs;
  TestCloudHub cloud;
  final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki();
    certs = new TestBootstrapServer(pki);
    cloud = new TestCloudHub(pki).start();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    cloud.close();
    certs.close();
  }

  private EdgeHubConfig config(String server, String token, int heartbeat) {
    return config(server, token, heartbeat, "");
  }

  private EdgeHubConfig config(String server, String token, int heartbeat, String more) {
    String sets =
        "modules.edgeHub.websocket.server="
            + server
            + ",modules.edgeHub.httpServer="
            + certs.uri()
            + ",modules.edgeHub.token="
            + token
            + ",modules.edgeHub.heartbeat="
            + heartbeat
            + ",modules.edgeHub.reconnectMinDelay=1,modules.edgeHub.reconnectMaxDelay=2"
            + ",modules.edgeHub.tlsCaFile="
            + dir.resolve("ca/rootCA.crt")
            + ",modules.edgeHub.tlsCertFile="
            + dir.resolve("certs/server.crt")
            + ",modules.edgeHub.tlsPrivateKeyFile="
            + dir.resolve("certs/server.key")
            + more;
    return EdgeCoreConfig.load(null, List.of(sets)).config().modules().edgeHub();
  }

  private EdgeHub hub(EdgeHubConfig cfg) {
    EdgeHub hub = new EdgeHub(cfg, NODE);
    closeables.add(hub);
    return hub;
  }

  private EdgeHub connected(DownstreamHandler handler) {
    EdgeHub hub = hub(config(cloud.address(), certs.token(), 15));
    hub.setDownstreamHandler(handler);
    hub.start();
    Waits.until("edge connected", WAIT, hub::isConnected);
    return hub;
  }

  private static Message query(String resource) {
    return Message.of(new MessageRoute("edged", "meta", "query", resource), null);
  }

  private static Message reply(Message request, String rv, String content) {
    return new Message(
        MessageHeader.replyTo(request.id()).withResourceVersion(rv),
        new MessageRoute("edgecontroller", "resource", "response", request.resource()),
        Json.parse(content));
  }

  private static Message insert(String resource, String rv) {
    Message m =
        Message.of(
            new MessageRoute("edgecontroller", "resource", "insert", resource),
            Json.parse("{\"metadata\":{\"name\":\"x\"}}"));
    return m.withHeader(m.header().withResourceVersion(rv));
  }

  private Message nextAck(Duration max) throws InterruptedException {
    return cloud.next(Message::isAck, max);
  }

  @Test
  void bootstrapsThenConnectsAsKubeEdgeDoes() throws Exception {
    EdgeHub hub = connected(m -> CompletableFuture.completedFuture(null));

    TestCloudHub.Upgrade up = cloud.upgrades.get(0);
    assertThat(up.uri()).isEqualTo("/e632aba927ea4ac2b575ec1603d56f10/edge-1/events");
    assertThat(up.headers())
        .containsEntry("Node_id", NODE)
        .containsEntry("Project_id", "e632aba927ea4ac2b575ec1603d56f10")
        .containsEntry("Connectionuse", "msg")
        .doesNotContainKey("origin");
    assertThat(up.clientCn()).isEqualTo("system:node:edge-1");
    assertThat(Files.readString(dir.resolve("certs/server.key")))
        .startsWith("-----BEGIN EC PRIVATE KEY-----");

    Message ka = cloud.next(m -> "keepalive".equals(m.operation()), WAIT);
    assertThat(ka).isNotNull();
    assertThat(MessageCodec.encodeToString(ka))
        .matches(
            "\\{\"header\":\\{\"msg_id\":\"[0-9a-f-]{36}\",\"timestamp\":\\d+},"
                + "\"route\":\\{\"source\":\"websocket\",\"group\":\"resource\","
                + "\"operation\":\"keepalive\",\"resource\":\"node\"},\"content\":\"ping\"}\n");
    assertThat(hub.localAddress()).isPresent();
    assertThat(hub.credentials().orElseThrow().isFor(NODE)).isTrue();
  }

  @Test
  void requestsGetTheirRepliesAndRepliesWithAResourceVersionAreAcknowledged() throws Exception {
    EdgeHub hub = connected(m -> CompletableFuture.completedFuture(null));

    Message q1 = query("default/node/edge-1");
    CompletableFuture<Message> f1 = hub.request(q1, Duration.ofSeconds(10));
    Message sent1 = cloud.next(m -> m.id().equals(q1.id()), WAIT);
    assertThat(sent1.resource()).isEqualTo("default/node/edge-1");
    Message r1 = reply(q1, "", "{\"ErrStatus\":{\"code\":404,\"reason\":\"NotFound\"}}");
    cloud.send(r1);
    assertThat(f1.get(10, TimeUnit.SECONDS).id()).isEqualTo(r1.id());

    Message q2 = query("demo/configmap/cfg1");
    CompletableFuture<Message> f2 = hub.request(q2, Duration.ofSeconds(10));
    cloud.next(m -> m.id().equals(q2.id()), WAIT);
    Message r2 = reply(q2, "51002", "{\"metadata\":{\"name\":\"cfg1\"}}");
    cloud.send(r2);
    assertThat(f2.get(10, TimeUnit.SECONDS).content().path("metadata").path("name").asString())
        .isEqualTo("cfg1");

    Message ack = nextAck(WAIT);
    assertThat(ack.parentId()).isEqualTo(r2.id()); // the reply without version got none
    assertThat(ack.route())
        .isEqualTo(
            new MessageRoute("edgecontroller", "resource", "response", "demo/configmap/cfg1"));
  }

  @Test
  void aReplyIsHandedOverWhereTheCallerAsksOrWhereItCanStillRun() throws Exception {
    EdgeHub hub = connected(m -> CompletableFuture.completedFuture(null));
    java.util.concurrent.ExecutorService loop =
        java.util.concurrent.Executors.newSingleThreadExecutor(r -> new Thread(r, "caller-loop"));
    try {
      Message q1 = query("default/node/edge-1");
      CompletableFuture<String> on =
          hub.request(q1, Duration.ofSeconds(10), loop)
              .thenApply(m -> Thread.currentThread().getName());
      cloud.next(m -> m.id().equals(q1.id()), WAIT);
      cloud.send(reply(q1, "", "{}"));
      assertThat(on.get(10, TimeUnit.SECONDS)).isEqualTo("caller-loop");

      // The caller's executor has ended meanwhile: the reply still arrives, and the link stays.
      Message q2 = query("default/node/edge-1");
      CompletableFuture<String> after =
          hub.request(q2, Duration.ofSeconds(10), loop)
              .thenApply(m -> Thread.currentThread().getName());
      cloud.next(m -> m.id().equals(q2.id()), WAIT);
      loop.shutdown();
      cloud.send(reply(q2, "", "{}"));
      assertThat(after.get(10, TimeUnit.SECONDS)).isNotEqualTo("caller-loop");
      assertThat(hub.isConnected()).isTrue();
    } finally {
      loop.shutdownNow();
    }
  }

  @Test
  void onTheLinksOwnLoopRequestsKeepThePaceWithoutHoldingTheLoop() throws Exception {
    EdgeHub hub =
        hub(
            config(
                cloud.address(),
                certs.token(),
                15,
                ",modules.edgeHub.messageQPS=5,modules.edgeHub.messageBurst=1"));
    hub.setDownstreamHandler(m -> CompletableFuture.completedFuture(null));
    hub.start();
    Waits.until("edge connected", WAIT, hub::isConnected);
    io.netty.channel.EventLoop loop = (io.netty.channel.EventLoop) hub.ioLoop().next();
    List<Message> queries = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      queries.add(query("default/node/edge-" + i));
    }
    List<CompletableFuture<Boolean>> answeredOnLoop = new CopyOnWriteArrayList<>();
    CompletableFuture<Long> loopHeldNanos = new CompletableFuture<>();
    loop.execute(
        () -> {
          long t0 = System.nanoTime();
          for (Message q : queries) {
            answeredOnLoop.add(
                hub.request(q, Duration.ofSeconds(20), loop).thenApply(m -> loop.inEventLoop()));
          }
          loopHeldNanos.complete(System.nanoTime() - t0);
        });
    List<Long> arrivals = new ArrayList<>();
    for (Message q : queries) {
      cloud.next(m -> m.id().equals(q.id()), WAIT);
      arrivals.add(System.nanoTime());
      cloud.send(reply(q, "", "{}"));
    }
    // 4 messages at 5/s with a burst of 1 take 600 ms; the loop was not held for them.
    assertThat(Duration.ofNanos(arrivals.get(3) - arrivals.get(0)))
        .isGreaterThanOrEqualTo(Duration.ofMillis(500));
    assertThat(Duration.ofNanos(loopHeldNanos.get(10, TimeUnit.SECONDS)))
        .isLessThan(Duration.ofMillis(300));
    for (CompletableFuture<Boolean> f : answeredOnLoop) {
      assertThat(f.get(10, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(hub.isConnected()).isTrue();
  }

  @Test
  void failsFastWhenOffline() {
    EdgeHub hub = hub(config("127.0.0.1:1", certs.token(), 15));
    CompletableFuture<Message> f =
        hub.request(query("default/node/edge-1"), Duration.ofSeconds(30));
    assertThat(f).isCompletedExceptionally();
    assertThatThrownBy(f::get).hasCauseInstanceOf(NotConnectedException.class);
    assertThatThrownBy(() -> hub.send(query("x/y/z"))).isInstanceOf(NotConnectedException.class);
  }

  @Test
  void requestsTimeOut() throws Exception {
    EdgeHub hub = connected(m -> CompletableFuture.completedFuture(null));
    CompletableFuture<Message> f =
        hub.request(query("default/node/edge-1"), Duration.ofMillis(300));
    assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(TimeoutException.class);
  }

  @Test
  void downstreamMessagesAreAcknowledgedOnlyAfterTheHandlerCompletes() throws Exception {
    List<CompletableFuture<Void>> stages = new CopyOnWriteArrayList<>();
    List<Message> handled = new CopyOnWriteArrayList<>();
    connected(
        m -> {
          handled.add(m);
          CompletableFuture<Void> f = new CompletableFuture<>();
          stages.add(f);
          return f;
        });

    Message ok = insert("demo/pod/nginx", "48213");
    Message bad = insert("demo/pod/other", "48214");
    cloud.send(ok);
    cloud.send(bad);
    Waits.until("both handled", WAIT, () -> stages.size() == 2);
    assertThat(handled).extracting(Message::id).containsExactly(ok.id(), bad.id());
    assertThat(nextAck(Duration.ofMillis(500))).isNull();

    stages.get(1).completeExceptionally(new IllegalStateException("disk full"));
    stages.get(0).complete(null);
    Message ack = nextAck(WAIT);
    assertThat(ack.parentId()).isEqualTo(ok.id());
    assertThat(ack.route().source()).isEqualTo("edgecontroller");
    assertThat(ack.resource()).isEqualTo("demo/pod/nginx");
    assertThat(ack.contentAsText()).isEqualTo("OK");
    assertThat(nextAck(Duration.ofMillis(500))).isNull();
  }

  @Test
  void badFramesCostOneLogLineAndTheConnectionStays() throws Exception {
    List<Message> handled = new CopyOnWriteArrayList<>();
    EdgeHub hub =
        connected(
            m -> {
              handled.add(m);
              return CompletableFuture.completedFuture(null);
            });
    cloud.sendText("garbage");
    cloud.sendText("{\"header\":{\"msg_id\":7},\"route\":{}}");
    cloud.sendText("[1,2,3]");
    cloud.sendText("{\"header\":{\"msg_id\":\"a\"},\"route\":{\"group\":\"twin\"},\"content\":1}");
    cloud.sendText("{\"header\":{\"msg_id\":\"b\"},\"route\":{\"operation\":\"ping\"}}");
    cloud.sendText(
        "{\"header\":{\"msg_id\":\"c\",\"parent_msg_id\":\"nobody\"},"
            + "\"route\":{\"group\":\"resource\",\"operation\":\"response\"},\"content\":\"OK\"}");
    Message good = insert("demo/configmap/cfg", "1");
    cloud.sendBinary(MessageCodec.encode(good));

    Waits.until("the good message handled", WAIT, () -> handled.size() == 1);
    assertThat(handled.get(0).id()).isEqualTo(good.id());
    assertThat(nextAck(WAIT).parentId()).isEqualTo(good.id());
    assertThat(hub.isConnected()).isTrue();
    assertThat(cloud.upgrades).hasSize(1);
  }

  @Test
  void reassemblesFragmentedMessages() throws Exception {
    List<Message> handled = new CopyOnWriteArrayList<>();
    connected(
        m -> {
          handled.add(m);
          return CompletableFuture.completedFuture(null);
        });
    Message big =
        Message.of(
                new MessageRoute("edgecontroller", "resource", "update", "demo/configmap/big"),
                Json.parse("{\"data\":{\"k\":\"" + "v".repeat(20_000) + "\"}}"))
            .withHeader(MessageHeader.create().withResourceVersion("9"));
    byte[] bytes = MessageCodec.encode(big);
    var session = cloud.session();
    int cut = 4096;
    session.write(
        new io.netty.handler.codec.http.websocketx.TextWebSocketFrame(
            false, 0, io.netty.buffer.Unpooled.wrappedBuffer(bytes, 0, cut)));
    session
        .writeAndFlush(
            new io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame(
                true, 0, io.netty.buffer.Unpooled.wrappedBuffer(bytes, cut, bytes.length - cut)))
        .sync();
    Waits.until("fragmented message handled", WAIT, () -> handled.size() == 1);
    assertThat(handled.get(0).content().path("data").path("k").asString()).hasSize(20_000);
  }

  @Test
  void handlesMessagesInOrderUnderBackPressureWithoutLosingAny() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    List<String> order = new CopyOnWriteArrayList<>();
    connected(
        m -> {
          if (order.isEmpty()) {
            try {
              gate.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          order.add(m.resource());
          return CompletableFuture.completedFuture(null);
        });
    int n = EdgeHub.INBOUND_HIGH * 2;
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      expected.add("demo/pod/p" + i);
      cloud.send(insert("demo/pod/p" + i, String.valueOf(i + 1)));
    }
    gate.countDown();
    Waits.until("all handled", WAIT, () -> order.size() == n);
    assertThat(order).containsExactlyElementsOf(expected);
    AtomicInteger acks = new AtomicInteger();
    while (nextAck(Duration.ofSeconds(5)) != null && acks.incrementAndGet() < n) {
      // count
    }
    assertThat(acks.get()).isEqualTo(n);
  }

  @Test
  void reconnectsAfterTheCloudGoesAway() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    EdgeHub hub = hub(config(cloud.address(), certs.token(), 15));
    hub.setDownstreamHandler(m -> CompletableFuture.completedFuture(null));
    hub.addListener(
        new CloudLinkListener() {
          @Override
          public void connected() {
            events.add("up");
          }

          @Override
          public void disconnected() {
            events.add("down");
          }
        });
    hub.start();
    Waits.until("connected", WAIT, () -> events.equals(List.of("up")));
    CompletableFuture<Message> inFlight = hub.request(query("a/b/c"), Duration.ofSeconds(60));
    cloud.next(m -> "query".equals(m.operation()), WAIT);

    cloud.stopServing();
    Waits.until("disconnect seen", WAIT, () -> events.equals(List.of("up", "down")));
    assertThatThrownBy(() -> inFlight.get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(NotConnectedException.class);
    assertThat(hub.isConnected()).isFalse();

    cloud.restart();
    Waits.until("reconnected", WAIT, () -> events.equals(List.of("up", "down", "up")));
    assertThat(cloud.upgrades).hasSize(2);
    assertThat(certs.hits.get("/edge.crt")).isEqualTo(1); // the stored certificate was reused
  }

  @Test
  void startsWithoutTheCloudFromStoredCredentials() throws Exception {
    EdgeCredentials stored = pki.credentialsFor("system:node:" + NODE, Duration.ofDays(30));
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    EdgeHubConfig cfg = config("127.0.0.1:" + port, "", 15);
    CertificateFiles.of(cfg).store(stored);
    EdgeHub hub = hub(cfg);
    hub.start();
    Thread.sleep(1500); // a few failed attempts
    assertThat(hub.isConnected()).isFalse();

    try (TestCloudHub late = new TestCloudHub(pki).start(port)) {
      Waits.until("connected once the cloud is up", WAIT, hub::isConnected);
      assertThat(late.upgrades.get(0).serial())
          .isEqualTo(stored.certificate().getSerialNumber().toString());
      hub.close();
    }
    assertThat(certs.hits).isEmpty();
  }

  @Test
  void bootstrapsAgainWhenTheStoredCertificateIsForAnotherNode() throws Exception {
    EdgeHubConfig cfg = config(cloud.address(), certs.token(), 15);
    CertificateFiles.of(cfg)
        .store(pki.credentialsFor("system:node:someone-else", Duration.ofDays(30)));
    EdgeHub hub = hub(cfg);
    hub.start();
    Waits.until("connected", WAIT, hub::isConnected);
    assertThat(cloud.upgrades.get(0).clientCn()).isEqualTo("system:node:edge-1");
    assertThat(CertificateFiles.of(cfg).load().orElseThrow().isFor(NODE)).isTrue();
  }

  @Test
  void withoutCertificateOrTokenItKeepsRetryingWithoutCrashing() throws Exception {
    EdgeHub hub = hub(config(cloud.address(), "", 15));
    hub.start();
    Thread.sleep(1500);
    assertThat(hub.isConnected()).isFalse();
    assertThat(cloud.upgrades).isEmpty();
  }

  @Test
  void rotatesTheCertificateBeforeItExpiresAndReconnects() throws Exception {
    // Long enough to connect on a loaded machine; rotation is due at 70-90 % of it.
    certs.validity = Duration.ofSeconds(15);
    connected(m -> CompletableFuture.completedFuture(null));
    Waits.until(
        "second session with a rotated certificate",
        Duration.ofSeconds(60),
        () -> cloud.upgrades.size() >= 2);
    assertThat(cloud.upgrades.get(1).serial()).isNotEqualTo(cloud.upgrades.get(0).serial());
    assertThat(certs.requests.get(1).authorization()).isNull();
    assertThat(certs.requests.get(1).clientCn()).isEqualTo("system:node:edge-1");
  }

  @Test
  void aSilentCloudIsDetectedAndReplaced() throws Exception {
    cloud.answerPings = false;
    EdgeHub hub = hub(config(cloud.address(), certs.token(), 1));
    hub.start();
    Waits.until("connected", WAIT, hub::isConnected);
    Waits.until("pings sent", WAIT, () -> cloud.pings.get() >= 2);
    Waits.until("reconnected after silence", WAIT, () -> cloud.upgrades.size() >= 2);
  }

  @Test
  void viaductControlAndKeepaliveRepliesAreIgnored() throws Exception {
    List<Message> handled = new CopyOnWriteArrayList<>();
    connected(
        m -> {
          handled.add(m);
          return CompletableFuture.completedFuture(null);
        });
    cloud.send(
        Message.of(
            new MessageRoute("cloudhub", "resource", "config", "node"), StringNode.valueOf("x")));
    Message after = insert("demo/secret/s", "3");
    cloud.send(after);
    Waits.until("later message handled", WAIT, () -> handled.size() == 1);
    assertThat(handled.get(0).id()).isEqualTo(after.id());
    assertThat(new String(MessageCodec.encode(after), StandardCharsets.UTF_8)).endsWith("\n");
  }
}
