package io.kedge.edge.hub;

import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageCodec;
import io.kedge.protocol.message.MessageFormatException;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler.ClientHandshakeStateEvent;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of an EdgeHub connection: turns whole WebSocket messages (text or binary, after
 * continuation frames are reassembled) into {@link Message}s, and reports the handshake. A frame
 * that is not a message costs one log line and nothing else: the edge keeps the connection and
 * never crashes on what the cloud sends.
 */
final class CloudFrameHandler extends SimpleChannelInboundHandler<WebSocketFrame> {
  private static final Logger LOG = LoggerFactory.getLogger(CloudFrameHandler.class);

  /** Receives decoded messages, on the channel's event loop. */
  interface Sink {
    void message(Channel channel, Message message);
  }

  private final Sink sink;
  private final CompletableFuture<Channel> handshake;

  CloudFrameHandler(Sink sink, CompletableFuture<Channel> handshake) {
    this.sink = sink;
    this.handshake = handshake;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
    if (!(frame instanceof TextWebSocketFrame) && !(frame instanceof BinaryWebSocketFrame)) {
      return; // control frames are answered by the protocol handler
    }
    byte[] bytes = ByteBufUtil.getBytes(frame.content());
    Message m;
    try {
      m = MessageCodec.decode(bytes);
    } catch (MessageFormatException e) {
      LOG.warn(
          "dropping a frame from the cloud that is not a message ({} bytes): {}",
          bytes.length,
          e.getMessage());
      return;
    }
    try {
      sink.message(ctx.channel(), m);
    } catch (RuntimeException e) {
      LOG.warn("handling {} from the cloud failed: {}", m, e.toString());
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt == ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
      handshake.complete(ctx.channel());
    } else if (evt == ClientHandshakeStateEvent.HANDSHAKE_TIMEOUT) {
      handshake.completeExceptionally(new BootstrapException("WebSocket handshake timed out"));
      ctx.close();
    } else if (evt instanceof IdleStateEvent) {
      // Pings go out with every keepalive and any live peer answers them, so silence this long
      // means the connection is dead even though no write has failed yet.
      LOG.warn("no data from the cloud for too long; closing the connection to reconnect");
      ctx.close();
    } else {
      super.userEventTriggered(ctx, evt);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    handshake.completeExceptionally(new BootstrapException("connection closed during handshake"));
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof TooLongFrameException) {
      // The aggregator discards the rest of that message; the connection stays usable.
      LOG.warn("dropping a message from the cloud: {}", cause.getMessage());
      return;
    }
    if (!handshake.isDone()) {
      handshake.completeExceptionally(cause);
    } else {
      LOG.warn("cloud connection failed: {}", describe(cause));
    }
    ctx.close();
  }

  static String describe(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String m = root.getMessage();
    return m == null ? root.getClass().getSimpleName() : m;
  }
}
