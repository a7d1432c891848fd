package io.kedge.protocol.message;

import io.kedge.protocol.Json;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.SerializableString;
import tools.jackson.core.io.CharacterEscapes;
import tools.jackson.core.io.SerializedString;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.JsonNode;

/**
 * The exact JSON form of a message on KubeEdge's WebSocket lane: what Go's {@code json.Encoder}
 * writes for {@code model.Message} — keys in Go's field order, empty optional fields left out,
 * {@code <}, {@code >}, {@code &}, U+2028 and U+2029 escaped, and a trailing newline.
 */
public final class MessageCodec {
  private MessageCodec() {}

  /** Go's json.Marshal escapes these for HTML safety; doing the same keeps frames identical. */
  private static final class GoEscapes extends CharacterEscapes {
    private final int[] table;

    GoEscapes() {
      table = standardAsciiEscapesForJSON();
      table['<'] = ESCAPE_CUSTOM;
      table['>'] = ESCAPE_CUSTOM;
      table['&'] = ESCAPE_CUSTOM;
    }

    @Override
    public int[] getEscapeCodesForAscii() {
      return table;
    }

    @Override
    public SerializableString getEscapeSequence(int ch) {
      return switch (ch) {
        case '<' -> new SerializedString("\\u003c");
        case '>' -> new SerializedString("\\u003e");
        case '&' -> new SerializedString("\\u0026");
        case 0x2028 -> new SerializedString("\\u2028");
        case 0x2029 -> new SerializedString("\\u2029");
        default -> null;
      };
    }
  }

  private static final JsonFactory FACTORY =
      Json.factory().rebuild().characterEscapes(new GoEscapes()).build();

  /** UTF-8 JSON of {@code m} followed by a newline, as KubeEdge sends it. */
  public static byte[] encode(Message m) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = FACTORY.createGenerator(ObjectWriteContext.empty(), out)) {
      g.writeStartObject();
      g.writeName("header");
      g.writeStartObject();
      MessageHeader h = m.header();
      g.writeStringProperty("msg_id", h.id());
      if (!h.parentId().isEmpty()) {
        g.writeStringProperty("parent_msg_id", h.parentId());
      }
      g.writeNumberProperty("timestamp", h.timestamp());
      if (!h.resourceVersion().isEmpty()) {
        g.writeStringProperty("resourceversion", h.resourceVersion());
      }
      if (h.sync()) {
        g.writeBooleanProperty("sync", true);
      }
      g.writeEndObject();
      g.writeName("route");
      g.writeStartObject();
      MessageRoute r = m.route();
      writeIfPresent(g, "source", r.source());
      writeIfPresent(g, "group", r.group());
      writeIfPresent(g, "operation", r.operation());
      writeIfPresent(g, "resource", r.resource());
      g.writeEndObject();
      g.writeName("content");
      Json.write(g, m.content());
      g.writeEndObject();
    }
    out.write('\n');
    return out.toByteArray();
  }

  public static String encodeToString(Message m) {
    return new String(encode(m), StandardCharsets.UTF_8);
  }

  private static void writeIfPresent(JsonGenerator g, String name, String value) {
    if (!value.isEmpty()) {
      g.writeStringProperty(name, value);
    }
  }

  /** Decodes one message; {@link MessageFormatException} when the frame is not one. */
  public static Message decode(byte[] frame) {
    JsonNode root;
    try {
      root = Json.parse(frame);
    } catch (JacksonException e) {
      throw new MessageFormatException("not JSON: " + e.getOriginalMessage(), e);
    }
    return fromTree(root);
  }

  public static Message decode(String frame) {
    return decode(frame.getBytes(StandardCharsets.UTF_8));
  }

  /** A message from its JSON tree (as KubeEdge's Go decoder reads it: missing fields are empty). */
  public static Message fromTree(JsonNode root) {
    if (root == null || !root.isObject()) {
      throw new MessageFormatException("a message must be a JSON object");
    }
    JsonNode h = root.path("header");
    JsonNode r = root.path("route");
    if (!h.isObject() && !h.isMissingNode() && !h.isNull()) {
      throw new MessageFormatException("header must be an object");
    }
    if (!r.isObject() && !r.isMissingNode() && !r.isNull()) {
      throw new MessageFormatException("route must be an object");
    }
    MessageHeader header =
        new MessageHeader(
            text(h, "msg_id"),
            text(h, "parent_msg_id"),
            number(h, "timestamp"),
            text(h, "resourceversion"),
            h.path("sync").asBoolean(false));
    MessageRoute route =
        new MessageRoute(
            text(r, "source"), text(r, "group"), text(r, "operation"), text(r, "resource"));
    JsonNode content = root.get("content");
    return new Message(header, route, content);
  }

  private static String text(JsonNode obj, String field) {
    JsonNode v = obj.path(field);
    if (v.isMissingNode() || v.isNull()) {
      return "";
    }
    if (!v.isString()) {
      throw new MessageFormatException(field + " must be a string");
    }
    return v.asString();
  }

  private static long number(JsonNode obj, String field) {
    JsonNode v = obj.path(field);
    if (v.isMissingNode() || v.isNull()) {
      return 0;
    }
    if (!v.isNumber()) {
      throw new MessageFormatException(field + " must be a number");
    }
    return v.asLong();
  }
}
