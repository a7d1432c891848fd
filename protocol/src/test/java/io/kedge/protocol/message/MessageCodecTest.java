package io.kedge.protocol.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.StringNode;

class MessageCodecTest {

  @Test
  void everyRecordedMessageDecodesAndReencodesToTheSameBytes() {
    List<GoldenSession.Line> lines = GoldenSession.lines();
    int messages = 0;
    for (GoldenSession.Line l : lines) {
      if (!l.isMessage()) {
        continue;
      }
      messages++;
      byte[] original = (Json.string(l.message())).getBytes(StandardCharsets.UTF_8);
      Message m = MessageCodec.decode(original);
      byte[] again = MessageCodec.encode(m);
      assertThat(Json.parse(again)).as("seq %d", l.seq()).isEqualTo(l.message());
      // Go's encoder (HTML escapes, key order, trailing newline) gives the recorded frame size.
      assertThat(again.length).as("frame size of seq %d", l.seq()).isEqualTo(l.bytes());
    }
    assertThat(messages).isEqualTo(2676);
  }

  @Test
  void keepaliveHasTheSpecForm() {
    Message ka =
        new Message(
            new MessageHeader(
                "43d61ad6-b802-4243-b26d-336204c0b02f", "", 1795635799076L, "", false),
            new MessageRoute("websocket", "resource", "keepalive", "node"),
            StringNode.valueOf("ping"));
    assertThat(MessageCodec.encodeToString(ka))
        .isEqualTo(
            "{\"header\":{\"msg_id\":\"43d61ad6-b802-4243-b26d-336204c0b02f\",\"timestamp\":1795635799076},"
                + "\"route\":{\"source\":\"websocket\",\"group\":\"resource\",\"operation\":\"keepalive\","
                + "\"resource\":\"node\"},\"content\":\"ping\"}\n");
  }

  @Test
  void ackAnswersTheMessage() {
    Message insert =
        MessageCodec.decode(
            "{\"header\":{\"msg_id\":\"m1\",\"timestamp\":1,\"resourceversion\":\"48213\"},"
                + "\"route\":{\"source\":\"edgecontroller\",\"group\":\"resource\",\"operation\":\"insert\","
                + "\"resource\":\"default/pod/nginx\"},\"content\":{\"metadata\":{\"name\":\"nginx\"}}}");
    Message ack = insert.ack();
    assertThat(ack.parentId()).isEqualTo("m1");
    assertThat(ack.route())
        .isEqualTo(new MessageRoute("edgecontroller", "resource", "response", "default/pod/nginx"));
    assertThat(ack.content().asString()).isEqualTo("OK");
    assertThat(ack.isAck()).isTrue();
    assertThat(ack.id()).isNotEqualTo("m1").hasSize(36);
  }

  @Test
  void htmlCharactersAreEscapedLikeGo() {
    Message m = Message.of(new MessageRoute("a", "b", "c", "d"), StringNode.valueOf("<a&b>\u2028"));
    assertThat(MessageCodec.encodeToString(m)).contains("\"\\u003ca\\u0026b\\u003e\\u2028\"");
    assertThat(MessageCodec.decode(MessageCodec.encode(m)).content().asString())
        .isEqualTo("<a&b>\u2028");
  }

  @Test
  void missingFieldsDecodeAsEmpty() {
    Message m = MessageCodec.decode("{\"content\":null}");
    assertThat(m.id()).isEmpty();
    assertThat(m.route().operation()).isEmpty();
    assertThat(m.content().isNull()).isTrue();
  }

  @Test
  void rejectsWhatIsNotAMessage() {
    for (String bad :
        List.of(
            "",
            "not json",
            "[1,2]",
            "\"str\"",
            "{\"header\":5}",
            "{\"route\":\"x\"}",
            "{\"header\":{\"msg_id\":7}}",
            "{\"header\":{\"timestamp\":\"soon\"}}",
            "{\"header\":{}",
            "\u0000\u0001")) {
      assertThatThrownBy(() -> MessageCodec.decode(bad))
          .as(bad)
          .isInstanceOf(MessageFormatException.class);
    }
  }

  @Test
  void binaryContentIsKept() {
    JsonNode obj = Json.parse("{\"a\":[1,2,{\"b\":null}],\"n\":12345678901234}");
    Message m = Message.of(new MessageRoute("s", "g", "o", "r"), obj);
    assertThat(MessageCodec.decode(MessageCodec.encode(m)).content()).isEqualTo(obj);
  }
}
