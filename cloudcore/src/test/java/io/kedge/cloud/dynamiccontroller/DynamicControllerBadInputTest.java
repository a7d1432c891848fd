package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.ConfigBuilder;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.protocol.Json;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.message.Sources;
import io.kedge.protocol.status.KubeStatus;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.StringNode;

/**
 * Bad input from edges: every case gets a Rejected reply with a Status of the right code (nothing
 * reaches the apiserver, which here does not even exist), and the controller keeps working.
 */
class DynamicControllerBadInputTest {
  static KubeClients kube;
  static RecordingMessenger messenger;
  static DynamicController controller;
  static SimulatedMetaServer edge;

  @BeforeAll
  static void setUp() {
    // nothing listens there: a request that got through would be answered 503
    kube = KubeClients.of(new ConfigBuilder().withMasterUrl("https://127.0.0.1:9").build());
    messenger = new RecordingMessenger();
    controller =
        new DynamicController(
            DynamicControllerOptions.defaults()
                .withIdentity(
                    DynamicControllerOptions.Identity.NODE,
                    DynamicControllerOptions.Tokenless.NODE),
            kube,
            messenger,
            null);
    edge = new SimulatedMetaServer("edge-bad", controller, messenger);
  }

  @AfterAll
  static void tearDown() {
    controller.close();
    kube.close();
  }

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static Arguments kedge(
      String name, int code, String method, String pq, String accept, String ct, String body) {
    return Arguments.of(
        name,
        code,
        SimulatedMetaServer.kedge(method, pq, accept, ct, body == null ? null : b(body), ""));
  }

  static Arguments kubeEdge(
      String name, int code, String verb, String key, String option, String body) {
    return Arguments.of(name, code, SimulatedMetaServer.kubeEdgeApp(verb, key, option, body, ""));
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        kedge("unknown method", 405, "OPTIONS", "/api/v1/pods", "", "", null),
        kedge("TRACE", 405, "TRACE", "/api/v1/pods", "", "", null),
        kedge("path outside the API", 404, "GET", "/metrics", "", "", null),
        kedge("debug path", 404, "GET", "/debug/pprof/heap", "", "", null),
        kedge("dot-dot segment", 400, "GET", "/api/v1/namespaces/../secrets", "", "", null),
        kedge("encoded dot-dot", 400, "GET", "/api/v1/namespaces/%2e%2e/secrets", "", "", null),
        kedge("encoded slash", 400, "GET", "/api/v1/namespaces/a%2Fb/pods", "", "", null),
        kedge("empty segment", 400, "GET", "/api//v1/pods", "", "", null),
        kedge("relative path", 400, "GET", "api/v1/pods", "", "", null),
        kedge("exec", 403, "POST", "/api/v1/namespaces/d/pods/p/exec?command=sh", "", "", null),
        kedge("attach", 403, "POST", "/api/v1/namespaces/d/pods/p/attach", "", "", null),
        kedge("port-forward", 403, "POST", "/api/v1/namespaces/d/pods/p/portforward", "", "", null),
        kedge("service proxy", 403, "GET", "/api/v1/namespaces/d/services/s/proxy/", "", "", null),
        kedge("node proxy", 403, "GET", "/api/v1/nodes/n/proxy/metrics", "", "", null),
        kedge(
            "following logs",
            400,
            "GET",
            "/api/v1/namespaces/d/pods/p/log?follow=true",
            "",
            "",
            null),
        kedge("write to discovery", 405, "POST", "/version", "", "application/json", "{}"),
        kedge(
            "header injection",
            400,
            "GET",
            "/api/v1/pods",
            "application/json\r\nImpersonate-User: admin",
            "",
            null),
        kedge(
            "bad watch label selector",
            400,
            "GET",
            "/api/v1/pods?watch=true&labelSelector=a%20in%20b",
            "",
            "",
            null),
        kedge(
            "bad watch field selector",
            400,
            "GET",
            "/api/v1/pods?watch=true&fieldSelector=nonsense",
            "",
            "",
            null),
        kubeEdge("unknown verb", 405, "frobnicate", "/core/v1/pods/d/p", null, null),
        kubeEdge("key with too few parts", 400, "get", "/core/v1/pods", null, null),
        kubeEdge("empty key", 400, "get", "", null, null),
        kubeEdge("option not JSON", 400, "list", "/core/v1/pods/d/null", "{nope", null),
        kubeEdge("patch without type", 400, "patch", "/core/v1/pods/d/p", "{\"Name\":\"p\"}", null),
        kubeEdge("patch option not JSON", 400, "patch", "/core/v1/pods/d/p", "[", null),
        kubeEdge("update without a name", 400, "update", "/core/v1/pods/d/null", "{}", "{}"),
        kubeEdge("create without a body", 400, "create", "/core/v1/pods/d/null", "{}", null),
        kubeEdge("write to a raw path", 405, "create", "/api/v1", null, "{}"),
        kubeEdge(
            "bad watch selector",
            400,
            "watch",
            "/core/v1/pods/d/null",
            "{\"labelSelector\":\"!\"}",
            null),
        kubeEdge("name with a space", 400, "get", "/core/v1/pods/d/a b", null, null),
        kedge("unreachable apiserver", 503, "GET", "/api/v1/namespaces/d/pods", "", "", null));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("cases")
  void refusedWithAStatus(String name, int code, Application app) {
    SimulatedMetaServer.Reply r = edge.send(app);
    assertThat(r.approved()).isFalse();
    JsonNode status = r.status();
    assertThat(status).as(name).isNotNull();
    assertThat(KubeStatus.code(status)).as(name + ": " + status).isEqualTo(code);
    assertThat(status.path("reason").asString()).isNotEmpty();
    assertThat(status.path("message").asString()).isNotEmpty();
    assertThat(r.app().id()).isEqualTo(app.id());
    assertThat(r.app().nodename()).isEqualTo("edge-bad");
    assertThat(r.wire().route())
        .isEqualTo(
            new MessageRoute(
                Sources.DYNAMIC_CONTROLLER,
                Sources.GROUP_RESOURCE,
                Operations.APPLICATION_RESPONSE,
                ResourcePath.APPLICATION_REPLY));
    if (app.kedge() != null) {
      assertThat(r.app().kedge().code()).isEqualTo(code);
      assertThat(Json.parse(r.app().respBody()).path("code").asInt()).isEqualTo(code);
    }
  }

  @Test
  void contentThatIsNotAnApplication() throws Exception {
    for (JsonNode content : new JsonNode[] {StringNode.valueOf("hello"), Json.parse("[1,2]")}) {
      Message m =
          Message.of(
              new MessageRoute(
                  Sources.META_SERVER, Sources.GROUP_DYNAMIC_CONTROLLER, "null", "null"),
              content);
      var f = messenger.replyFuture(m.id());
      controller.handle("edge-bad", m);
      Message reply = f.get(10, TimeUnit.SECONDS);
      assertThat(reply.content().at("/Status").asString()).isEqualTo("Rejected");
      assertThat(reply.content().at("/Error/ErrStatus/code").asInt()).isEqualTo(400);
    }
  }

  @Test
  void watchappSyncWithGarbage() {
    // not a map: treated as "no watches"
    Message m =
        Message.of(
            new MessageRoute(
                Sources.META_SERVER, Sources.GROUP_DYNAMIC_CONTROLLER, "null", "watchapp/sync"),
            StringNode.valueOf("x"));
    var f = messenger.replyFuture(m.id());
    controller.handle("edge-bad", m);
    assertThat(f.join().content().isObject()).isTrue();
    // an entry that is not a watch is reported as failed
    Application get = SimulatedMetaServer.kubeEdgeApp("get", "/core/v1/pods/d/p", "{}", null, "");
    JsonNode failed = edge.sync(Map.of(get.id(), get));
    assertThat(failed.at("/" + get.id() + "/Error/ErrStatus/code").asInt()).isEqualTo(400);
    assertThat(controller.watchCount()).isZero();
  }

  @Test
  void whenDisabledEveryApplicationIsAnswered() {
    RecordingMessenger m = new RecordingMessenger();
    DisabledDynamicController off = new DisabledDynamicController(m);
    SimulatedMetaServer e = new SimulatedMetaServer("edge-off", off, m);
    var r = e.kubeEdge("get", "/core/v1/pods/d/p", "{}", null, "");
    assertThat(r.approved()).isFalse();
    assertThat(r.code()).isEqualTo(503);
    assertThat(r.message()).contains("dynamicController is disabled");
    var k = e.http("GET", "/api/v1/pods", "token");
    assertThat(k.code()).isEqualTo(503);
    Application w =
        SimulatedMetaServer.kubeEdgeApp("watch", "/core/v1/pods/d/null", "{}", null, "");
    JsonNode failed = e.sync(Map.of(w.id(), w));
    assertThat(failed.at("/" + w.id() + "/Error/ErrStatus/code").asInt()).isEqualTo(503);
  }
}
