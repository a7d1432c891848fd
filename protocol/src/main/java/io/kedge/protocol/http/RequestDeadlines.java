package io.kedge.protocol.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deadlines for reading requests on one HTTP/1.x server connection, so that a client cannot hold a
 * connection by not finishing its request (slow headers, a {@code Content-Length} larger than the
 * body it sends):
 *
 * <ul>
 *   <li>a request's head (request line and headers) must have arrived within {@code header} of its
 *       first byte, for the first request of a connection within {@code header} of its opening;
 *   <li>its body within {@code body} of its head;
 *   <li>a connection with no request under way is closed after {@code idle}.
 * </ul>
 *
 * <p>A request of which something arrived is answered 408 (built by {@link Answers}) before the
 * connection is closed; a connection on which nothing arrived is closed silently. Only reading a
 * request is timed: from its end until its response has been written nothing is (watches and other
 * long responses take as long as they take), and a connection switched to another protocol (101) is
 * not timed any more.
 *
 * <p>One instance per connection: {@link #bytes()} goes before the HTTP codec (after TLS), where it
 * sees that a request has started; {@link #requests()} after it, where it sees heads, ends of
 * requests and responses. Event loop only.
 */
public final class RequestDeadlines {
  private static final Logger LOG = LoggerFactory.getLogger(RequestDeadlines.class);

  /**
   * @param header how long a request's head may take
   * @param body how long a request's body may take after its head
   * @param idle how long a connection may wait for its next request
   */
  public record Timeouts(Duration header, Duration body, Duration idle) {}

  /** The answer to a request the server's transport refuses (408, 413), in the server's style. */
  @FunctionalInterface
  public interface Answers {
    FullHttpResponse answer(HttpResponseStatus status, String message);
  }

  private enum Phase {
    /** no request under way */
    IDLE,
    /** bytes of a request arrived, its head has not */
    HEAD,
    /** the head arrived, the end of the body has not */
    BODY,
    /** the request is complete; its response is not */
    ANSWERING,
    /** nothing timed any more (upgraded, or closing) */
    UNTIMED
  }

  private final Timeouts timeouts;
  private final Answers answers;
  private final String server;
  private Phase phase = Phase.IDLE;
  private boolean started;
  private boolean firstRequest = true;
  private boolean bytesWhileAnswering;
  private boolean responding;
  private boolean closeAfterResponse;
  private boolean refused; // answered 408: what the codec still makes of the rest is dropped
  private ScheduledFuture<?> timer;
  private ChannelHandlerContext requestsCtx;

  /**
   * @param server names the server in log lines ({@code metaserver})
   */
  public RequestDeadlines(Timeouts timeouts, Answers answers, String server) {
    this.timeouts = timeouts;
    this.answers = answers;
    this.server = server;
  }

  /** The handler that goes before the HTTP codec. */
  public ChannelHandler bytes() {
    return new Bytes();
  }

  /** The handler that goes after the HTTP codec. */
  public ChannelHandler requests() {
    return new Requests();
  }

  private void start(ChannelHandlerContext ctx) {
    if (!started) {
      started = true;
      schedule(ctx, timeouts.header(), this::headerExpired);
    }
  }

  private void schedule(ChannelHandlerContext ctx, Duration d, Runnable task) {
    cancel();
    timer = ctx.executor().schedule(task, Math.max(1, d.toMillis()), TimeUnit.MILLISECONDS);
  }

  private void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void requestStarted(ChannelHandlerContext ctx) {
    switch (phase) {
      case IDLE -> {
        phase = Phase.HEAD;
        // the first request's head is timed from the connection's opening, later ones from their
        // first byte (until then the idle timer runs)
        if (!firstRequest) {
          schedule(ctx, timeouts.header(), this::headerExpired);
        }
      }
      case ANSWERING -> bytesWhileAnswering = true;
      default -> {}
    }
  }

  private void headerExpired() {
    timer = null;
    if (phase == Phase.IDLE) {
      close("no request within " + seconds(timeouts.header()));
    } else if (phase == Phase.HEAD) {
      refuse("the request's headers did not arrive within " + seconds(timeouts.header()));
    }
  }

  private void bodyExpired() {
    timer = null;
    if (phase == Phase.BODY) {
      refuse("the request's body did not arrive within " + seconds(timeouts.body()));
    }
  }

  private void idleExpired() {
    timer = null;
    if (phase == Phase.IDLE) {
      close("idle for " + seconds(timeouts.idle()));
    }
  }

  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }

  private void close(String why) {
    phase = Phase.UNTIMED;
    if (requestsCtx != null) {
      LOG.debug(
          "{}: closed connection from {}: {}", server, requestsCtx.channel().remoteAddress(), why);
      requestsCtx.close();
    }
  }

  private void refuse(String message) {
    phase = Phase.UNTIMED;
    refused = true;
    if (requestsCtx == null) {
      return;
    }
    LOG.info(
        "{}: refused request from {}: {} (HTTP 408)",
        server,
        requestsCtx.channel().remoteAddress(),
        message);
    FullHttpResponse r = answers.answer(HttpResponseStatus.REQUEST_TIMEOUT, message);
    r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    requestsCtx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
  }

  private void responseWritten(ChannelHandlerContext ctx) {
    if (phase == Phase.UNTIMED) {
      return;
    }
    firstRequest = false;
    if (closeAfterResponse) {
      // the server closes the connection now; should it not, the idle timeout does
      phase = Phase.UNTIMED;
      schedule(ctx, timeouts.idle(), ctx::close);
      return;
    }
    if (bytesWhileAnswering) {
      bytesWhileAnswering = false;
      phase = Phase.HEAD;
      schedule(ctx, timeouts.header(), this::headerExpired);
    } else {
      phase = Phase.IDLE;
      schedule(ctx, timeouts.idle(), this::idleExpired);
    }
  }

  private final class Bytes extends ChannelInboundHandlerAdapter {
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      if (ctx.channel().isActive()) {
        start(ctx);
      }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      start(ctx);
      ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof ByteBuf b && b.isReadable()) {
        requestStarted(ctx);
      }
      ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      phase = Phase.UNTIMED;
      cancel();
      ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      cancel();
    }
  }

  private final class Requests extends ChannelDuplexHandler {
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      requestsCtx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (refused) {
        // e.g. the unfinished request the codec hands on when the connection closes
        ReferenceCountUtil.release(msg);
        return;
      }
      if (phase != Phase.UNTIMED) {
        if (msg instanceof HttpRequest) {
          phase = Phase.BODY;
          responding = false;
          closeAfterResponse = false;
          schedule(ctx, timeouts.body(), RequestDeadlines.this::bodyExpired);
        }
        if (msg instanceof LastHttpContent && phase == Phase.BODY) {
          phase = Phase.ANSWERING;
          cancel();
        }
      }
      ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (phase != Phase.UNTIMED) {
        if (msg instanceof HttpResponse r) {
          int code = r.status().code();
          if (code == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
            phase = Phase.UNTIMED;
            cancel();
          } else if (code >= 200) {
            responding = true;
            closeAfterResponse = !HttpUtil.isKeepAlive(r);
          }
        }
        if (msg instanceof LastHttpContent && responding) {
          responding = false;
          ChannelPromise p = promise.unvoid();
          p.addListener(f -> responseWritten(ctx));
          ctx.write(msg, p);
          return;
        }
      }
      ctx.write(msg, promise);
    }
  }
}
