package io.kedge.edge.node;

import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.status.KubeStatus;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The cloud's answer to an edge request, in whichever form KubeEdge's EdgeController sends it: an
 * {@code ObjectResp} ({@code {"Object":…,"Err":…}}), a bare object, {@code {"ErrStatus":…}}, or an
 * {@code error} message carrying text.
 *
 * @param object the object, or null
 * @param error the failure as a Kubernetes Status, or null on success
 */
record CloudReply(JsonNode object, ObjectNode error) {

  static CloudReply of(Message reply) {
    JsonNode c = reply.content();
    if (Operations.ERROR.equals(reply.operation())) {
      return new CloudReply(null, KubeStatus.failure(500, reply.contentAsText()));
    }
    if (c.isObject() && c.has("Object") && c.has("Err")) {
      JsonNode o = c.get("Object");
      ObjectNode err = KubeStatus.fromErrStatus(c.get("Err"));
      if (err == null && c.get("Err").isObject() && !c.get("Err").has("ErrStatus")) {
        // A Go error that is not a StatusError marshals as {}: KubeEdge reads it as success.
        err = null;
      }
      return new CloudReply(o == null || o.isNull() ? null : o, err);
    }
    if (c.isObject() && c.has("ErrStatus")) {
      return new CloudReply(null, KubeStatus.fromErrStatus(c));
    }
    if (c.isString() && !"OK".equals(c.asString())) {
      return new CloudReply(null, KubeStatus.failure(500, c.asString()));
    }
    return new CloudReply(c.isObject() ? c : null, null);
  }

  boolean ok() {
    return error == null;
  }

  int code() {
    return error == null ? 200 : error.path("code").asInt(500);
  }

  String reason() {
    return error == null ? "" : error.path("reason").asString("");
  }

  /** One line for logs. */
  String describe() {
    return error == null
        ? "ok"
        : code() + " " + reason() + ": " + error.path("message").asString("");
  }
}
