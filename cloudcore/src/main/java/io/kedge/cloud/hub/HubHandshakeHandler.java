package io.kedge.cloud.hub;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.function.Function;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts or refuses the WebSocket upgrade of one edge connection, as KubeEdge's hub does but
 * stricter: the node comes from the {@code node_id} header, {@code ConnectionUse: msg} is required,
 * the TLS client certificate must name that node ({@code CN=system:node:<node_id>}) and the node
 * limit must not be reached; any path is accepted. A refused connection gets an HTTP error and is
 * closed, with one log line. On success the pipeline becomes a session ({@link
 * EdgeConnectionHandler}).
 */
final class HubHandshakeHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Logger LOG = LoggerFactory.getLogger(HubHandshakeHandler.class);

  static final String NODE_ID_HEADER = "node_id";
  static final String PROJECT_ID_HEADER = "project_id";
  static final String CONNECTION_USE_HEADER = "ConnectionUse";

  private final CloudHub hub;
  private final Function<ChannelHandlerContext, Optional<X509Certificate>> peerCertificate;
  private boolean tlsFailureLogged;

  HubHandshakeHandler(CloudHub hub) {
    this(hub, HubHandshakeHandler::tlsPeerCertificate);
  }

  /** With a different source of the client certificate (tests without TLS). */
  HubHandshakeHandler(
      CloudHub hub, Function<ChannelHandlerContext, Optional<X509Certificate>> peerCertificate) {
    this.hub = hub;
    this.peerCertificate = peerCertificate;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    String from = String.valueOf(ctx.channel().remoteAddress());
    if (!req.decoderResult().isSuccess()) {
      refuse(ctx, HttpResponseStatus.BAD_REQUEST, from, null, "malformed HTTP request");
      return;
    }
    if (!HttpMethod.GET.equals(req.method())) {
      refuse(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, from, null, "method " + req.method());
      return;
    }
    String node = req.headers().get(NODE_ID_HEADER);
    if (node == null || node.isBlank()) {
      refuse(ctx, HttpResponseStatus.BAD_REQUEST, from, null, "no node_id header");
      return;
    }
    if (!NodeName.isValid(node)) {
      refuse(
          ctx,
          HttpResponseStatus.BAD_REQUEST,
          from,
          null,
          "node_id '" + clip(node) + "' is not a valid node name");
      return;
    }
    String use = req.headers().get(CONNECTION_USE_HEADER);
    if (use == null || !"msg".equalsIgnoreCase(use.strip())) {
      refuse(
          ctx,
          HttpResponseStatus.BAD_REQUEST,
          from,
          node,
          use == null
              ? "no ConnectionUse header"
              : "ConnectionUse '" + clip(use) + "' is not 'msg'");
      return;
    }
    Optional<X509Certificate> cert = peerCertificate.apply(ctx);
    if (cert.isEmpty()) {
      refuse(ctx, HttpResponseStatus.FORBIDDEN, from, node, "no client certificate");
      return;
    }
    String cn = commonName(cert.get());
    if (!NodeName.user(node).equals(cn)) {
      refuse(
          ctx,
          HttpResponseStatus.FORBIDDEN,
          from,
          node,
          "client certificate CN '" + cn + "' is not '" + NodeName.user(node) + "'");
      return;
    }
    if (!hub.sessions().admits(node)) {
      refuse(
          ctx,
          HttpResponseStatus.SERVICE_UNAVAILABLE,
          from,
          node,
          "node limit " + hub.config().nodeLimit() + " reached");
      return;
    }
    if (!req.headers().containsValue(HttpHeaderNames.UPGRADE, "websocket", true)) {
      refuse(ctx, HttpResponseStatus.BAD_REQUEST, from, node, "not a WebSocket upgrade request");
      return;
    }
    int max = hub.config().maxMessageBytes();
    WebSocketDecoderConfig decoder =
        WebSocketDecoderConfig.newBuilder()
            .maxFramePayloadLength(max)
            .allowExtensions(false)
            .expectMaskedFrames(true)
            .allowMaskMismatch(false)
            .closeOnProtocolViolation(true)
            .withUTF8Validator(true)
            .build();
    String host = req.headers().get(HttpHeaderNames.HOST, "localhost");
    WebSocketServerHandshaker handshaker =
        new WebSocketServerHandshakerFactory("wss://" + host + req.uri(), null, decoder)
            .newHandshaker(req);
    if (handshaker == null) {
      LOG.warn(
          "cloudhub: refused connection from {} (node {}): unsupported WebSocket version {}",
          from,
          node,
          clip(req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "")));
      WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel())
          .addListener(ChannelFutureListener.CLOSE);
      return;
    }
    NodeSession session = new NodeSession(node, ctx.channel(), hub);
    // Deferred: a close may complete while the exception that caused it is still on its way to
    // the session handler, which records the reason.
    ctx.channel()
        .closeFuture()
        .addListener(f -> ctx.channel().eventLoop().execute(() -> hub.sessionEnded(session)));
    handshaker.handshake(ctx.channel(), req);
    // Frames may follow the 101 at once: the session handlers go in before any are read.
    ctx.pipeline().addLast("ws-aggregator", new WebSocketFrameAggregator(max));
    ctx.pipeline().addLast("session", new EdgeConnectionHandler(session, hub));
    ctx.pipeline().remove(this);
    hub.sessionStarted(session);
  }

  private void refuse(
      ChannelHandlerContext ctx,
      HttpResponseStatus status,
      String from,
      String node,
      String reason) {
    LOG.warn(
        "cloudhub: refused connection from {}{}: {} (HTTP {})",
        from,
        node == null ? "" : " (node " + node + ")",
        reason,
        status.code());
    FullHttpResponse resp =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            status,
            Unpooled.copiedBuffer(reason + "\n", StandardCharsets.UTF_8));
    resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, resp.content().readableBytes());
    resp.headers().set(HttpHeaderNames.CONNECTION, "close");
    ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof SslHandshakeCompletionEvent e && !e.isSuccess()) {
      tlsFailureLogged = true;
      LOG.warn(
          "cloudhub: refused connection from {}: TLS handshake failed: {}",
          ctx.channel().remoteAddress(),
          describe(e.cause()));
      ctx.close();
      return;
    }
    if (evt instanceof IdleStateEvent) {
      LOG.warn(
          "cloudhub: closed connection from {}: no WebSocket upgrade within {} s",
          ctx.channel().remoteAddress(),
          hub.config().keepaliveInterval());
      ctx.close();
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!tlsFailureLogged) {
      LOG.warn(
          "cloudhub: closed connection from {} before its upgrade: {}",
          ctx.channel().remoteAddress(),
          describe(cause));
    }
    tlsFailureLogged = true; // one line per connection
    ctx.close();
  }

  static String describe(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getMessage() == null) {
      c = c.getCause();
    }
    String msg = c.getMessage();
    return c.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
  }

  static Optional<X509Certificate> tlsPeerCertificate(ChannelHandlerContext ctx) {
    SslHandler ssl = ctx.pipeline().get(SslHandler.class);
    if (ssl == null) {
      return Optional.empty();
    }
    try {
      Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
      if (chain.length > 0 && chain[0] instanceof X509Certificate x) {
        return Optional.of(x);
      }
    } catch (SSLPeerUnverifiedException e) {
      // no certificate
    }
    return Optional.empty();
  }

  static String commonName(X509Certificate cert) {
    try {
      LdapName dn = new LdapName(cert.getSubjectX500Principal().getName());
      for (Rdn rdn : dn.getRdns()) {
        if ("CN".equalsIgnoreCase(rdn.getType())) {
          return String.valueOf(rdn.getValue());
        }
      }
    } catch (InvalidNameException e) {
      // fall through
    }
    return "";
  }

  /** Keeps attacker-controlled text short in log lines. */
  static String clip(String s) {
    String one = s.replaceAll("\\p{Cntrl}", "?");
    return one.length() > 64 ? one.substring(0, 64) + "…" : one;
  }
}
