package io.kedge.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.config.ConfigLoader;
import io.kedge.protocol.config.EdgeCoreConfig;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Trees are read and written without an object mapper: held against the mapper's own {@code
 * readTree} and {@code writeValueAsBytes} on the same input, value for value and byte for byte.
 */
class JsonTest {
  static final List<String> TEXTS =
      List.of(
          "",
          "   \n\t",
          "null",
          "true",
          "\"s\"",
          "0",
          "-0",
          "2147483647",
          "2147483648",
          "-9223372036854775808",
          "9223372036854775808",
          "123456789012345678901234567890",
          "1.",
          "1.0",
          "0.1",
          "-2.5e-3",
          "1e400",
          "1E2",
          "[]",
          "{}",
          "[1,2.0,\"x\",null,true,false,{\"a\":[]}]",
          "{\"a\":1,\"a\":2}",
          "{\"k\":\"\\u00e9\\u2028<>&\\\"\\\\\\n\\t\\u0001\",\"\\u00fcber\":\"\\ud83d\\ude00\"}",
          "{\"metadata\":{\"name\":\"x\",\"labels\":{}},\"data\":{\"b\":\"\"},\"n\":[[[]]]}",
          " {\"a\" : [ 1 , 2 ] } ");

  static final List<String> BAD =
      List.of("{} x", "{}{}", "[1,]", "{\"a\"}", "[]]", "{", "\"open", "nul", "01", "[1 2]");

  @Test
  void readsWhatTheMapperReads() {
    for (String t : TEXTS) {
      String text = t;
      JsonNode mine = Json.parse(text);
      JsonNode theirs = Json.mapper().readTree(text);
      assertThat(mine).as(text).isEqualTo(theirs);
      assertThat(mine.getClass()).as(text).isEqualTo(theirs.getClass());
      assertThat(Json.parse(text.getBytes(StandardCharsets.UTF_8))).as(text).isEqualTo(theirs);
      assertSameTypes(mine, theirs, text);
    }
  }

  @Test
  void refusesWhatTheMapperRefuses() {
    for (String text : BAD) {
      assertThatThrownBy(() -> Json.mapper().readTree(text))
          .as("mapper: %s", text)
          .isInstanceOf(JacksonException.class);
      assertThatThrownBy(() -> Json.parse(text)).as(text).isInstanceOf(JacksonException.class);
    }
  }

  @Test
  void writesWhatTheMapperWrites() {
    for (String t : TEXTS) {
      JsonNode n = Json.parse(t);
      assertThat(Json.bytes(n)).as(t).isEqualTo(Json.mapper().writeValueAsBytes(n));
      assertThat(Json.string(n)).as(t).isEqualTo(Json.mapper().writeValueAsString(n));
    }
    Random r = new Random(20261207);
    for (int i = 0; i < 500; i++) {
      JsonNode n = random(r, 0);
      byte[] mine = Json.bytes(n);
      assertThat(new String(mine, StandardCharsets.UTF_8))
          .isEqualTo(new String(Json.mapper().writeValueAsBytes(n), StandardCharsets.UTF_8));
      JsonNode back = Json.parse(mine);
      assertThat(back).isEqualTo(Json.mapper().readTree(mine));
    }
    ObjectNode odd = Json.object();
    odd.put("float", 1.25f);
    odd.put("decimal", new BigDecimal("12.50"));
    odd.put("big", new BigInteger("98765432109876543210"));
    odd.put("short", (short) 7);
    odd.put("binary", new byte[] {1, 2, 3, (byte) 0xff});
    odd.put("nan", Double.NaN);
    odd.putPOJO("pojo", List.of("a", 1));
    assertThat(Json.string(odd)).isEqualTo(Json.mapper().writeValueAsString(odd));
  }

  @Test
  void readsYamlAsTheYamlMapperDoes() throws Exception {
    List<String> docs =
        List.of(
            "",
            "a: 1\nb: [x, 'y', \"z\"]\nc: {d: null, e: ~, f: true, g: 1.5, h: 0x10, i: '007'}\n",
            "list:\n- 1\n- two\n- 3.0\n- -4\n- 12345678901\n- 123456789012345678901234\n",
            "s: |\n  line one\n  line two\nt: >\n  folded\n  text\nu: 2026-12-07\n",
            "- just\n- a list\n");
    for (String d : docs) {
      JsonNode mine = ConfigLoader.parseYaml(d);
      JsonNode theirs = ConfigLoader.yamlMapper().readTree(d);
      assertThat(mine).as(d).isEqualTo(theirs);
      assertSameTypes(mine, theirs, d);
    }
    for (String resource : List.of(EdgeCoreConfig.DEFAULTS, CloudCoreConfig.DEFAULTS)) {
      String text;
      try (InputStream in = JsonTest.class.getResourceAsStream(resource)) {
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      assertThat(ConfigLoader.parseYaml(text))
          .as(resource)
          .isEqualTo(ConfigLoader.yamlMapper().readTree(text));
    }
    assertThatThrownBy(() -> ConfigLoader.parseYaml("modules: [unclosed\n"))
        .isInstanceOf(JacksonException.class);
  }

  /** Node classes alike all the way down (IntNode stays IntNode, …). */
  private static void assertSameTypes(JsonNode a, JsonNode b, String where) {
    assertThat(a.getClass()).as(where).isEqualTo(b.getClass());
    if (a.isObject()) {
      for (var e : a.properties()) {
        assertSameTypes(e.getValue(), b.get(e.getKey()), where + "." + e.getKey());
      }
    } else if (a.isArray()) {
      for (int i = 0; i < a.size(); i++) {
        assertSameTypes(a.get(i), b.get(i), where + "[" + i + "]");
      }
    }
  }

  private static JsonNode random(Random r, int depth) {
    int kind = r.nextInt(depth > 3 ? 6 : 8);
    switch (kind) {
      case 0:
        return Json.NODES.nullNode();
      case 1:
        return Json.NODES.booleanNode(r.nextBoolean());
      case 2:
        return Json.NODES.numberNode(r.nextInt());
      case 3:
        return Json.NODES.numberNode(r.nextLong());
      case 4:
        return Json.NODES.numberNode(r.nextDouble() * Math.pow(10, r.nextInt(40) - 20));
      case 5:
        return Json.NODES.stringNode(randomText(r));
      case 6:
        ArrayNode a = Json.NODES.arrayNode();
        for (int i = r.nextInt(5); i > 0; i--) {
          a.add(random(r, depth + 1));
        }
        return a;
      default:
        ObjectNode o = Json.object();
        for (int i = r.nextInt(6); i > 0; i--) {
          o.set(randomText(r), random(r, depth + 1));
        }
        return o;
    }
  }

  private static String randomText(Random r) {
    StringBuilder b = new StringBuilder();
    for (int i = r.nextInt(12); i > 0; i--) {
      int pick = r.nextInt(10);
      b.append(
          switch (pick) {
            case 0 -> (char) r.nextInt(0x20);
            case 1 -> "\"\\/<>&".charAt(r.nextInt(6));
            case 2 -> (char) (0x80 + r.nextInt(0x700));
            case 3 -> "\u2028\u2029\ud83d\ude00".charAt(r.nextInt(2));
            default -> (char) ('a' + r.nextInt(26));
          });
    }
    return b.toString();
  }
}
