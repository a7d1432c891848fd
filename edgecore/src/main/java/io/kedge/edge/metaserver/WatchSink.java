package io.kedge.edge.metaserver;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;

/**
 * Where a watch's events go: an HTTP/1.1 chunked stream (one JSON event per line, as the apiserver
 * streams them) or WebSocket text messages (one event per message, as the apiserver serves
 * watch-over-WebSocket to fabric8). All methods run on the channel's event loop.
 */
interface WatchSink {
  Channel channel();

  /** Sends the response head, before the first event. */
  void begin();

  void write(byte[] event);

  void flush();

  /** Ends the stream; {@code after} runs once the end is written. */
  void end(Runnable after);

  default boolean writable() {
    return channel().isWritable();
  }

  /** A chunked HTTP response. */
  static WatchSink chunked(Channel ch, String contentType, boolean keepAlive) {
    return new WatchSink() {
      @Override
      public Channel channel() {
        return ch;
      }

      @Override
      public void begin() {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        r.headers()
            .set(HttpHeaderNames.CONTENT_TYPE, contentType)
            .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
            .set(HttpHeaderNames.CACHE_CONTROL, "no-cache, private");
        if (!keepAlive) {
          r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ch.writeAndFlush(r);
      }

      @Override
      public void write(byte[] event) {
        ch.write(new DefaultHttpContent(Unpooled.wrappedBuffer(event)));
      }

      @Override
      public void flush() {
        ch.flush();
      }

      @Override
      public void end(Runnable after) {
        var f = ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        f.addListener(x -> after.run());
        if (!keepAlive) {
          f.addListener(ChannelFutureListener.CLOSE);
        }
      }
    };
  }

  /** WebSocket text messages (the upgrade is already done). */
  static WatchSink webSocket(Channel ch) {
    return new WatchSink() {
      @Override
      public Channel channel() {
        return ch;
      }

      @Override
      public void begin() {}

      @Override
      public void write(byte[] event) {
        ch.write(new TextWebSocketFrame(Unpooled.wrappedBuffer(event)));
      }

      @Override
      public void flush() {
        ch.flush();
      }

      @Override
      public void end(Runnable after) {
        ch.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE))
            .addListener(
                f -> {
                  after.run();
                  ch.close();
                });
      }
    };
  }
}
