package io.kedge.edge.metamanager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.edge.hub.NotConnectedException;
import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CloudQueriesTest {
  @TempDir Path dir;
  ObjectStore store;
  ScriptedCloudLink link;
  CloudQueries queries;

  @BeforeEach
  void open() {
    store = SqliteStore.open(StoreSettings.defaults(dir.resolve("edge.db")));
    link = new ScriptedCloudLink(m -> CompletableFuture.failedFuture(new IllegalStateException()));
    queries = new CloudQueries(link, store, Duration.ofSeconds(5));
  }

  @AfterEach
  void close() {
    store.close();
  }

  static CompletableFuture<Message> reply(Message q, String json) {
    return CompletableFuture.completedFuture(q.reply(Json.parse(json)));
  }

  @Test
  void aConfigMapFromTheCloudIsKeptAndServedOffline() throws Exception {
    link.answer(
        q ->
            reply(
                q,
                "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"cfg1\",\"namespace\":\"demo\",\"resourceVersion\":\"374\",\"uid\":\"u\"},\"data\":{\"greeting\":\"hello\"}}"));
    assertThat(queries.configMap("demo", "cfg1").get().path("data").path("greeting").asString())
        .isEqualTo("hello");
    Message q = link.requests.get(0);
    assertThat(q.route().source()).isEqualTo("edged");
    assertThat(q.route().group()).isEqualTo("meta");
    assertThat(q.operation()).isEqualTo("query");
    assertThat(q.resource()).isEqualTo("demo/configmap/cfg1");
    // EdgeHub acknowledges the answer, as KubeEdge's edge does (KubeEdgeSessionReplayTest)
    assertThat(store.get(Gvr.core("configmaps"), "demo", "cfg1")).isPresent();

    link.setConnected(false);
    assertThat(
            queries
                .configMap("demo", "cfg1")
                .get()
                .path("metadata")
                .path("resourceVersion")
                .asString())
        .isEqualTo("374");
    assertThatThrownBy(() -> queries.secret("demo", "nothere").get())
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(NotConnectedException.class);
  }

  @Test
  void askersOfAnObjectAlreadyAskedForShareOneQuery() throws Exception {
    // KubeEdge's cloud keeps one reply per object (UID) in its acknowledgement queue: two queries
    // in flight for one object would lose a reply.
    CompletableFuture<Message> pending = new CompletableFuture<>();
    link.answer(q -> q.resource().endsWith("/cfg1") ? pending : new CompletableFuture<>());
    CompletableFuture<tools.jackson.databind.JsonNode> first = queries.configMap("demo", "cfg1");
    CompletableFuture<tools.jackson.databind.JsonNode> second = queries.configMap("demo", "cfg1");
    CompletableFuture<tools.jackson.databind.JsonNode> other = queries.configMap("demo", "cfg2");
    assertThat(link.requests)
        .extracting(Message::resource)
        .containsExactly("demo/configmap/cfg1", "demo/configmap/cfg2");
    Message q = link.requests.get(0);
    pending.complete(
        q.reply(
            Json.parse(
                "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"cfg1\","
                    + "\"namespace\":\"demo\",\"resourceVersion\":\"7\",\"uid\":\"u\"},"
                    + "\"data\":{\"k\":\"v\"}}")));
    assertThat(first.get().path("data").path("k").asString()).isEqualTo("v");
    assertThat(second.get().path("data").path("k").asString()).isEqualTo("v");
    assertThat(first.get()).isNotSameAs(second.get());
    assertThat(other).isNotDone();

    // once answered, the next asker sends a query of its own
    link.answer(
        r ->
            reply(
                r,
                "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":"
                    + "{\"name\":\"cfg1\",\"namespace\":\"demo\",\"resourceVersion\":\"8\",\"uid\":\"u\"}}"));
    assertThat(
            queries
                .configMap("demo", "cfg1")
                .get()
                .path("metadata")
                .path("resourceVersion")
                .asString())
        .isEqualTo("8");
    assertThat(link.requests).hasSize(3);
  }

  @Test
  void notFoundAtTheCloudRemovesTheLocalCopy() throws Exception {
    link.answer(
        q ->
            reply(
                q,
                "{\"metadata\":{\"name\":\"s1\",\"namespace\":\"demo\",\"resourceVersion\":\"5\"},\"type\":\"Opaque\"}"));
    queries.secret("demo", "s1").get();
    link.answer(
        q ->
            reply(
                q,
                "{\"ErrStatus\":{\"metadata\":{},\"status\":\"Failure\",\"message\":\"secrets \\\"s1\\\" not found\",\"reason\":\"NotFound\",\"code\":404}}"));
    assertThatThrownBy(() -> queries.secret("demo", "s1").get())
        .hasCauseInstanceOf(CloudQueries.QueryException.class);
    assertThat(store.get(Gvr.core("secrets"), "demo", "s1")).isEmpty();
  }

  @Test
  void tokensAreKeptUntilTheyExpire() throws Exception {
    String exp = Instant.now().plusSeconds(3600).toString();
    link.answer(
        q ->
            reply(
                q,
                "{\"kind\":\"TokenRequest\",\"apiVersion\":\"authentication.k8s.io/v1\",\"spec\":{\"expirationSeconds\":3607},"
                    + "\"status\":{\"token\":\"tok-1\",\"expirationTimestamp\":\""
                    + exp
                    + "\"}}"));
    var req =
        Json.parse(
            "{\"spec\":{\"expirationSeconds\":3607,\"boundObjectRef\":{\"kind\":\"Pod\",\"name\":\"p\",\"uid\":\"u\"}}}");
    assertThat(
            queries
                .serviceAccountToken("demo", "app", req)
                .get()
                .path("status")
                .path("token")
                .asString())
        .isEqualTo("tok-1");
    assertThat(link.requests.get(0).resource()).isEqualTo("demo/serviceaccounttoken/app");
    link.setConnected(false);
    assertThat(
            queries
                .serviceAccountToken("demo", "app", req)
                .get()
                .path("status")
                .path("token")
                .asString())
        .isEqualTo("tok-1");
    // another request (other pod) has no stored token
    var other =
        Json.parse(
            "{\"spec\":{\"expirationSeconds\":3607,\"boundObjectRef\":{\"kind\":\"Pod\",\"name\":\"q\",\"uid\":\"v\"}}}");
    assertThatThrownBy(() -> queries.serviceAccountToken("demo", "app", other).get())
        .hasCauseInstanceOf(NotConnectedException.class);
  }

  @Test
  void anExpiredTokenIsNotServedOffline() throws Exception {
    link.answer(
        q ->
            reply(
                q,
                "{\"status\":{\"token\":\"old\",\"expirationTimestamp\":\"2020-01-01T00:00:00Z\"}}"));
    var req = Json.parse("{\"spec\":{}}");
    queries.serviceAccountToken("demo", "app", req).get();
    link.setConnected(false);
    assertThatThrownBy(() -> queries.serviceAccountToken("demo", "app", req).get())
        .hasCauseInstanceOf(NotConnectedException.class);
  }
}
