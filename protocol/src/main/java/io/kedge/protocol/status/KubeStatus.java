package io.kedge.protocol.status;

import io.kedge.protocol.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Kubernetes {@code Status} objects (what every client-visible error is) and the {@code
 * {"ErrStatus": …}} wrapper Go's {@code StatusError} marshals to on KubeEdge's wire.
 */
public final class KubeStatus {
  private KubeStatus() {}

  /** Reason phrases for the codes Kedge answers with, as the apiserver spells them. */
  public static String reasonFor(int code) {
    return switch (code) {
      case 400 -> "BadRequest";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "NotFound";
      case 405 -> "MethodNotAllowed";
      case 406 -> "NotAcceptable";
      case 409 -> "Conflict";
      case 410 -> "Expired";
      case 413 -> "RequestEntityTooLarge";
      case 415 -> "UnsupportedMediaType";
      case 422 -> "Invalid";
      case 429 -> "TooManyRequests";
      case 500 -> "InternalError";
      case 503 -> "ServiceUnavailable";
      case 504 -> "Timeout";
      default -> "";
    };
  }

  /** A full {@code Status} (with kind/apiVersion) as the apiserver writes it in HTTP bodies. */
  public static ObjectNode failure(int code, String reason, String message) {
    ObjectNode s = Json.object();
    s.put("kind", "Status");
    s.put("apiVersion", "v1");
    s.set("metadata", Json.object());
    s.put("status", "Failure");
    s.put("message", message);
    s.put("reason", reason == null ? reasonFor(code) : reason);
    s.put("code", code);
    return s;
  }

  public static ObjectNode failure(int code, String message) {
    return failure(code, reasonFor(code), message);
  }

  /** Adds {@code details} ({@code name}, {@code group}, {@code kind}) to a Status. */
  public static ObjectNode withDetails(ObjectNode status, String name, String group, String kind) {
    ObjectNode d = Json.object();
    if (name != null && !name.isEmpty()) {
      d.put("name", name);
    }
    if (group != null && !group.isEmpty()) {
      d.put("group", group);
    }
    if (kind != null && !kind.isEmpty()) {
      d.put("kind", kind);
    }
    // Go's field order: details come before code.
    tools.jackson.databind.JsonNode code = status.remove("code");
    status.set("details", d);
    if (code != null) {
      status.set("code", code);
    }
    return status;
  }

  /** {@code <resource> "<name>" not found}, 404, as the apiserver words it. */
  public static ObjectNode notFound(String group, String resource, String name) {
    String what = group == null || group.isEmpty() ? resource : resource + "." + group;
    return withDetails(
        failure(404, "NotFound", what + " \"" + name + "\" not found"), name, group, resource);
  }

  public static ObjectNode success() {
    ObjectNode s = Json.object();
    s.put("kind", "Status");
    s.put("apiVersion", "v1");
    s.set("metadata", Json.object());
    s.put("status", "Success");
    return s;
  }

  /** {@code {"ErrStatus": status}} with kind/apiVersion dropped, as Go marshals a StatusError. */
  public static ObjectNode errStatus(JsonNode status) {
    ObjectNode copy = (ObjectNode) status.deepCopy();
    copy.remove("kind");
    copy.remove("apiVersion");
    ObjectNode wrapper = Json.object();
    wrapper.set("ErrStatus", copy);
    return wrapper;
  }

  /** The Status inside {@code {"ErrStatus": …}}, with kind/apiVersion restored; null if absent. */
  public static ObjectNode fromErrStatus(JsonNode content) {
    if (content == null || !content.isObject()) {
      return null;
    }
    JsonNode s = content.get("ErrStatus");
    if (s == null || !s.isObject() || s.path("code").asInt(0) == 0) {
      return null; // KubeEdge sends {"ErrStatus":{"metadata":{}}} for "no error"
    }
    ObjectNode copy = ((ObjectNode) s).deepCopy();
    copy.put("kind", "Status");
    copy.put("apiVersion", "v1");
    return copy;
  }

  public static int code(JsonNode status) {
    return status == null ? 0 : status.path("code").asInt(0);
  }
}
