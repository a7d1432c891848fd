package io.kedge.cloud.edgecontroller;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.Sources;
import io.kedge.protocol.status.KubeStatus;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.NullNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * EdgeController's answers in KubeEdge's forms: {@code edgecontroller/resource/response} on the
 * request's resource, {@code parent_msg_id} = request id; content a plain object, an {@code
 * ObjectResp} ({@code {"Object":…,"Err":…}}), {@code "OK"}, or {@code {"ErrStatus": Status}}.
 */
final class Replies {
  private Replies() {}

  static Message reply(Message request, JsonNode content, String resourceVersion) {
    return new Message(
        MessageHeader.replyTo(request.id()).withResourceVersion(resourceVersion),
        new MessageRoute(
            Sources.EDGE_CONTROLLER,
            Sources.GROUP_RESOURCE,
            Operations.RESPONSE,
            request.resource()),
        content);
  }

  static ObjectNode objectResp(JsonNode object, JsonNode errStatus) {
    ObjectNode o = Json.object();
    o.set("Object", object == null ? NullNode.getInstance() : object);
    o.set("Err", errStatus == null ? NullNode.getInstance() : errStatus);
    return o;
  }

  static String rv(JsonNode object) {
    return object == null ? "" : object.path("metadata").path("resourceVersion").asString("");
  }

  /** {@code {"ErrStatus": …}} for an apiserver failure (its own Status when it sent one). */
  static ObjectNode errStatus(KubernetesClientException e) {
    if (e.getStatus() != null && e.getStatus().getCode() != null && e.getStatus().getCode() > 0) {
      JsonNode status = Json.mapper().valueToTree(e.getStatus());
      ObjectNode s = (ObjectNode) status;
      s.remove("additionalProperties");
      if (!s.path("metadata").isObject()) {
        s.set("metadata", Json.object()); // as Go marshals a Status (ListMeta has no omitempty)
      }
      return KubeStatus.errStatus(s);
    }
    int code = e.getCode() > 0 ? e.getCode() : 500;
    return KubeStatus.errStatus(
        KubeStatus.failure(code, e.getMessage() == null ? "request failed" : e.getMessage()));
  }

  static ObjectNode errStatus(int code, String message) {
    return KubeStatus.errStatus(KubeStatus.failure(code, message));
  }
}
