package io.kedge.protocol.message;

import io.kedge.protocol.Json;
import java.util.Objects;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.NullNode;
import tools.jackson.databind.node.StringNode;

/**
 * One KubeEdge message: header, route and content (any JSON value; {@link NullNode} when absent).
 * One message travels per WebSocket message. Immutable.
 */
public record Message(MessageHeader header, MessageRoute route, JsonNode content) {

  public Message {
    Objects.requireNonNull(header, "header");
    Objects.requireNonNull(route, "route");
    content = content == null ? NullNode.getInstance() : content;
  }

  public static Message of(MessageRoute route, JsonNode content) {
    return new Message(MessageHeader.create(), route, content);
  }

  public String id() {
    return header.id();
  }

  public String parentId() {
    return header.parentId();
  }

  public String operation() {
    return route.operation();
  }

  public String resource() {
    return route.resource();
  }

  public String source() {
    return route.source();
  }

  public String group() {
    return route.group();
  }

  /** The content as text when it is a JSON string, else its JSON encoding. */
  public String contentAsText() {
    return content.isString() ? content.asString() : Json.string(content);
  }

  public boolean isAck() {
    return Operations.RESPONSE.equals(route.operation())
        && header.hasParent()
        && content.isString()
        && "OK".equals(content.asString());
  }

  public Message withHeader(MessageHeader h) {
    return new Message(h, route, content);
  }

  public Message withRoute(MessageRoute r) {
    return new Message(header, r, content);
  }

  public Message withContent(JsonNode c) {
    return new Message(header, route, c);
  }

  /**
   * The acknowledgement the receiver sends for an ACK-required message: operation {@code response},
   * {@code parent_msg_id} = this message's id, same source/group/resource, content {@code "OK"}
   * (KubeEdge's {@code NewRespByMessage(msg, "OK")}).
   */
  public Message ack() {
    return reply(StringNode.valueOf("OK"));
  }

  /** A reply to this message: operation {@code response}, same route otherwise. */
  public Message reply(JsonNode content) {
    return new Message(
        MessageHeader.replyTo(header.id()), route.withOperation(Operations.RESPONSE), content);
  }

  @Override
  public String toString() {
    return "Message["
        + route.source()
        + "/"
        + route.group()
        + "/"
        + route.operation()
        + " "
        + route.resource()
        + " id="
        + header.id()
        + (header.hasParent() ? " parent=" + header.parentId() : "")
        + (header.resourceVersion().isEmpty() ? "" : " rv=" + header.resourceVersion())
        + "]";
  }
}
