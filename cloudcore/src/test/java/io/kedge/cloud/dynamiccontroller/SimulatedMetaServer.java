package io.kedge.cloud.dynamiccontroller;

import io.kedge.cloud.hub.UpstreamHandler;
import io.kedge.protocol.Json;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.application.ApplicationStatus;
import io.kedge.protocol.application.KedgeExchange;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.Sources;
import io.kedge.protocol.status.KubeStatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;

/**
 * What an edge's MetaServer sends upstream, for one node, in either form (Kedge with the original
 * HTTP request and the pod's token, or KubeEdge's Key/Verb/Option), handed straight to the handler
 * under test; replies come back through a {@link RecordingMessenger}.
 */
final class SimulatedMetaServer {
  private final String node;
  private final UpstreamHandler handler;
  private final RecordingMessenger messenger;

  SimulatedMetaServer(String node, UpstreamHandler handler, RecordingMessenger messenger) {
    this.node = node;
    this.handler = handler;
    this.messenger = messenger;
  }

  String node() {
    return node;
  }

  /** A reply: the Application and the message it came in. */
  record Reply(Message wire, Application app) {
    boolean approved() {
      return ApplicationStatus.APPROVED.equals(app.status());
    }

    /** The Status of a rejection (with kind/apiVersion), or null. */
    JsonNode status() {
      return KubeStatus.fromErrStatus(app.error());
    }

    int code() {
      if (app.kedge() != null && app.kedge().code() != 0) {
        return app.kedge().code();
      }
      JsonNode s = status();
      return s == null ? (approved() ? 200 : 0) : KubeStatus.code(s);
    }

    String message() {
      JsonNode s = status();
      return s == null ? "" : s.path("message").asString("");
    }

    String body() {
      return app.respBody() == null ? "" : new String(app.respBody(), StandardCharsets.UTF_8);
    }

    JsonNode json() {
      return Json.parse(app.respBody());
    }
  }

  CompletableFuture<Reply> sendAsync(Application app) {
    Message m =
        Message.of(
            new MessageRoute(
                Sources.META_SERVER,
                Sources.GROUP_DYNAMIC_CONTROLLER,
                Operations.APPLICATION_REQUEST,
                "null"),
            app.toJson());
    CompletableFuture<Message> f = messenger.replyFuture(m.id());
    handler.handle(node, m);
    return f.thenApply(r -> new Reply(r, Application.fromJson(r.content())));
  }

  Reply send(Application app) {
    try {
      return sendAsync(app).get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("no reply to " + app.verb() + " " + app.key(), e);
    }
  }

  /** A Kedge request: the pod's HTTP request as MetaServer received it. */
  Reply http(String method, String pathAndQuery, String token) {
    return http(method, pathAndQuery, "", "", null, token);
  }

  Reply http(
      String method,
      String pathAndQuery,
      String accept,
      String contentType,
      byte[] body,
      String token) {
    return send(kedge(method, pathAndQuery, accept, contentType, body, token));
  }

  static Application kedge(
      String method,
      String pathAndQuery,
      String accept,
      String contentType,
      byte[] body,
      String token) {
    int q = pathAndQuery.indexOf('?');
    String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
    String query = q < 0 ? "" : pathAndQuery.substring(q + 1);
    return new Application(
        UUID.randomUUID().toString(),
        path,
        method.equals("GET") && query.contains("watch=") ? "watch" : method.toLowerCase(),
        "",
        null,
        body,
        "",
        null,
        ApplicationStatus.IN_APPLYING,
        "",
        null,
        null,
        KedgeExchange.request(
            method, path, query, accept, contentType, token == null ? "" : token));
  }

  /** A KubeEdge request. */
  Reply kubeEdge(String verb, String key, String option, String reqBody, String subresource) {
    return send(kubeEdgeApp(verb, key, option, reqBody, subresource));
  }

  static Application kubeEdgeApp(
      String verb, String key, String option, String reqBody, String subresource) {
    return new Application(
        UUID.randomUUID().toString(),
        key,
        verb,
        "someone-else", // the cloud must use the session's node, not this
        option == null ? null : option.getBytes(StandardCharsets.UTF_8),
        reqBody == null ? null : reqBody.getBytes(StandardCharsets.UTF_8),
        subresource,
        null,
        ApplicationStatus.IN_APPLYING,
        "",
        null,
        null,
        null);
  }

  /** Sends {@code watchapp/sync} with the given apps; returns the failed map. */
  JsonNode sync(java.util.Map<String, Application> apps) {
    var content = Json.object();
    apps.forEach((id, a) -> content.set(id, a.toJson()));
    Message m =
        Message.of(
            new MessageRoute(
                Sources.META_SERVER,
                Sources.GROUP_DYNAMIC_CONTROLLER,
                Operations.APPLICATION_REQUEST,
                "watchapp/sync"),
            content);
    CompletableFuture<Message> f = messenger.replyFuture(m.id());
    handler.handle(node, m);
    try {
      return f.get(60, TimeUnit.SECONDS).content();
    } catch (Exception e) {
      throw new AssertionError("no reply to watchapp/sync", e);
    }
  }

  static Duration timeout() {
    return Duration.ofSeconds(60);
  }
}
