package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.cloud.hub.CloudHub;
import io.kedge.cloud.hub.HubTls;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.controlplane.ControlPlane;
import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageCodec;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.Sources;
import io.kedge.protocol.status.KubeStatus;
import io.kedge.testkit.Waits;
import io.kedge.testkit.edge.EdgeIdentity;
import io.kedge.testkit.edge.SimulatedEdge;
import io.kedge.testkit.junit.WithControlPlane;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * End to end through cloudcore's CloudHub: simulated edges (WebSocket + mTLS, KubeEdge's wire
 * protocol) send MetaServer Applications, CloudHub routes them to the DynamicController, which runs
 * them against the real apiserver as the pod (issue 4, "Must show" 1 and 4 over the wire); watch
 * events reach the edge and are acknowledged; a node that stays away loses its watches.
 */
@WithControlPlane
class DynamicControllerEndToEndIT {
  static final Duration WAIT = Duration.ofSeconds(60);
  static final String OPENAPI_PROTOBUF =
      "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

  @TempDir static Path tmp;

  static KubeClients cloudcore;
  static ClusterFixture fixture;
  static CertificateAuthority ca;
  static CloudHub hub;
  static DynamicController controller;
  static String ns;
  static String tokenA;
  static String tokenB;
  static String tokenOther;
  static Pod podGone;
  static String tokenGone;
  static final List<Message> acked = new java.util.concurrent.CopyOnWriteArrayList<>();

  @BeforeAll
  static void setUp(ControlPlane plane, KubernetesClient admin) {
    cloudcore = ClusterFixture.cloudcore(plane, tmp);
    fixture = new ClusterFixture(admin);
    ca = CertificateAuthority.create("KubeEdge", KeyPairs.ecP256(), Duration.ofDays(3650));
    KeyPair key = KeyPairs.ecP256();
    var cert =
        ca.issue(
            CertSpec.server("KubeEdge", List.of("127.0.0.1"), List.of(), Duration.ofDays(365))
                .withOrganizations(List.of("KubeEdge")),
            key.getPublic());
    hub =
        new CloudHub(
            CloudCoreConfig.load(
                    null,
                    List.of(
                        "modules.cloudHub.websocket.address=127.0.0.1",
                        "modules.cloudHub.websocket.port=0"))
                .config()
                .modules()
                .cloudHub(),
            new HubTls(ca, cert, key.getPrivate()),
            () -> "",
            (node, m) -> acked.add(m));
    controller =
        new DynamicController(
            DynamicControllerOptions.defaults().withDisconnectGrace(Duration.ofSeconds(2)),
            cloudcore,
            hub,
            null);
    controller.start().join();
    hub.addSessionListener(controller);
    hub.start((node, m) -> {}, controller);

    ns = fixture.namespace("e2e");
    fixture.serviceAccount(ns, "a");
    fixture.serviceAccount(ns, "b");
    fixture.grant(ns, "a", List.of("configmaps"), List.of("get", "list", "watch"));
    fixture.configMap(ns, "cfg", Map.of("k", "v"));
    tokenA = fixture.token(fixture.pod(ns, "pod-a", "a", "e2e-node"));
    tokenB = fixture.token(fixture.pod(ns, "pod-b", "b", "e2e-node"));
    tokenOther = fixture.token(fixture.pod(ns, "pod-other", "a", "e2e-other"));
    podGone = fixture.pod(ns, "pod-gone", "a", "e2e-node");
    tokenGone = fixture.token(podGone);
  }

  @AfterAll
  static void tearDown() {
    if (hub != null) {
      hub.close();
    }
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

  static SimulatedEdge connect(String node) {
    URI uri = URI.create("wss://127.0.0.1:" + hub.webSocketAddress().getPort());
    return SimulatedEdge.connect(uri, EdgeIdentity.issue(ca, node));
  }

  static Message request(Application app) {
    return Message.of(
        new MessageRoute(
            Sources.META_SERVER,
            Sources.GROUP_DYNAMIC_CONTROLLER,
            Operations.APPLICATION_REQUEST,
            "null"),
        app.toJson());
  }

  static Application ask(
      SimulatedEdge edge, String method, String pq, String accept, String token) {
    Message req = request(SimulatedMetaServer.kedge(method, pq, accept, "", null, token));
    Message reply = edge.request(req, WAIT);
    assertThat(reply.route())
        .isEqualTo(
            new MessageRoute(
                Sources.DYNAMIC_CONTROLLER,
                Sources.GROUP_RESOURCE,
                Operations.APPLICATION_RESPONSE,
                "ignore/Application/ignore"));
    if (token != null && !token.isEmpty()) {
      assertThat(MessageCodec.encodeToString(reply)).doesNotContain(token);
    }
    return Application.fromJson(reply.content());
  }

  static String message(Application a) {
    JsonNode s = KubeStatus.fromErrStatus(a.error());
    return s == null ? "" : s.path("message").asString("");
  }

  @Test
  void podIdentityOverTheWire(KubernetesClient admin) {
    try (SimulatedEdge edge = connect("e2e-node")) {
      String list = "/api/v1/namespaces/" + ns + "/configmaps";
      Application a = ask(edge, "GET", list, "", tokenA);
      assertThat(a.status()).as(message(a)).isEqualTo("Approved");
      assertThat(a.kedge().code()).isEqualTo(200);

      Application b = ask(edge, "GET", list, "", tokenB);
      assertThat(b.status()).isEqualTo("Rejected");
      assertThat(b.kedge().code()).isEqualTo(403);
      assertThat(message(b))
          .isEqualTo(
              "configmaps is forbidden: User \"system:serviceaccount:"
                  + ns
                  + ":b\" cannot list resource \"configmaps\" in API group \"\" in the namespace \""
                  + ns
                  + "\"");

      Application other = ask(edge, "GET", list, "", tokenOther);
      assertThat(other.kedge().code()).isEqualTo(403);
      assertThat(message(other)).contains("not bound to this node");

      assertThat(ask(edge, "GET", list, "", tokenGone).status()).isEqualTo("Approved");
      fixture.deletePodNow(podGone);
      Application[] gone = new Application[1];
      Waits.until(
          "the deleted pod's token refused",
          WAIT,
          () -> {
            gone[0] = ask(edge, "GET", list, "", tokenGone);
            return gone[0].kedge().code() == 401;
          });
      assertThat(message(gone[0])).contains("no longer exists");

      Application tokenless = ask(edge, "GET", list + "/cfg", "", "");
      assertThat(tokenless.kedge().code()).isEqualTo(403);
      assertThat(message(tokenless)).contains("User \"system:node:e2e-node\"");
    }
  }

  @Test
  void openApiAsProtobufOverTheWire(ControlPlane plane) throws Exception {
    try (SimulatedEdge edge = connect("e2e-node")) {
      Application r = ask(edge, "GET", "/openapi/v2?timeout=32s", OPENAPI_PROTOBUF, tokenA);
      HttpResponse<byte[]> direct =
          HttpClient.newBuilder()
              .sslContext(plane.adminSslContext())
              .build()
              .send(
                  HttpRequest.newBuilder(
                          URI.create(plane.apiserverUrl() + "/openapi/v2?timeout=32s"))
                      .header("Accept", OPENAPI_PROTOBUF)
                      .build(),
                  HttpResponse.BodyHandlers.ofByteArray());
      assertThat(r.kedge().code()).isEqualTo(200);
      assertThat(r.kedge().responseContentType())
          .isEqualTo(direct.headers().firstValue("Content-Type").orElseThrow());
      assertThat(r.respBody()).isEqualTo(direct.body());
    }
  }

  @Test
  void watchEventsReachTheEdgeAndAreAcknowledged(KubernetesClient admin) {
    try (SimulatedEdge edge = connect("e2e-watch")) {
      String token = fixture.token(fixture.pod(ns, "watcher", "a", "e2e-watch"));
      Application w =
          ask(edge, "GET", "/api/v1/namespaces/" + ns + "/configmaps?watch=true", "", token);
      assertThat(w.status()).as(message(w)).isEqualTo("Approved");
      Message initial = edge.await(m -> m.resource().equals(ns + "/configmap/cfg"), WAIT);
      assertThat(initial.operation()).isEqualTo(Operations.INSERT);
      fixture.configMap(ns, "fresh", Map.of("x", "y"));
      Message fresh = edge.await(m -> m.resource().equals(ns + "/configmap/fresh"), WAIT);
      assertThat(fresh.operation()).isEqualTo(Operations.INSERT);
      assertThat(fresh.header().resourceVersion()).isNotEmpty();
      assertThat(fresh.content().path("data").path("x").asString()).isEqualTo("y");
      // the edge acknowledged it (as KubeEdge's edge does), and CloudHub took the ACK
      Waits.until(
          "the insert is acknowledged",
          WAIT,
          () -> acked.stream().anyMatch(m -> m.id().equals(fresh.id())));
      admin
          .configMaps()
          .inNamespace(ns)
          .withName("fresh")
          .edit(
              c -> {
                c.getData().put("x", "z");
                return c;
              });
      Message update =
          edge.await(
              m ->
                  m.resource().equals(ns + "/configmap/fresh")
                      && m.operation().equals(Operations.UPDATE),
              WAIT);
      assertThat(update.content().path("data").path("x").asString()).isEqualTo("z");

      // the node goes away and stays away: its watches go after the grace period
      assertThat(controller.watchIds("e2e-watch")).hasSize(1);
      edge.closeAbruptly();
      Waits.until(
          "watches of the departed node removed",
          WAIT,
          () -> controller.watchIds("e2e-watch").isEmpty());
    }
  }
}
