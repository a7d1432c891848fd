package io.kedge.protocol.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link RequestDeadlines} on an embedded channel with a clock the test advances: what is timed
 * (reading a request) and what is not (answering it, an upgraded connection).
 */
class RequestDeadlinesTest {
  static final RequestDeadlines.Timeouts T =
      new RequestDeadlines.Timeouts(
          Duration.ofSeconds(10), Duration.ofSeconds(20), Duration.ofSeconds(30));

  EmbeddedChannel ch = pipeline();

  static EmbeddedChannel pipeline() {
    EmbeddedChannel ch = new EmbeddedChannel();
    RequestDeadlines d =
        new RequestDeadlines(
            T,
            (status, message) ->
                new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1,
                    status,
                    Unpooled.copiedBuffer(message, StandardCharsets.UTF_8)),
            "test");
    ch.pipeline().addLast(d.bytes(), new HttpServerCodec(), d.requests());
    ch.pipeline().addLast(new io.netty.handler.codec.http.HttpObjectAggregator(1 << 16));
    return ch;
  }

  @AfterEach
  void release() {
    ch.finishAndReleaseAll();
  }

  void in(String s) {
    ch.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1));
  }

  void after(long seconds) {
    ch.advanceTimeBy(seconds, TimeUnit.SECONDS);
    ch.runScheduledPendingTasks();
    ch.runPendingTasks();
  }

  String out() {
    StringBuilder b = new StringBuilder();
    ByteBuf o;
    while ((o = ch.readOutbound()) != null) {
      b.append(o.toString(StandardCharsets.ISO_8859_1));
      o.release();
    }
    return b.toString();
  }

  FullHttpRequest request() {
    return ch.readInbound();
  }

  @Test
  void aHeadThatDoesNotEndIs408AfterTheHeaderTimeout() {
    in("GET / HTTP/1.1\r\nHost: x\r\n");
    after(9);
    assertThat(ch.isOpen()).isTrue();
    after(2);
    assertThat(out()).startsWith("HTTP/1.1 408 ").contains("did not arrive within 10s");
    assertThat(ch.isOpen()).isFalse();
    assertThat((Object) ch.readInbound())
        .as("the unfinished request is not handed on when the connection closes")
        .isNull();
  }

  @Test
  void answeringIsNotTimedAndTheNextRequestIsTimedFromItsFirstByte() {
    in("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    request().release();
    after(120); // the server takes its time to answer
    assertThat(ch.isOpen()).isTrue();
    ch.writeOutbound(
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK)
            .setStatus(HttpResponseStatus.OK));
    out();
    after(25); // idle, within the idle timeout
    in("GET /next HTTP/1.1\r\n");
    after(9);
    assertThat(ch.isOpen()).isTrue();
    after(2);
    assertThat(out()).startsWith("HTTP/1.1 408 ");
  }

  @Test
  void aStreamedAnswerIsNotCut() {
    in("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n");
    request().release();
    ch.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
    for (int i = 0; i < 10; i++) {
      after(60);
      ch.writeOutbound(
          new DefaultHttpContent(Unpooled.copiedBuffer("{}\n", StandardCharsets.UTF_8)));
    }
    assertThat(ch.isOpen()).isTrue();
    ch.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
    out();
    after(31);
    assertThat(ch.isOpen()).as("idle after the answer ended").isFalse();
  }

  @Test
  void anUpgradedConnectionIsNotTimed() {
    in("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    request().release();
    DefaultFullHttpResponse switching =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
    switching.headers().set(HttpHeaderNames.UPGRADE, "websocket");
    ch.writeOutbound(switching);
    out();
    ch.pipeline().remove(HttpServerCodec.class); // as a WebSocket handshake replaces it
    ch.pipeline().remove(io.netty.handler.codec.http.HttpObjectAggregator.class);
    ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {(byte) 0x81, 0x00}));
    after(3600);
    assertThat(ch.isOpen()).isTrue();
    Object frame = ch.readInbound();
    assertThat(frame).isInstanceOf(ByteBuf.class);
    ((ByteBuf) frame).release();
  }

  @Test
  void nothingAtAllIsClosedSilently() {
    after(11);
    assertThat(ch.isOpen()).isFalse();
    assertThat(out()).isEmpty();
  }
}
