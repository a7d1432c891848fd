package io.kedge.edge.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageCodec;
import io.kedge.protocol.message.MessageRoute;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler.ClientHandshakeStateEvent;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.StringNode;

class CloudFrameHandlerTest {
  final List<Message> got = new CopyOnWriteArrayList<>();
  final CompletableFuture<Channel> handshake = new CompletableFuture<>();
  final EmbeddedChannel ch =
      new EmbeddedChannel(new CloudFrameHandler((c, m) -> got.add(m), handshake));

  private static Message sample() {
    return Message.of(
        new MessageRoute("edgecontroller", "resource", "insert", "demo/pod/p"),
        StringNode.valueOf("x"));
  }

  @Test
  void decodesTextAndBinaryMessages() {
    Message a = sample();
    Message b = sample();
    ch.writeInbound(new TextWebSocketFrame(MessageCodec.encodeToString(a)));
    ch.writeInbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(MessageCodec.encode(b))));
    assertThat(got).extracting(Message::id).containsExactly(a.id(), b.id());
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void malformedFramesAreDroppedAndTheChannelStaysOpen() {
    ch.writeInbound(new TextWebSocketFrame("not json"));
    ch.writeInbound(new TextWebSocketFrame("{\"route\":\"x\"}"));
    ch.writeInbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {(byte) 0xff, 0})));
    ch.writeInbound(new PongWebSocketFrame());
    ch.pipeline().fireExceptionCaught(new TooLongFrameException("message too large"));
    assertThat(ch.isOpen()).isTrue();
    Message ok = sample();
    ch.writeInbound(new TextWebSocketFrame(MessageCodec.encodeToString(ok)));
    assertThat(got).extracting(Message::id).containsExactly(ok.id());
    ch.finishAndReleaseAll();
  }

  @Test
  void aSinkFailureDoesNotEscape() {
    EmbeddedChannel c =
        new EmbeddedChannel(
            new CloudFrameHandler(
                (x, m) -> {
                  throw new IllegalStateException("boom");
                },
                handshake));
    c.writeInbound(new TextWebSocketFrame(MessageCodec.encodeToString(sample())));
    assertThat(c.isOpen()).isTrue();
    c.finishAndReleaseAll();
  }

  @Test
  void reportsTheHandshake() {
    ch.pipeline().fireUserEventTriggered(ClientHandshakeStateEvent.HANDSHAKE_COMPLETE);
    assertThat(handshake).isCompletedWithValue(ch);
  }

  @Test
  void handshakeFailureAndTimeoutFailTheFuture() {
    ch.pipeline().fireExceptionCaught(new IOException("handshake refused"));
    assertThat(handshake).isCompletedExceptionally();
    assertThat(ch.isOpen()).isFalse();

    CompletableFuture<Channel> hs2 = new CompletableFuture<>();
    EmbeddedChannel c2 = new EmbeddedChannel(new CloudFrameHandler((c, m) -> {}, hs2));
    c2.pipeline().fireUserEventTriggered(ClientHandshakeStateEvent.HANDSHAKE_TIMEOUT);
    assertThat(hs2).isCompletedExceptionally();
    assertThat(c2.isOpen()).isFalse();
  }

  @Test
  void silenceClosesTheConnection() {
    ch.pipeline().fireUserEventTriggered(ClientHandshakeStateEvent.HANDSHAKE_COMPLETE);
    ch.pipeline().fireUserEventTriggered(IdleStateEvent.FIRST_READER_IDLE_STATE_EVENT);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void errorsAfterTheHandshakeCloseTheConnection() {
    ch.pipeline().fireUserEventTriggered(ClientHandshakeStateEvent.HANDSHAKE_COMPLETE);
    ch.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));
    assertThat(ch.isOpen()).isFalse();
  }
}
