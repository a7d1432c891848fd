package io.kedge.edge.metaserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.GoldenTrace;
import io.kedge.edge.auth.Authenticator;
import io.kedge.edge.auth.Authorizer;
import io.kedge.edge.auth.DiscoveryPaths;
import io.kedge.edge.metamanager.ScriptedCloudLink;
import io.kedge.edge.store.ResourceCatalog;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import io.kedge.protocol.Json;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Discovery at an edge whose cloud is KubeEdge's v1.17.0: its Application center passes only {@code
 * /version} (and health) through to the apiserver and rejects {@code /api}, {@code /apis} and
 * {@code /apis/<g>[/<v>]} as resource requests without a name ({@code Status: Rejected, Reason:
 * "name is required"}, in the shape of the recorded reply seq 1340). MetaServer answers them
 * itself, as the v1.20 apiserver does, so that kubectl 1.32's discovery (the requests recorded in
 * {@code shared/golden/client-requests.md}) succeeds; and a request RBAC denies is a 403, also for
 * a type the apiserver does not serve, as the apiserver answers it (authorization comes before
 * routing there).
 */
class KubeEdgeDiscoveryTest {
  static final GoldenTrace TRACE = GoldenTrace.load();

  /** The group/versions kubectl 1.32 fetched on every command against the v1.20 apiserver. */
  static final List<String> KUBECTL_GROUP_VERSIONS =
      List.of(
          "admissionregistration.k8s.io/v1",
          "admissionregistration.k8s.io/v1beta1",
          "apiextensions.k8s.io/v1",
          "apiextensions.k8s.io/v1beta1",
          "apiregistration.k8s.io/v1",
          "apiregistration.k8s.io/v1beta1",
          "apps/v1",
          "authentication.k8s.io/v1",
          "authentication.k8s.io/v1beta1",
          "authorization.k8s.io/v1",
          "authorization.k8s.io/v1beta1",
          "autoscaling/v1",
          "autoscaling/v2beta1",
          "autoscaling/v2beta2",
          "batch/v1",
          "batch/v1beta1",
          "certificates.k8s.io/v1",
          "certificates.k8s.io/v1beta1",
          "coordination.k8s.io/v1",
          "coordination.k8s.io/v1beta1",
          "discovery.k8s.io/v1beta1",
          "events.k8s.io/v1",
          "events.k8s.io/v1beta1",
          "extensions/v1beta1",
          "flowcontrol.apiserver.k8s.io/v1beta1",
          "networking.k8s.io/v1",
          "networking.k8s.io/v1beta1",
          "node.k8s.io/v1",
          "node.k8s.io/v1beta1",
          "policy/v1beta1",
          "rbac.authorization.k8s.io/v1",
          "rbac.authorization.k8s.io/v1beta1",
          "scheduling.k8s.io/v1",
          "scheduling.k8s.io/v1beta1",
          "storage.k8s.io/v1",
          "storage.k8s.io/v1beta1");

  @TempDir Path dir;
  SqliteStore store;
  MetaServer server;
  final List<String> asked = new CopyOnWriteArrayList<>();
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void start() {
    store = SqliteStore.open(StoreSettings.defaults(dir.resolve("edge.db")));
    ScriptedCloudLink kubeEdge = new ScriptedCloudLink(this::asKubeEdge);
    Authorizer discoveryOnly =
        Authorizer.union(new DiscoveryPaths(), a -> Authorizer.Decision.NO_OPINION);
    server =
        new MetaServer(
            MetaServerSettings.defaults("edge-node-1").withPort(0),
            store,
            new ResourceCatalog(store),
            kubeEdge,
            header -> Authenticator.Authentication.anonymous(),
            discoveryOnly,
            ServerTls.plain());
    server.start();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    store.close();
  }

  /** KubeEdge's Application center: pass-through for /version, a rejection for the rest. */
  private CompletableFuture<Message> asKubeEdge(Message m) {
    Application req = Application.fromJson(m.content());
    asked.add(req.key());
    Message recorded = TRACE.message(1340);
    ObjectNode app = (ObjectNode) Application.fromJson(recorded.content()).toJson();
    app.put("ID", req.id()).put("Key", req.key()).put("Verb", req.verb());
    app.remove("Kedge");
    if (req.key().equals("/version")) {
      app.put(
          "RespBody",
          Json.bytes(Json.parse("{\"major\":\"1\",\"minor\":\"20\",\"gitVersion\":\"v1.20.2\"}")));
    } else {
      app.put("Status", "Rejected");
      app.put("Reason", "name is required");
      app.putNull("RespBody");
    }
    return CompletableFuture.completedFuture(
        new Message(MessageHeader.replyTo(m.id()), recorded.route(), app));
  }

  HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort() + path))
            .header("Accept", "application/json, */*")
            .timeout(Duration.ofSeconds(20))
            .build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  @Test
  void kubectlsDiscoveryIsAnsweredAsTheApiserverAnswersIt() throws Exception {
    BuiltInDiscovery builtIn = new BuiltInDiscovery(new ResourceCatalog(null));
    HttpResponse<String> api = get("/api?timeout=32s");
    assertThat(api.statusCode()).isEqualTo(200);
    assertThat(Json.parse(api.body())).isEqualTo(builtIn.documents().get("/api"));
    assertThat(asked).contains("/api"); // the cloud was asked first

    HttpResponse<String> apis = get("/apis?timeout=32s");
    assertThat(apis.statusCode()).isEqualTo(200);
    List<String> listed = new ArrayList<>();
    for (JsonNode g : Json.parse(apis.body()).path("groups")) {
      for (JsonNode v : g.path("versions")) {
        listed.add(v.path("groupVersion").asString());
      }
    }
    // KubeEdge's own types the edge knows are listed after the built-in groups
    assertThat(listed).containsAll(KUBECTL_GROUP_VERSIONS).contains("policy.kubeedge.io/v1alpha1");

    for (String gv : KUBECTL_GROUP_VERSIONS) {
      HttpResponse<String> r = get("/apis/" + gv + "?timeout=32s");
      assertThat(r.statusCode()).as(gv).isEqualTo(200);
      assertThat(r.headers().firstValue("content-type")).as(gv).hasValue("application/json");
      assertThat(Json.parse(r.body())).as(gv).isEqualTo(builtIn.documents().get("/apis/" + gv));
    }
    JsonNode v1 = Json.parse(get("/api/v1?timeout=32s").body());
    assertThat(v1.path("kind").asString()).isEqualTo("APIResourceList");
    assertThat(v1.toString()).contains("\"name\":\"configmaps\"");
    JsonNode apps = Json.parse(get("/apis/apps").body());
    assertThat(apps.path("preferredVersion").path("version").asString()).isEqualTo("v1");
    JsonNode kubeEdgeOwn = Json.parse(get("/apis/policy.kubeedge.io/v1alpha1").body());
    assertThat(kubeEdgeOwn.toString()).contains("\"name\":\"serviceaccountaccesses\"");

    // /version passes through KubeEdge's cloud as it is
    HttpResponse<String> version = get("/version?timeout=32s");
    assertThat(version.statusCode()).isEqualTo(200);
    assertThat(Json.parse(version.body()).path("gitVersion").asString()).isEqualTo("v1.20.2");

    // unknown groups and versions: the apiserver's 404
    assertThat(get("/apis/nosuch.example.io").statusCode()).isEqualTo(404);
    assertThat(get("/apis/apps/v7").statusCode()).isEqualTo(404);
  }

  @Test
  void aDeniedRequestIs403AsAtTheApiserverAlsoForATypeItDoesNotServe() throws Exception {
    // v1.20 apiserver, a ServiceAccount without rights: GET
    // /apis/nonexistent.example/v1/namespaces/default/foos → 403 Forbidden (with rights: 404)
    HttpResponse<String> unknownGroup = get("/apis/nosuch.example.io/v1/namespaces/demo/things");
    assertThat(unknownGroup.statusCode()).isEqualTo(403);
    assertThat(Json.parse(unknownGroup.body()).path("reason").asString()).isEqualTo("Forbidden");
    assertThat(Json.parse(unknownGroup.body()).path("kind").asString()).isEqualTo("Status");
    assertThat(get("/apis/apps/v1/namespaces/demo/nosuchthings").statusCode()).isEqualTo(403);
    assertThat(get("/api/v1/namespaces/demo/configmaps").statusCode()).isEqualTo(403);
  }
}
