package io.kedge.edge.metaserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.auth.Authenticator;
import io.kedge.edge.auth.Authorizer;
import io.kedge.edge.auth.UserInfo;
import io.kedge.edge.metamanager.ScriptedCloudLink;
import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectChange;
import io.kedge.edge.store.ResourceCatalog;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import io.kedge.protocol.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/** The HTTP layer on an embedded channel, with the cloud offline: answers decided at the edge. */
class ApiHandlerTest {
  static final String CMS = "/api/v1/namespaces/a/configmaps";

  @TempDir Path dir;
  SqliteStore store;
  MetaServer server;
  ScriptedCloudLink link;

  @BeforeEach
  void open() throws Exception {
    store = SqliteStore.open(StoreSettings.defaults(dir.resolve("edge.db")).withFsync(false));
    link = new ScriptedCloudLink(m -> CompletableFuture.failedFuture(new IllegalStateException()));
    link.setConnected(false);
    server =
        MetaServer.withoutAuthorization(
            MetaServerSettings.defaults("edge-1").withPort(0).withMaxRequestBytes(64 * 1024),
            store,
            new ResourceCatalog(store),
            link);
    store
        .apply(
            ObjectChange.upsert(
                Gvr.core("configmaps"),
                "ConfigMap",
                Json.parse(
                    "{\"metadata\":{\"name\":\"c1\",\"namespace\":\"a\",\"resourceVersion\":\"7\",\"labels\":{\"app\":\"web\"}},\"data\":{}}")))
        .get();
  }

  @AfterEach
  void close() {
    server.close();
    store.close();
  }

  record Answer(int code, Map<String, String> headers, String body) {
    JsonNode json() {
      return Json.parse(body);
    }
  }

  static Answer exchange(MetaServer server, String request) {
    return exchange(server, request.getBytes(StandardCharsets.ISO_8859_1));
  }

  static Answer exchange(MetaServer server, byte[] request) {
    EmbeddedChannel ch = new EmbeddedChannel();
    server.initPipeline(ch.pipeline(), ch);
    ch.writeInbound(Unpooled.wrappedBuffer(request));
    ch.runPendingTasks();
    EmbeddedChannel client =
        new EmbeddedChannel(new HttpResponseDecoder(), new HttpObjectAggregator(1 << 20));
    ByteBuf out;
    while ((out = ch.readOutbound()) != null) {
      client.writeInbound(out);
    }
    FullHttpResponse r = client.readInbound();
    assertThat(r)
        .as(
            "a response to: "
                + new String(
                    request, 0, Math.min(request.length, 120), StandardCharsets.ISO_8859_1))
        .isNotNull();
    try {
      Map<String, String> h = new java.util.HashMap<>();
      r.headers().forEach(e -> h.put(e.getKey().toLowerCase(), e.getValue()));
      return new Answer(r.status().code(), h, r.content().toString(StandardCharsets.UTF_8));
    } finally {
      r.release();
      ch.finishAndReleaseAll();
      client.finishAndReleaseAll();
    }
  }

  static String get(String pathAndQuery) {
    return "GET " + pathAndQuery + " HTTP/1.1\r\nHost: x\r\n\r\n";
  }

  static String get(String pathAndQuery, String header) {
    return "GET " + pathAndQuery + " HTTP/1.1\r\nHost: x\r\n" + header + "\r\n\r\n";
  }

  static String send(String method, String path, String contentType, String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    return method
        + " "
        + path
        + " HTTP/1.1\r\nHost: x\r\nContent-Type: "
        + contentType
        + "\r\nContent-Length: "
        + b.length
        + "\r\n\r\n"
        + body;
  }

  static String token(String json) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  /** Bad input: each a 4xx Status, decided at the edge, with the store unchanged. */
  static Stream<Arguments> badInput() {
    return Stream.of(
        Arguments.of("encoded dot-dot", get(CMS + "/%2e%2e"), 400),
        Arguments.of("dot-dot", get(CMS + "/.."), 400),
        Arguments.of("dot", get("/api/v1/namespaces/./configmaps"), 400),
        Arguments.of("encoded slash in a name", get(CMS + "/a%2Fb"), 400),
        Arguments.of("empty segment", get("/api//v1/configmaps"), 400),
        Arguments.of("bad escape", get(CMS + "/%zz"), 400),
        Arguments.of("encoded NUL", get(CMS + "/%00x"), 400),
        Arguments.of("unknown resource", get("/api/v1/namespaces/a/gizmos"), 404),
        Arguments.of("unknown group", get("/apis/nosuch.example.io/v1/things"), 404),
        Arguments.of("unknown version", get("/api/v9/configmaps"), 404),
        Arguments.of(
            "namespaced path for a cluster type", get("/api/v1/namespaces/a/nodes/n1"), 404),
        Arguments.of("extra path segments", get(CMS + "/c1/status/more"), 404),
        Arguments.of("unknown subresource", get(CMS + "/c1/log"), 404),
        Arguments.of("unclosed set", get(CMS + "?labelSelector=a%20in%20(x"), 400),
        Arguments.of("double negation", get(CMS + "?labelSelector=!!a"), 400),
        Arguments.of("bad label value", get(CMS + "?labelSelector=a%3D%25%25"), 400),
        Arguments.of("unsupported field", get(CMS + "?fieldSelector=spec.nodeName%3Dx"), 400),
        Arguments.of("field without operator", get(CMS + "?fieldSelector=metadata.name"), 400),
        Arguments.of("non-numeric resourceVersion", get(CMS + "?resourceVersion=abc"), 400),
        Arguments.of(
            "huge resourceVersion", get(CMS + "?resourceVersion=99999999999999999999999"), 400),
        Arguments.of(
            "negative watch resourceVersion", get(CMS + "?watch=true&resourceVersion=-1"), 400),
        Arguments.of("negative limit", get(CMS + "?limit=-5"), 400),
        Arguments.of("non-numeric limit", get(CMS + "?limit=abc"), 400),
        Arguments.of("non-boolean watch", get(CMS + "?watch=maybe"), 400),
        Arguments.of("garbage continue", get(CMS + "?continue=garbage"), 400),
        Arguments.of(
            "continue at version 0",
            get(
                CMS
                    + "?continue="
                    + token("{\"v\":\"meta.k8s.io/v1\",\"rv\":0,\"start\":\"x\\u0000\"}")),
            400),
        Arguments.of(
            "continue escaping its scope",
            get(
                CMS
                    + "?continue="
                    + token("{\"v\":\"meta.k8s.io/v1\",\"rv\":5,\"start\":\"../x\"}")),
            400),
        Arguments.of(
            "continue with a resourceVersion",
            get(
                CMS
                    + "?resourceVersion=5&continue="
                    + token("{\"v\":\"meta.k8s.io/v1\",\"rv\":5,\"start\":\"x\\u0000\"}")),
            400),
        Arguments.of("resourceVersionMatch alone", get(CMS + "?resourceVersionMatch=Exact"), 400),
        Arguments.of(
            "bad resourceVersionMatch",
            get(CMS + "?resourceVersion=5&resourceVersionMatch=Sometimes"),
            400),
        Arguments.of("bad query escape", get(CMS + "?labelSelector=%zz"), 400),
        Arguments.of("TRACE", "TRACE " + CMS + " HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        Arguments.of("PUT on a collection", send("PUT", CMS, "application/json", "{}"), 405),
        Arguments.of(
            "POST to a named object", send("POST", CMS + "/c1", "application/json", "{}"), 405),
        Arguments.of("openapi v3", get("/openapi/v3"), 404),
        Arguments.of("unknown non-resource path", get("/debug/pprof"), 404),
        Arguments.of(
            "protobuf only from the store",
            get(CMS + "/c1?resourceVersion=0", "Accept: application/vnd.kubernetes.protobuf"),
            406),
        Arguments.of("YAML watch", get(CMS + "?watch=true", "Accept: application/yaml"), 406),
        Arguments.of(
            "path too long", get("/api/v1/namespaces/a/configmaps/" + "x".repeat(5000)), 414),
        Arguments.of("garbage request line", "HELLO\r\n\r\n", 400),
        Arguments.of("HTTP/3.7", "GET " + CMS + " HTTP/3.7\r\nHost: x\r\n\r\n", 400),
        Arguments.of("request line too long", get(CMS + "/" + "x".repeat(9000)), 414),
        Arguments.of("headers too large", get(CMS, "X-Big: " + "x".repeat(20_000)), 431),
        // the apiserver answers these two with a 500
        Arguments.of(
            "merge patch that is not JSON",
            send("PATCH", CMS + "/c1", "application/merge-patch+json", "{\"data\":"),
            400),
        Arguments.of(
            "DeleteOptions that are not JSON",
            send("DELETE", CMS + "/c1", "application/json", "{\"propagationPolicy\":"),
            400),
        Arguments.of(
            "DeleteOptions that are not an object",
            send("DELETE", CMS + "/c1", "application/json", "[1]"),
            400));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badInput")
  void badInputGetsA4xxStatusAndChangesNothing(String what, String request, int code)
      throws Exception {
    long head = store.headSeq();
    int blobs = store.blobs("").size();
    Answer a = exchange(server, request);
    assertThat(a.code()).as(what + ": " + a.body()).isEqualTo(code);
    if (code != 405 || !a.body().isEmpty()) {
      JsonNode s = a.json();
      assertThat(s.path("kind").asString()).isEqualTo("Status");
      assertThat(s.path("code").asInt()).isEqualTo(code);
      assertThat(s.path("status").asString()).isEqualTo("Failure");
      assertThat(s.path("reason").asString())
          .isEqualTo(io.kedge.protocol.status.KubeStatus.reasonFor(code));
    }
    assertThat(store.headSeq()).isEqualTo(head);
    assertThat(store.blobs("").size()).isEqualTo(blobs);
  }

  @Test
  void aBodyOverTheLimitIs413() {
    String big = "{\"data\":\"" + "x".repeat(100 * 1024) + "\"}";
    Answer a = exchange(server, send("POST", CMS, "application/json", big));
    assertThat(a.code()).isEqualTo(413);
    assertThat(a.json().path("reason").asString()).isEqualTo("RequestEntityTooLarge");
  }

  @Test
  void offlineReadsComeFromTheStoreAndWritesAre503() {
    Answer got = exchange(server, get(CMS + "/c1"));
    assertThat(got.code()).isEqualTo(200);
    assertThat(got.json().path("metadata").path("name").asString()).isEqualTo("c1");
    assertThat(got.headers()).containsEntry("content-type", "application/json");
    Answer list = exchange(server, get(CMS + "?labelSelector=app+in+(web,db)"));
    assertThat(list.json().path("items")).hasSize(1);
    assertThat(list.json().path("metadata").path("resourceVersion").asString()).isEqualTo("7");
    Answer notIn = exchange(server, get(CMS + "?labelSelector=app+notin+(web)"));
    assertThat(notIn.json().path("items")).isEmpty();
    Answer write =
        exchange(server, send("POST", CMS, "application/json", "{\"metadata\":{\"name\":\"x\"}}"));
    assertThat(write.code()).isEqualTo(503);
    assertThat(write.headers()).containsEntry("retry-after", "1");
  }

  @Test
  void everyRequestPassesTheAuthenticatorAndTheAuthorizer() {
    MetaServer denying =
        new MetaServer(
            MetaServerSettings.defaults("edge-1").withPort(0),
            store,
            new ResourceCatalog(store),
            link,
            header ->
                header == null
                    ? Authenticator.Authentication.failed("no token")
                    : new Authenticator.Authentication(
                        UserInfo.serviceAccount("a", "app", "u", "", ""), "tok", null, ""),
            attrs ->
                attrs.verb().equals("get") && attrs.resource().equals("configmaps")
                    ? Authorizer.Decision.ALLOW
                    : Authorizer.Decision.deny("no rule"),
            ServerTls.plain());
    try {
      Answer anon = exchange(denying, get(CMS + "/c1"));
      assertThat(anon.code()).isEqualTo(401);
      assertThat(anon.json().path("reason").asString()).isEqualTo("Unauthorized");
      Answer ok = exchange(denying, get(CMS + "/c1", "Authorization: Bearer x"));
      assertThat(ok.code()).isEqualTo(200);
      Answer list = exchange(denying, get(CMS, "Authorization: Bearer x"));
      assertThat(list.code()).isEqualTo(403);
      assertThat(list.json().path("message").asString())
          .isEqualTo(
              "configmaps is forbidden: User \"system:serviceaccount:a:app\" cannot list resource"
                  + " \"configmaps\" in API group \"\" in the namespace \"a\": no rule");
    } finally {
      denying.close();
    }
  }

  @Test
  void fabric8sWebSocketAttemptWhileTheWatchIsRefusedGetsAFiniteAnswer() {
    // A refused watch must not hang fabric8: the answer is a complete response, never a stream.
    Answer a =
        exchange(
            server,
            get(
                CMS + "?watch=true&resourceVersion=abc",
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="));
    assertThat(a.code()).isEqualTo(400);
    assertThat(a.headers()).containsKey("content-length");
  }

  static List<String> unused() {
    return List.of();
  }
}
