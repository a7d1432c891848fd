package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.cloud.hub.BootstrapServer;
import io.kedge.cloud.hub.CloudHub;
import io.kedge.cloud.hub.HubPki;
import io.kedge.cloud.hub.HubTls;
import io.kedge.cloud.hub.JoinToken;
import io.kedge.edge.hub.CertificateFiles;
import io.kedge.edge.hub.CloudLinkListener;
import io.kedge.edge.hub.EdgeCredentials;
import io.kedge.edge.hub.EdgeHub;
import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.protocol.Json;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.config.CloudHubConfig;
import io.kedge.protocol.config.EdgeCoreConfig;
import io.kedge.protocol.config.EdgeCoreConfig.EdgeHubConfig;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.testkit.Waits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kedge's EdgeHub against Kedge's CloudHub, in one JVM over real sockets and mutual TLS: session,
 * request/reply, the hub's own answers, reliable delivery with ACK after the edge's handler, and
 * reconnection after the hub restarts.
 */
class EdgeHubCloudHubIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String NODE = "edge-a";
  private static final String KUBE_CA =
      "-----BEGIN CERTIFICATE-----\nkube\n-----END CERTIFICATE-----\n";

  @TempDir Path dir;
  CertificateAuthority ca;
  HubTls tls;
  CloudHub hub;
  EdgeHub edge;
  final List<String> upstream = new CopyOnWriteArrayList<>();
  final List<Message> acked = new CopyOnWriteArrayList<>();
  final List<Message> downstream = new CopyOnWriteArrayList<>();
  volatile boolean handlerFails;

  @BeforeEach
  void setUp() {
    ca = CertificateAuthority.create("KubeEdge", KeyPairs.ecP256(), Duration.ofDays(3650));
    KeyPair serverKey = KeyPairs.ecP256();
    tls =
        new HubTls(
            ca,
            ca.issue(
                CertSpec.server("KubeEdge", List.of("127.0.0.1"), List.of(), Duration.ofDays(365)),
                serverKey.getPublic()),
            serverKey.getPrivate());
    hub = startHub(0);
  }

  @AfterEach
  void tearDown() {
    if (edge != null) {
      edge.close();
    }
    hub.close();
  }

  private CloudHub startHub(int port) {
    CloudHubConfig cfg =
        CloudCoreConfig.load(
                null,
                List.of(
                    "modules.cloudHub.websocket.address=127.0.0.1,modules.cloudHub.websocket.port="
                        + port
                        + ",modules.cloudHub.ackTimeout=1"))
            .config()
            .modules()
            .cloudHub();
    CloudHub h = new CloudHub(cfg, tls, () -> KUBE_CA, (node, m) -> acked.add(m));
    CloudHub[] self = {h};
    h.start(
        (node, m) -> {
          upstream.add(node + " " + m.operation() + " " + m.resource());
          if ("query".equals(m.operation())) {
            self[0].send(
                node,
                new Message(
                    MessageHeader.replyTo(m.id()).withResourceVersion("7"),
                    new MessageRoute("edgecontroller", "resource", "response", m.resource()),
                    Json.parse("{\"metadata\":{\"name\":\"" + node + "\",\"uid\":\"u1\"}}")));
          }
        },
        null);
    return h;
  }

  private EdgeHubConfig edgeConfig(String extra) {
    return EdgeCoreConfig.load(
            null,
            List.of(
                "modules.edgeHub.websocket.server=127.0.0.1:"
                    + hub.webSocketAddress().getPort()
                    + ",modules.edgeHub.heartbeat=2"
                    + ",modules.edgeHub.reconnectMinDelay=1,modules.edgeHub.reconnectMaxDelay=2"
                    + ",modules.edgeHub.tlsCaFile="
                    + dir.resolve("ca.crt")
                    + ",modules.edgeHub.tlsCertFile="
                    + dir.resolve("edge.crt")
                    + ",modules.edgeHub.tlsPrivateKeyFile="
                    + dir.resolve("edge.key")
                    + extra))
        .config()
        .modules()
        .edgeHub();
  }

  private EdgeHub connectEdge() {
    CertSpec spec =
        CertSpec.client("system:node:" + NODE, List.of("system:nodes"), Duration.ofDays(30));
    KeyPair key = KeyPairs.ecP256();
    EdgeHubConfig cfg = edgeConfig("");
    CertificateFiles.of(cfg)
        .store(
            new EdgeCredentials(
                ca.certificate(), ca.issue(spec, key.getPublic()), key.getPrivate()));
    return connectEdge(cfg);
  }

  private EdgeHub connectEdge(EdgeHubConfig cfg) {
    EdgeHub e = new EdgeHub(cfg, NODE);
    e.setDownstreamHandler(
        m -> {
          downstream.add(m);
          return handlerFails
              ? CompletableFuture.failedFuture(new IllegalStateException("store unavailable"))
              : CompletableFuture.completedFuture(null);
        });
    e.start();
    Waits.until("edge connected to CloudHub", WAIT, () -> e.isConnected() && hub.isConnected(NODE));
    edge = e;
    return e;
  }

  private BootstrapServer bootstrapServer() {
    CloudHubConfig cfg =
        CloudCoreConfig.load(
                null,
                List.of("modules.cloudHub.https.address=127.0.0.1,modules.cloudHub.https.port=0"))
            .config()
            .modules()
            .cloudHub();
    BootstrapServer b =
        new BootstrapServer(cfg, tls, n -> Optional.empty(), Runnable::run, Clock.systemUTC());
    b.start();
    return b;
  }

  @Test
  void joinsWithTheTokenThroughTheRealBootstrapServer() throws Exception {
    try (BootstrapServer certs = bootstrapServer()) {
      String token =
          JoinToken.create(
              ca.certificate(), HubPki.sec1(ca.privateKey()), Instant.now(), Duration.ofHours(24));
      EdgeHub e =
          connectEdge(
              edgeConfig(
                  ",modules.edgeHub.httpServer=https://127.0.0.1:"
                      + certs.address().getPort()
                      + ",modules.edgeHub.token="
                      + token));
      EdgeCredentials c = e.credentials().orElseThrow();
      assertThat(c.commonName()).isEqualTo("system:node:" + NODE);
      assertThat(c.ca()).isEqualTo(ca.certificate());
      assertThat(Files.readString(dir.resolve("edge.key"))).startsWith("-----BEGIN EC PRIVATE KEY");
    }
  }

  @Test
  void aTokenForAnotherCaIsRefusedBeforeAnyCertificateRequest() throws Exception {
    try (BootstrapServer certs = bootstrapServer()) {
      CertificateAuthority other =
          CertificateAuthority.create("KubeEdge", KeyPairs.ecP256(), Duration.ofDays(10));
      String token =
          JoinToken.create(
              other.certificate(),
              HubPki.sec1(other.privateKey()),
              Instant.now(),
              Duration.ofHours(1));
      EdgeHub e =
          new EdgeHub(
              edgeConfig(
                  ",modules.edgeHub.httpServer=https://127.0.0.1:"
                      + certs.address().getPort()
                      + ",modules.edgeHub.token="
                      + token),
              NODE);
      edge = e;
      e.start();
      Thread.sleep(2000);
      assertThat(e.isConnected()).isFalse();
      assertThat(Files.exists(dir.resolve("edge.crt"))).isFalse();
    }
  }

  @Test
  void requestsAreRoutedAsTheSessionsNodeAndAnswered() throws Exception {
    EdgeHub e = connectEdge();
    Message q =
        Message.of(new MessageRoute("edged", "meta", "query", "default/node/" + NODE), null);
    Message reply = e.request(q, Duration.ofSeconds(10)).get(10, TimeUnit.SECONDS);
    assertThat(reply.parentId()).isEqualTo(q.id());
    assertThat(reply.content().path("metadata").path("uid").asString()).isEqualTo("u1");
    assertThat(upstream).contains(NODE + " query default/node/" + NODE);

    Message ca = Message.of(new MessageRoute("metamanager", "meta", "query", "k8s/ca.crt"), null);
    assertThat(e.request(ca, Duration.ofSeconds(10)).get(10, TimeUnit.SECONDS).contentAsText())
        .isEqualTo(KUBE_CA);
    Waits.until("keepalives flow without reaching the EdgeController", WAIT, () -> true);
    assertThat(upstream).noneMatch(s -> s.contains("keepalive"));
  }

  @Test
  void deliveriesAreAcknowledgedAfterTheEdgeHandledThem() throws Exception {
    connectEdge();
    Message insert =
        Message.of(
            new MessageRoute("edgecontroller", "resource", "insert", "demo/pod/p1"),
            Json.parse(
                "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"demo\",\"uid\":\"pod-1\"}}"));
    insert = insert.withHeader(insert.header().withResourceVersion("11"));
    hub.deliver(NODE, insert).get(20, TimeUnit.SECONDS);
    assertThat(downstream).extracting(Message::id).containsExactly(insert.id());
    assertThat(acked).extracting(Message::id).containsExactly(insert.id());
  }

  @Test
  void aFailedEdgeWriteIsNotAcknowledgedSoTheHubSendsAgain() throws Exception {
    connectEdge();
    handlerFails = true;
    Message update =
        Message.of(
            new MessageRoute("edgecontroller", "resource", "update", "demo/configmap/c"),
            Json.parse("{\"metadata\":{\"name\":\"c\",\"namespace\":\"demo\",\"uid\":\"cm-1\"}}"));
    update = update.withHeader(update.header().withResourceVersion("21"));
    CompletableFuture<Void> delivered = hub.deliver(NODE, update);
    Waits.until("sent again with the same id", WAIT, () -> downstream.size() >= 2);
    assertThat(delivered).isNotDone();
    handlerFails = false;
    delivered.get(20, TimeUnit.SECONDS);
    Message first = downstream.get(0);
    assertThat(downstream).allMatch(m -> m.id().equals(first.id()));
  }

  @Test
  void theEdgeReconnectsWhenTheHubRestarts() throws Exception {
    EdgeHub e = connectEdge();
    AtomicInteger ups = new AtomicInteger();
    e.addListener(
        new CloudLinkListener() {
          @Override
          public void connected() {
            ups.incrementAndGet();
          }
        });
    int port = hub.webSocketAddress().getPort();
    hub.close();
    Waits.until("edge sees the hub gone", WAIT, () -> !e.isConnected());
    hub = startHub(port);
    Waits.until("edge back", WAIT, () -> e.isConnected() && hub.isConnected(NODE));
    assertThat(ups.get()).isEqualTo(1);
  }
}
