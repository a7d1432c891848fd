package io.kedge.cloud.hub;

import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageCodec;
import io.kedge.protocol.message.MessageFormatException;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.WriteTimeoutException;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;

/**
 * One edge session's inbound side: WebSocket messages (text or binary, fragments already joined)
 * become {@link Message}s for {@link CloudHub}; control frames are answered; a message that is not
 * one, a flood, an oversized message or silence longer than {@code keepaliveInterval} ends the
 * session with its reason (logged once, by {@link CloudHub#sessionEnded}).
 */
final class EdgeConnectionHandler extends ChannelInboundHandlerAdapter {
  private final NodeSession session;
  private final CloudHub hub;
  private final MessageRateLimiter limiter;

  EdgeConnectionHandler(NodeSession session, CloudHub hub) {
    this.session = session;
    this.hub = hub;
    this.limiter =
        new MessageRateLimiter(
            hub.config().messageRateLimit(), hub.config().messageBurst(), System.nanoTime());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof TextWebSocketFrame || msg instanceof BinaryWebSocketFrame) {
        onData(ctx, (WebSocketFrame) msg);
      } else if (msg instanceof PingWebSocketFrame ping) {
        ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
      } else if (msg instanceof CloseWebSocketFrame close) {
        int code = close.statusCode();
        session.closeWith(
            "the edge closed the WebSocket" + (code > 0 ? " (code " + code + ")" : ""));
        ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE))
            .addListener(ChannelFutureListener.CLOSE);
      } else if (!(msg instanceof PongWebSocketFrame)) {
        session.refuse("unexpected frame " + msg.getClass().getSimpleName());
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onData(ChannelHandlerContext ctx, WebSocketFrame frame) {
    if (!session.isOpen()) {
      return; // closing: what is still buffered is ignored
    }
    if (!limiter.tryAcquire(System.nanoTime())) {
      session.refuse(
          "message flood: more than "
              + hub.config().messageRateLimit()
              + " messages/s (burst "
              + hub.config().messageBurst()
              + ")");
      return;
    }
    byte[] bytes = ByteBufUtil.getBytes(frame.content());
    Message m;
    try {
      m = MessageCodec.decode(bytes);
    } catch (MessageFormatException e) {
      session.refuse("invalid message (" + e.getMessage() + "): " + preview(bytes));
      return;
    }
    String problem = UpstreamVocabulary.problem(m);
    if (problem != null) {
      session.refuse("invalid message " + m + ": " + problem);
      return;
    }
    hub.onMessage(session, m);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent) {
      session.closeWith(
          "no message for " + hub.config().keepaliveInterval() + " s (keepalive timeout)");
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    session.writabilityChanged();
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    String why = reason(cause, hub.config().maxMessageBytes());
    if (cause instanceof IOException || cause instanceof WriteTimeoutException) {
      session.closeWith(why);
    } else {
      session.refuse(why);
    }
  }

  static String reason(Throwable cause, int maxMessageBytes) {
    if (cause instanceof TooLongFrameException
        || (cause instanceof CorruptedWebSocketFrameException c
            && c.closeStatus() == WebSocketCloseStatus.MESSAGE_TOO_BIG)) {
      return "message larger than maxMessageBytes (" + maxMessageBytes + " bytes)";
    }
    if (cause instanceof CorruptedWebSocketFrameException) {
      return "invalid WebSocket frame: " + cause.getMessage();
    }
    if (cause instanceof WriteTimeoutException) {
      return "write timeout: the edge does not read";
    }
    if (cause instanceof IOException) {
      return "connection error: " + HubHandshakeHandler.describe(cause);
    }
    return "error: " + HubHandshakeHandler.describe(cause);
  }

  private static String preview(byte[] bytes) {
    int n = Math.min(bytes.length, 48);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int b = bytes[i] & 0xff;
      sb.append(b >= 0x20 && b < 0x7f ? (char) b : '?');
    }
    return "'" + sb + (bytes.length > n ? "…' (" + bytes.length + " bytes)" : "'");
  }
}
