package io.kedge.edge.metaserver;

import io.kedge.edge.auth.AuthStatus;
import io.kedge.edge.auth.Authenticator;
import io.kedge.edge.auth.Authorizer;
import io.kedge.edge.auth.RequestAttributes;
import io.kedge.edge.auth.RequestAttributesResolver;
import io.kedge.protocol.Json;
import io.kedge.protocol.status.KubeStatus;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * One MetaServer connection: parses each request, authenticates and authorizes it (every request,
 * also those answered from the store), hands it to {@link ResourceApi} or {@link DiscoveryApi}, and
 * writes the answer — a complete response, a chunked watch stream, or a watch over WebSocket (as
 * the apiserver serves it to fabric8). One request at a time per connection: reading pauses until
 * the answer is written, so answers never overtake each other.
 */
final class ApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Logger LOG = LoggerFactory.getLogger(ApiHandler.class);

  /**
   * One line per authorized request, at debug (enable logger {@code
   * io.kedge.edge.metaserver.access}): which client asked for what.
   */
  private static final Logger ACCESS = LoggerFactory.getLogger("io.kedge.edge.metaserver.access");

  private final MetaServer server;
  private Watcher watcher; // event loop only

  // The request being answered (one at a time per connection), for metrics; event loop only.
  private long started;
  private RequestInfo current;
  private Call currentCall;

  ApiHandler(MetaServer server) {
    this.server = server;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    if (watcher != null) {
      // HTTP/1.1 clients do not pipeline behind a streaming response; one that does cannot be
      // answered in order.
      LOG.info(
          "metaserver: {} sent {} {} while its watch streams; connection closed",
          ctx.channel().remoteAddress(),
          req.method(),
          req.uri());
      ctx.close();
      return;
    }
    ctx.channel().config().setAutoRead(false);
    started = System.nanoTime();
    current = null;
    currentCall = null;
    boolean keepAlive = HttpUtil.isKeepAlive(req);
    if (!req.decoderResult().isSuccess()) {
      respond(ctx, status(malformed(req.decoderResult().cause())), false);
      return;
    }
    if (req.protocolVersion().majorVersion() != 1 || req.protocolVersion().minorVersion() > 1) {
      // Netty takes any HTTP/x.y; only 1.0 and 1.1 are spoken here
      respond(
          ctx,
          status(
              KubeStatus.failure(
                  400, "BadRequest", "unsupported HTTP version " + req.protocolVersion().text())),
          false);
      return;
    }
    String uri = req.uri();
    int qm = uri.indexOf('?');
    String path = qm < 0 ? uri : uri.substring(0, qm);
    String rawQuery = qm < 0 ? "" : uri.substring(qm + 1);
    HttpHeaders h = req.headers();
    boolean upgrade =
        h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
            && h.contains(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
    CompletableFuture<Outcome> answer;
    RequestInfo info;
    try {
      QueryParams q = QueryParams.parse(rawQuery);
      info = RequestInfo.parse(req.method().name(), path, q);
      current = info;
      Authenticator.Authentication auth =
          server.authenticator().authenticate(h.get(HttpHeaderNames.AUTHORIZATION));
      if (!auth.ok()) {
        LOG.info("metaserver: {} {} unauthorized: {}", req.method(), path, auth.failure());
        respond(ctx, status(AuthStatus.unauthorized()), keepAlive);
        return;
      }
      RequestAttributes attrs =
          RequestAttributesResolver.resolve(
              auth.user(), req.method().name(), info.path(), rawQuery);
      Authorizer.Decision d = server.authorizer().authorize(attrs);
      if (!d.allowed()) {
        LOG.info("metaserver: {} {} forbidden for {}", req.method(), path, auth.user().name());
        respond(ctx, status(AuthStatus.forbidden(attrs, d.reason())), keepAlive);
        return;
      }
      if (ACCESS.isDebugEnabled()) {
        ACCESS.debug(
            "metaserver: {} {} by {} from {}",
            req.method(),
            uri,
            auth.user().name(),
            ctx.channel().remoteAddress());
      }
      byte[] body = req.content().isReadable() ? ByteBufUtil.getBytes(req.content()) : null;
      Call call =
          new Call(
              info,
              q,
              h.get(HttpHeaderNames.ACCEPT, ""),
              h.get(HttpHeaderNames.CONTENT_TYPE, ""),
              body,
              auth.token(),
              ctx.executor());
      currentCall = call;
      answer =
          info.resourceRequest()
              ? server.resources().handle(call)
              : server.discovery().handle(call);
    } catch (ApiException e) {
      respond(ctx, status(e.status()), keepAlive);
      return;
    } catch (RuntimeException e) {
      LOG.warn("metaserver: {} {} failed: {}", req.method(), path, e.toString(), e);
      respond(
          ctx,
          status(KubeStatus.failure(500, "InternalError", "internal error: " + e.getMessage())),
          keepAlive);
      return;
    }
    boolean ws = upgrade && info.resourceRequest() && info.verb().equals("watch");
    FullHttpRequest kept = ws ? req.retainedDuplicate() : null;
    answer.whenComplete(
        (outcome, err) -> {
          Runnable done =
              () -> {
                try {
                  finish(ctx, outcome, err, keepAlive, kept, info);
                } finally {
                  if (kept != null && kept.refCnt() > 0) {
                    kept.release();
                  }
                }
              };
          // Answers from the store are complete at once: write them without a trip through the
          // event loop's task queue.
          if (ctx.executor().inEventLoop()) {
            done.run();
          } else {
            ctx.executor().execute(done);
          }
        });
  }

  private void finish(
      ChannelHandlerContext ctx,
      Outcome outcome,
      Throwable err,
      boolean keepAlive,
      FullHttpRequest upgrade,
      RequestInfo info) {
    if (!ctx.channel().isActive()) {
      return;
    }
    if (err != null) {
      Throwable e = CloudApi.unwrap(err);
      if (e instanceof ApiException a) {
        respond(ctx, status(a.status()), keepAlive);
      } else {
        LOG.warn("metaserver: {} {} failed: {}", info.method(), info.path(), e.toString(), e);
        respond(
            ctx,
            status(KubeStatus.failure(500, "InternalError", "internal error: " + e.getMessage())),
            keepAlive);
      }
      return;
    }
    if (outcome instanceof Outcome.Response r) {
      respond(ctx, r, keepAlive);
    } else if (outcome instanceof Outcome.Watch w) {
      observe(200);
      openStream(
          ctx,
          upgrade,
          keepAlive,
          w.spec().choice(),
          sink -> {
            startWatch(ctx, sink, w.spec());
            if (upgrade == null) {
              // Keep reading while the chunked stream runs, so that a client that goes away is
              // noticed (and its watch ended) at once rather than at the next event it is sent.
              resumeReading(ctx);
            }
          });
    } else if (outcome instanceof Outcome.WatchError we) {
      observe(KubeStatus.code(we.status()));
      openStream(
          ctx,
          upgrade,
          keepAlive,
          we.choice(),
          sink -> {
            sink.begin();
            sink.write(Encoding.event("ERROR", Json.bytes(we.status())));
            sink.end(() -> resumeReading(ctx));
          });
    }
  }

  private void openStream(
      ChannelHandlerContext ctx,
      FullHttpRequest upgrade,
      boolean keepAlive,
      Negotiation.Choice choice,
      java.util.function.Consumer<WatchSink> then) {
    if (upgrade == null) {
      then.accept(WatchSink.chunked(ctx.channel(), choice.contentType(), keepAlive));
      return;
    }
    String scheme = ctx.pipeline().get("tls") != null ? "wss" : "ws";
    WebSocketServerHandshakerFactory f =
        new WebSocketServerHandshakerFactory(
            scheme
                + "://"
                + upgrade.headers().get(HttpHeaderNames.HOST, "localhost")
                + upgrade.uri(),
            null,
            false,
            64 * 1024);
    WebSocketServerHandshaker hs = f.newHandshaker(upgrade);
    if (hs == null) {
      WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
      return;
    }
    ctx.pipeline().addAfter(ctx.name(), "ws-frames", new FrameHandler());
    hs.handshake(ctx.channel(), upgrade)
        .addListener(
            fut -> {
              if (fut.isSuccess()) {
                ctx.channel().config().setAutoRead(true); // frames from the client: close, ping
                then.accept(WatchSink.webSocket(ctx.channel()));
              } else {
                LOG.info("metaserver: WebSocket handshake failed: {}", fut.cause().toString());
                ctx.close();
              }
            });
  }

  private void startWatch(ChannelHandlerContext ctx, WatchSink sink, Watcher.Spec spec) {
    Watcher w =
        new Watcher(
            spec,
            sink,
            server.store(),
            server.watchHub(),
            server.settings().watchQueue(),
            server.settings().bookmarkInterval(),
            () -> {
              watcher = null;
              resumeReading(ctx);
            });
    watcher = w;
    w.start();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    Watcher w = watcher;
    if (w != null && ctx.channel().isWritable()) {
      w.pump();
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    Watcher w = watcher;
    if (w != null) {
      watcher = null;
      w.closed();
    }
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug(
        "metaserver: connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }

  /** The Status for a request the HTTP decoder could not read. */
  static ObjectNode malformed(Throwable cause) {
    if (cause instanceof io.netty.handler.codec.http.TooLongHttpHeaderException) {
      return KubeStatus.failure(431, "the request headers are too large");
    }
    if (cause instanceof io.netty.handler.codec.http.TooLongHttpLineException) {
      return KubeStatus.failure(414, "the request line is too long");
    }
    return KubeStatus.failure(400, "BadRequest", "malformed HTTP request");
  }

  private static Outcome.Response status(ObjectNode s) {
    return Outcome.Response.status(s);
  }

  /** Reports the current request's answer once. */
  private void observe(int code) {
    if (started == 0) {
      return;
    }
    Call c = currentCall;
    server.requestMetrics().answered(current, code, started, c != null && c.forwarded().get());
    started = 0;
  }

  private void respond(ChannelHandlerContext ctx, Outcome.Response r, boolean keepAlive) {
    observe(r.code());
    FullHttpResponse res =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(r.code()),
            Unpooled.wrappedBuffer(r.body() == null ? new byte[0] : r.body()));
    HttpHeaders h = res.headers();
    if (r.contentType() != null && !r.contentType().isEmpty()) {
      h.set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
    }
    h.set(HttpHeaderNames.CACHE_CONTROL, "no-cache, private");
    h.setInt(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes());
    for (Map.Entry<String, String> e : r.headers().entrySet()) {
      h.set(e.getKey(), e.getValue());
    }
    if (!keepAlive) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    ctx.writeAndFlush(res).addListener(f -> resumeReading(ctx));
  }

  private static void resumeReading(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive()) {
      ctx.channel().config().setAutoRead(true);
      ctx.read();
    }
  }

  /** Frames a WebSocket watch client sends: close and ping are answered, the rest ignored. */
  private static final class FrameHandler extends SimpleChannelInboundHandler<WebSocketFrame> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
      if (frame instanceof CloseWebSocketFrame c) {
        ctx.writeAndFlush(new CloseWebSocketFrame(c.statusCode(), ""))
            .addListener(ChannelFutureListener.CLOSE);
      } else if (frame instanceof PingWebSocketFrame p) {
        ctx.writeAndFlush(new PongWebSocketFrame(p.content().retain()));
      }
    }
  }

  static boolean isHead(FullHttpRequest r) {
    return HttpMethod.HEAD.equals(r.method());
  }
}
