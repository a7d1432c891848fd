package io.kedge.cloud.dynamiccontroller;

import io.kedge.cloud.kube.ApiStatusException;
import io.kedge.protocol.Json;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.application.ApplicationStatus;
import io.kedge.protocol.application.KedgeExchange;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.message.Sources;
import io.kedge.protocol.status.KubeStatus;
import java.nio.charset.StandardCharsets;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The {@code applicationResponse} messages the cloud answers Applications with: {@code
 * dynamiccontroller/resource/applicationResponse} on {@code ignore/Application/ignore} (or {@code
 * watchapp/sync}), {@code parent_msg_id} = the request's {@code msg_id}, content = the Application
 * with {@code Approved} or {@code Rejected}. A reply never carries the caller's token.
 */
final class Replies {
  private Replies() {}

  static Message applicationResponse(Message request, Application reply) {
    return new Message(
        MessageHeader.replyTo(request.id()),
        new MessageRoute(
            Sources.DYNAMIC_CONTROLLER,
            Sources.GROUP_RESOURCE,
            Operations.APPLICATION_RESPONSE,
            ResourcePath.APPLICATION_REPLY),
        reply.toJson());
  }

  static Message syncResponse(Message request, JsonNode failed) {
    return new Message(
        MessageHeader.replyTo(request.id()),
        new MessageRoute(
            Sources.DYNAMIC_CONTROLLER,
            Sources.GROUP_RESOURCE,
            Operations.APPLICATION_RESPONSE,
            ResourcePath.WATCHAPP_SYNC),
        failed);
  }

  /** Approved with {@code body}; Kedge requests also get the HTTP code and content type. */
  static Application approved(Application req, byte[] body, KedgeExchange response) {
    return new Application(
        req.id(),
        req.key(),
        req.verb(),
        req.nodename(),
        req.option(),
        req.kedge() == null ? req.reqBody() : null, // Kedge edges do not need their body back
        req.subresource(),
        body,
        ApplicationStatus.APPROVED,
        "",
        null,
        req.timestamp(),
        response);
  }

  /**
   * Rejected with a Status ({@code Error = {"ErrStatus": status}}). For Kedge requests {@code
   * RespBody} holds the apiserver's bytes as they came (or the Status as JSON) and {@code Kedge}
   * the code and content type.
   */
  static Application rejected(Application req, ObjectNode status, ApiResponse raw) {
    KedgeExchange response = null;
    byte[] body = null;
    if (req.kedge() != null) {
      if (raw != null) {
        response = KedgeExchange.response(raw.code(), raw.contentType());
        body = raw.body();
      } else {
        response = KedgeExchange.response(KubeStatus.code(status), "application/json");
        body = Json.bytes(status);
      }
    }
    return new Application(
        req.id(),
        req.key(),
        req.verb(),
        req.nodename(),
        req.option(),
        req.kedge() == null ? req.reqBody() : null,
        req.subresource(),
        body,
        ApplicationStatus.REJECTED,
        "",
        KubeStatus.errStatus(status),
        req.timestamp(),
        response);
  }

  static Application rejected(Application req, ApiStatusException e) {
    return rejected(req, e.status(), null);
  }

  /**
   * The Status an unsuccessful answer stands for: the apiserver's own when the body is one, else
   * one with the code and the start of the body.
   */
  static ObjectNode statusOf(ApiResponse r) {
    if (r.json()) {
      try {
        JsonNode n = Json.parse(r.body());
        if (n instanceof ObjectNode o && "Status".equals(o.path("kind").asString(""))) {
          return o;
        }
      } catch (RuntimeException e) {
        // not JSON after all
      }
    }
    String text = new String(r.body(), 0, Math.min(r.body().length, 256), StandardCharsets.UTF_8);
    String reason = KubeStatus.reasonFor(r.code());
    return KubeStatus.failure(
        r.code(),
        reason.isEmpty() ? "Unknown" : reason,
        "the server responded with code " + r.code() + (text.isBlank() ? "" : ": " + text.strip()));
  }
}
