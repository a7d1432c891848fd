package io.kedge.cloud.cloudstream;

import io.kedge.protocol.stream.TunnelMessage;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * KubeEdge's tunnel server ({@code wss://…:10004/v1/kubeedge/connect}): edges connect with their
 * hub client certificate and name themselves in header {@code SessionHostNameOverride}. Unlike
 * KubeEdge, that name must be the certificate's node ({@code CN=system:node:<name>}), so no edge
 * can take another's requests.
 */
final class TunnelServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TunnelServer.class);
  static final String PATH = "/v1/kubeedge/connect";
  static final String HOST_HEADER = "SessionHostNameOverride";
  static final String IP_HEADER = "SessionInternalIP";

  /** Kedge: sent by a Kedge edge, which then answers logs requests with their status first. */
  static final String KEDGE_HEADER = "X-Kedge-Stream";

  static final int MAX_MESSAGE = 1 << 20;

  private final SslContext tls;
  private final TunnelSessions sessions;
  private final EventLoopGroup group;
  private Channel server;

  TunnelServer(SslContext tls, TunnelSessions sessions, EventLoopGroup group) {
    this.tls = tls;
    this.sessions = sessions;
    this.group = group;
  }

  /** Listens on {@code address:port}; returns the bound port. */
  int start(String address, int port) {
    server =
        TlsListener.bind(
            group,
            tls,
            address,
            port,
            p ->
                p.addLast("idle", new IdleStateHandler(60, 0, 0, TimeUnit.SECONDS))
                    .addLast("http", new HttpServerCodec(4096, 8192, 8192))
                    .addLast("aggregator", new HttpObjectAggregator(8192))
                    .addLast("handshake", new Handshake()));
    int bound = ((InetSocketAddress) server.localAddress()).getPort();
    LOG.info("cloudstream: tunnel server listening on {}:{}", address, bound);
    return bound;
  }

  @Override
  public void close() {
    if (server != null) {
      server.close().syncUninterruptibly();
    }
    sessions.closeAll();
  }

  private final class Handshake extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      String from = String.valueOf(ctx.channel().remoteAddress());
      String node = req.headers().get(HOST_HEADER, "");
      if (!PATH.equals(new QueryStringDecoder(req.uri()).path())) {
        refuse(ctx, HttpResponseStatus.NOT_FOUND, from, node, "no such path");
        return;
      }
      if (node.isEmpty()) {
        refuse(ctx, HttpResponseStatus.BAD_REQUEST, from, node, "no " + HOST_HEADER + " header");
        return;
      }
      Optional<X509Certificate> cert = PeerCertificates.of(ctx);
      String expected = "system:node:" + node;
      String cn = cert.map(PeerCertificates::commonName).orElse("");
      if (!expected.equals(cn)) {
        refuse(
            ctx,
            HttpResponseStatus.FORBIDDEN,
            from,
            node,
            "client certificate CN '" + cn + "' is not '" + expected + "'");
        return;
      }
      String address = req.headers().get(IP_HEADER, "");
      if (address.isEmpty() && ctx.channel().remoteAddress() instanceof InetSocketAddress a) {
        address = a.getAddress().getHostAddress();
      }
      boolean kedge = req.headers().contains(KEDGE_HEADER);
      WebSocketServerHandshakerFactory factory =
          new WebSocketServerHandshakerFactory(
              "wss://" + req.headers().get(HttpHeaderNames.HOST, "cloudcore") + PATH,
              null,
              WebSocketDecoderConfig.newBuilder()
                  .allowExtensions(false)
                  .maxFramePayloadLength(MAX_MESSAGE)
                  // KubeEdge sends binary data in text frames
                  .withUTF8Validator(false)
                  .build());
      WebSocketServerHandshaker handshaker = factory.newHandshaker(req);
      if (handshaker == null) {
        WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
        return;
      }
      TunnelSession session = new TunnelSession(node, address, kedge, ctx.channel());
      ctx.pipeline()
          .addAfter(ctx.name(), "ws-aggregator", new WebSocketFrameAggregator(MAX_MESSAGE))
          .addAfter("ws-aggregator", "tunnel", new Frames(session));
      ctx.pipeline().remove(this);
      String addr = address;
      handshaker
          .handshake(ctx.channel(), req)
          .addListener(
              f -> {
                if (f.isSuccess()) {
                  LOG.info(
                      "cloudstream: tunnel of node {} connected from {} (address {}{})",
                      node,
                      from,
                      addr,
                      kedge ? ", Kedge edge" : "");
                  sessions.add(session);
                } else {
                  ctx.close();
                }
              });
    }

    private void refuse(
        ChannelHandlerContext ctx,
        HttpResponseStatus status,
        String from,
        String node,
        String why) {
      LOG.warn("cloudstream: refused tunnel from {} (node '{}'): {}", from, node, why);
      DefaultFullHttpResponse r =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              status,
              Unpooled.copiedBuffer(why + "\n", StandardCharsets.UTF_8));
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
      r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
      ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }
  }

  private final class Frames extends SimpleChannelInboundHandler<WebSocketFrame> {
    private final TunnelSession session;
    private boolean registered;

    Frames(TunnelSession session) {
      this.session = session;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
      if (frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame) {
        TunnelMessage m;
        try {
          m = TunnelMessage.decode(ByteBufUtil.getBytes(frame.content()));
        } catch (IllegalArgumentException e) {
          LOG.warn("cloudstream: bad message from node {}: {}", session.node(), e.getMessage());
          ctx.close();
          return;
        }
        session.fromEdge(m);
      } else if (frame instanceof PingWebSocketFrame) {
        ctx.writeAndFlush(new PongWebSocketFrame(frame.content().retain()));
      } else if (frame instanceof CloseWebSocketFrame) {
        ctx.close();
      }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      registered = true;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (registered) {
        LOG.info("cloudstream: tunnel of node {} closed", session.node());
        sessions.remove(session);
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof IdleStateEvent) {
        LOG.warn("cloudstream: tunnel of node {} silent for 60 s; closing it", session.node());
        ctx.close();
      } else {
        ctx.fireUserEventTriggered(evt);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("cloudstream: tunnel of node {}: {}", session.node(), cause.toString());
      ctx.close();
    }
  }
}
