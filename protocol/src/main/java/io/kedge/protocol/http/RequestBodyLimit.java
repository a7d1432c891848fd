package io.kedge.protocol.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collects a request and its body up to a limit. A larger body (announced by {@code
 * Content-Length}, or found so while a chunked one arrives) is answered 413 with the apiserver's
 * message ({@code Request entity too large: limit is N}), and the connection is then closed without
 * losing the answer: the server stops writing, reads and drops what the client still sends for a
 * short while, and only then closes. (Closing with the body still arriving makes the client's TCP
 * reset the connection, and a reset discards the answer before the client reads it.)
 */
public final class RequestBodyLimit extends HttpObjectAggregator {
  private static final Logger LOG = LoggerFactory.getLogger(RequestBodyLimit.class);

  /** How long the rest of a refused body is read and dropped at most. */
  static final long LINGER_MILLIS = 30_000;

  private final RequestDeadlines.Answers answers;
  private final String server;
  // the answer to a refused body; the connection closes once the body has arrived
  private ChannelFuture refusal;

  /**
   * @param server names the server in log lines ({@code metaserver})
   */
  public RequestBodyLimit(long maxBytes, RequestDeadlines.Answers answers, String server) {
    super((int) Math.min(Integer.MAX_VALUE, maxBytes), true);
    this.answers = answers;
    this.server = server;
  }

  private FullHttpResponse tooLarge() {
    FullHttpResponse r =
        answers.answer(
            HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
            "Request entity too large: limit is " + maxContentLength());
    r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    return r;
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
    LOG.info(
        "{}: refused request from {}: body larger than {} bytes (HTTP 413)",
        server,
        ctx.channel().remoteAddress(),
        maxContentLength());
    Channel ch = ctx.channel();
    refusal = ctx.writeAndFlush(tooLarge());
    refusal.addListener(f -> lingeringClose(ch));
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    boolean last = refusal != null && msg instanceof LastHttpContent;
    super.channelRead(ctx, msg);
    if (last) {
      refusal.addListener(ChannelFutureListener.CLOSE); // all sent, and the answer written
    }
  }

  /**
   * A client that asked to be told before it sends ({@code Expect: 100-continue}) sends nothing.
   */
  @Override
  protected Object newContinueResponse(
      HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
    Object r = super.newContinueResponse(start, maxContentLength, pipeline);
    if (r instanceof HttpResponse h
        && h.status().code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()) {
      ReferenceCountUtil.release(r);
      return tooLarge();
    }
    return r;
  }

  /** Stops writing, drops what still arrives for a while, then closes. */
  static void lingeringClose(Channel ch) {
    if (!ch.isActive()) {
      return;
    }
    ch.eventLoop().schedule(() -> ch.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
    ch.config().setAutoRead(true);
    SslHandler ssl = ch.pipeline().get(SslHandler.class);
    if (ssl != null) {
      ssl.closeOutbound().addListener(f -> shutdownOutput(ch));
    } else {
      shutdownOutput(ch);
    }
  }

  private static void shutdownOutput(Channel ch) {
    if (ch instanceof DuplexChannel d) {
      d.shutdownOutput();
    } else {
      ch.close();
    }
  }
}
