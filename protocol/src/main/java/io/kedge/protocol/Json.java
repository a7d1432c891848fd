package io.kedge.protocol;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.json.JsonReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.MissingNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * JSON for every Kedge component: Jackson 3's tree ({@link JsonNode}), read and written with
 * Jackson's streaming parser and generator.
 *
 * <p>Trees are read and written here, not by an {@code ObjectMapper}: the mapper's machinery
 * (configuration, type resolution, serializer and deserializer factories) is some 400 classes, each
 * resident in every process that loads it, for what a walk over a token stream does. Reading and
 * writing give what {@link #mapper()}'s {@code readTree} and {@code writeValueAsBytes} give for the
 * same input ({@code JsonTest} holds them side by side). The mapper stays for what binds objects
 * (fabric8's model on the cloud, tests), created on first use.
 */
public final class Json {
  private Json() {}

  /** Creates and reads trees (no mapper behind it). */
  public static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private static final JsonFactory FACTORY =
      JsonFactory.builder()
          .enable(JsonReadFeature.ALLOW_TRAILING_DECIMAL_POINT_FOR_NUMBERS)
          .build();

  private static final class Mapper {
    static final JsonMapper INSTANCE =
        JsonMapper.builder(FACTORY)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .build();
  }

  /**
   * The object mapper (immutable and thread-safe), for binding objects other than trees; created on
   * first use.
   */
  public static JsonMapper mapper() {
    return Mapper.INSTANCE;
  }

  /** The streaming factory trees are read and written with. */
  public static JsonFactory factory() {
    return FACTORY;
  }

  public static ObjectNode object() {
    return NODES.objectNode();
  }

  /**
   * The tree of one JSON value; {@link MissingNode} for input with none (empty or white space).
   *
   * @throws tools.jackson.core.JacksonException when the input is not one JSON value
   */
  public static JsonNode parse(byte[] bytes) {
    try (JsonParser p = FACTORY.createParser(ObjectReadContext.empty(), bytes)) {
      return readValue(p);
    }
  }

  public static JsonNode parse(String text) {
    try (JsonParser p = FACTORY.createParser(ObjectReadContext.empty(), text)) {
      return readValue(p);
    }
  }

  /** Reads one whole value from {@code p}: nothing but white space may follow it. */
  public static JsonNode readValue(JsonParser p) {
    JsonToken t = p.nextToken();
    if (t == null) {
      return MissingNode.getInstance();
    }
    JsonNode n = read(p, t);
    JsonToken after = p.nextToken();
    if (after != null) {
      throw new StreamReadException(p, "Trailing token (`JsonToken." + after + "`) after a value");
    }
    return n;
  }

  /** The tree of the value that starts with {@code t}, the current token of {@code p}. */
  public static JsonNode read(JsonParser p, JsonToken t) {
    return switch (t) {
      case START_OBJECT -> {
        ObjectNode o = NODES.objectNode();
        String name;
        while ((name = p.nextName()) != null) {
          o.set(name, read(p, p.nextToken()));
        }
        yield o;
      }
      case START_ARRAY -> {
        ArrayNode a = NODES.arrayNode();
        JsonToken e;
        while ((e = p.nextToken()) != JsonToken.END_ARRAY) {
          a.add(read(p, e));
        }
        yield a;
      }
      case VALUE_STRING -> NODES.stringNode(p.getString());
      case VALUE_NUMBER_INT ->
          switch (p.getNumberType()) {
            case INT -> NODES.numberNode(p.getIntValue());
            case LONG -> NODES.numberNode(p.getLongValue());
            default -> NODES.numberNode(p.getBigIntegerValue());
          };
      case VALUE_NUMBER_FLOAT -> NODES.numberNode(p.getDoubleValue());
      case VALUE_TRUE -> NODES.booleanNode(true);
      case VALUE_FALSE -> NODES.booleanNode(false);
      case VALUE_NULL -> NODES.nullNode();
      case VALUE_EMBEDDED_OBJECT -> NODES.pojoNode(p.getEmbeddedObject());
      default -> throw new StreamReadException(p, "Unexpected token (`JsonToken." + t + "`)");
    };
  }

  public static byte[] bytes(JsonNode node) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = FACTORY.createGenerator(ObjectWriteContext.empty(), out)) {
      write(g, node);
    }
    return out.toByteArray();
  }

  public static String string(JsonNode node) {
    return new String(bytes(node), StandardCharsets.UTF_8);
  }

  /** Writes {@code node} (null: JSON null) to {@code g}. */
  public static void write(JsonGenerator g, JsonNode node) {
    if (node == null) {
      g.writeNull();
      return;
    }
    switch (node.getNodeType()) {
      case OBJECT -> {
        g.writeStartObject();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
          g.writeName(e.getKey());
          write(g, e.getValue());
        }
        g.writeEndObject();
      }
      case ARRAY -> {
        g.writeStartArray();
        for (JsonNode e : node.values()) {
          write(g, e);
        }
        g.writeEndArray();
      }
      case STRING -> g.writeString(node.stringValue());
      case NUMBER -> writeNumber(g, node);
      case BOOLEAN -> g.writeBoolean(node.booleanValue());
      case NULL, MISSING -> g.writeNull();
      case BINARY -> g.writeBinary(node.binaryValue());
      default -> mapper().writeValue(g, node); // a POJO inside a tree: the mapper binds it
    }
  }

  private static void writeNumber(JsonGenerator g, JsonNode n) {
    switch (n.numberType()) {
      case INT -> g.writeNumber(n.intValue());
      case LONG -> g.writeNumber(n.longValue());
      case BIG_INTEGER -> g.writeNumber(n.bigIntegerValue());
      case FLOAT -> g.writeNumber(n.floatValue());
      case BIG_DECIMAL -> g.writeNumber(n.decimalValue());
      default -> g.writeNumber(n.doubleValue());
    }
  }
}
