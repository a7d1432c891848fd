package io.kedge.protocol;

import tools.jackson.core.json.JsonReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** The JSON mapper every Kedge component shares (Jackson 3; immutable and thread-safe). */
public final class Json {
  private Json() {}

  public static final JsonMapper MAPPER =
      JsonMapper.builder()
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
          .enable(JsonReadFeature.ALLOW_TRAILING_DECIMAL_POINT_FOR_NUMBERS)
          .build();

  public static final JsonNodeFactory NODES = MAPPER.getNodeFactory();

  public static ObjectNode object() {
    return NODES.objectNode();
  }

  public static JsonNode parse(byte[] bytes) {
    return MAPPER.readTree(bytes);
  }

  public static JsonNode parse(String text) {
    return MAPPER.readTree(text);
  }

  public static byte[] bytes(JsonNode node) {
    return MAPPER.writeValueAsBytes(node);
  }

  public static String string(JsonNode node) {
    return MAPPER.writeValueAsString(node);
  }
}
