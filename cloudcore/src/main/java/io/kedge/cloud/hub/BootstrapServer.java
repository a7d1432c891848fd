package io.kedge.cloud.hub;

import io.kedge.protocol.Json;
import io.kedge.protocol.config.CloudHubConfig;
import io.kedge.protocol.http.RequestBodyLimit;
import io.kedge.protocol.http.RequestDeadlines;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * CloudHub's certificate bootstrap server (KubeEdge's :10002): {@code GET /ca.crt} (the hub CA,
 * DER), {@code GET /edge.crt} (signs a DER CSR for the node in the {@code NodeName} header,
 * authorised by the join token or, for rotation, by the node's current certificate) and {@code GET
 * /node/{name}}. Errors are plain text with one log line. A request must arrive within {@link
 * #TIMEOUTS} (408 beyond) and its body be at most {@link #MAX_CSR_BYTES} (413 beyond).
 */
public final class BootstrapServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BootstrapServer.class);
  static final int MAX_CSR_BYTES = 1 << 20;

  /**
   * How long a request's headers, then its body, may take to arrive, and how long a connection may
   * wait for its next request (the TLS handshake has its own 10 s).
   */
  static final RequestDeadlines.Timeouts TIMEOUTS =
      new RequestDeadlines.Timeouts(
          Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(30));

  /** Whether a node exists: true/false, or empty when that cannot be told now. */
  public interface NodeLookup {
    Optional<Boolean> exists(String node);
  }

  private final CloudHubConfig config;
  private final HubTls tls;
  private final byte[] caKeyDer;
  private final EdgeCertificateSigner signer;
  private final NodeLookup nodes;
  private final Executor blocking;
  private final Clock clock;
  private final RequestDeadlines.Timeouts timeouts;
  private EventLoopGroup group;
  private Channel server;

  public BootstrapServer(
      CloudHubConfig config, HubTls tls, NodeLookup nodes, Executor blocking, Clock clock) {
    this(config, tls, nodes, blocking, clock, TIMEOUTS);
  }

  /** With other request timeouts (tests shorten them). */
  BootstrapServer(
      CloudHubConfig config,
      HubTls tls,
      NodeLookup nodes,
      Executor blocking,
      Clock clock,
      RequestDeadlines.Timeouts timeouts) {
    this.timeouts = timeouts;
    this.config = config;
    this.tls = tls;
    this.caKeyDer = HubPki.sec1(tls.ca().privateKey());
    this.signer =
        new EdgeCertificateSigner(
            tls.ca(), Duration.ofDays(Math.max(1, config.edgeCertSigningDuration())));
    this.nodes = nodes;
    this.blocking = blocking;
    this.clock = clock;
  }

  public synchronized void start() {
    SslContext ssl = tls.bootstrapServerContext();
    group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    ServerBootstrap b =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    SslHandler sh = ssl.newHandler(ch.alloc());
                    sh.setHandshakeTimeoutMillis(10_000);
                    RequestDeadlines deadlines =
                        new RequestDeadlines(
                            timeouts, BootstrapServer::text, "cloudhub: bootstrap");
                    ch.pipeline()
                        .addLast("ssl", sh)
                        .addLast("deadline-bytes", deadlines.bytes())
                        .addLast("http", new HttpServerCodec(4096, 8192, 65536))
                        .addLast("deadline-requests", deadlines.requests())
                        .addLast(
                            "http-aggregator",
                            new RequestBodyLimit(
                                MAX_CSR_BYTES, BootstrapServer::text, "cloudhub: bootstrap"))
                        .addLast("bootstrap", new Handler());
                  }
                });
    CloudHubConfig.Server https = config.https();
    try {
      server = b.bind(https.address(), https.port()).syncUninterruptibly().channel();
    } catch (RuntimeException e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw new IllegalStateException(
          "cloudhub: cannot listen on "
              + https.address()
              + ":"
              + https.port()
              + ": "
              + e.getMessage(),
          e);
    }
    LOG.info("cloudhub: certificate bootstrap server listening on {}", server.localAddress());
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) server.localAddress();
  }

  @Override
  public synchronized void close() {
    if (server != null) {
      server.close().syncUninterruptibly();
      server = null;
    }
    if (group != null) {
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      String from = String.valueOf(ctx.channel().remoteAddress());
      if (!req.decoderResult().isSuccess()) {
        reply(
            ctx,
            HttpResponseStatus.BAD_REQUEST,
            "malformed request",
            from,
            "malformed HTTP request");
        return;
      }
      String path = new QueryStringDecoder(req.uri()).path();
      if (!HttpMethod.GET.equals(req.method())) {
        reply(
            ctx,
            HttpResponseStatus.METHOD_NOT_ALLOWED,
            "method not allowed",
            from,
            req.method() + " " + HubHandshakeHandler.clip(path));
        return;
      }
      if (path.equals("/ca.crt")) {
        ok(ctx, JoinToken.der(tls.ca().certificate()));
      } else if (path.equals("/edge.crt")) {
        edgeCertificate(ctx, req, from);
      } else if (path.startsWith("/node/")) {
        node(ctx, path.substring("/node/".length()), from);
      } else {
        reply(ctx, HttpResponseStatus.NOT_FOUND, "not found", null, null);
      }
    }

    private void edgeCertificate(ChannelHandlerContext ctx, FullHttpRequest req, String from) {
      String node = req.headers().get("NodeName");
      if (node == null || !NodeName.isValid(node)) {
        reply(
            ctx,
            HttpResponseStatus.BAD_REQUEST,
            "NodeName header missing or not a valid node name",
            from,
            "certificate request without a valid NodeName header");
        return;
      }
      Optional<X509Certificate> peer = HubHandshakeHandler.tlsPeerCertificate(ctx);
      if (peer.isPresent()) {
        String problem = rotationProblem(peer.get(), node);
        if (problem != null) {
          reply(
              ctx,
              HttpResponseStatus.UNAUTHORIZED,
              problem,
              from,
              "certificate request of node " + node + ": " + problem);
          return;
        }
      } else {
        String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION, "");
        String jwt = auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).strip() : "";
        String problem =
            jwt.isEmpty() ? "no bearer token" : JoinToken.problem(jwt, caKeyDer, clock.instant());
        if (problem != null) {
          reply(
              ctx,
              HttpResponseStatus.UNAUTHORIZED,
              "Invalid authorization token: " + problem,
              from,
              "certificate request of node " + node + ": " + problem);
          return;
        }
      }
      boolean server = false;
      boolean client = true;
      String usages = req.headers().get("ExtKeyUsages");
      if (usages != null && !usages.isBlank()) {
        try {
          JsonNode arr = Json.parse(usages);
          if (!arr.isArray()) {
            throw new IllegalArgumentException();
          }
          client = false;
          for (JsonNode u : arr) {
            int v = u.asInt(-1);
            if (v == 1) {
              server = true;
            } else if (v == 2) {
              client = true;
            } else {
              throw new IllegalArgumentException();
            }
          }
        } catch (RuntimeException e) {
          reply(
              ctx,
              HttpResponseStatus.BAD_REQUEST,
              "ExtKeyUsages must be a JSON array of 1 and 2",
              from,
              "certificate request of node " + node + ": bad ExtKeyUsages header");
          return;
        }
      }
      try {
        X509Certificate cert =
            signer.sign(ByteBufUtil.getBytes(req.content()), node, server, client);
        LOG.info(
            "cloudhub: issued a certificate for node {} to {} ({}, valid until {})",
            node,
            from,
            peer.isPresent() ? "rotation" : "join token",
            cert.getNotAfter().toInstant());
        ok(ctx, JoinToken.der(cert));
      } catch (EdgeCertificateSigner.BadRequest e) {
        reply(
            ctx,
            HttpResponseStatus.BAD_REQUEST,
            e.getMessage(),
            from,
            "certificate request of node " + node + ": " + e.getMessage());
      }
    }

    private String rotationProblem(X509Certificate cert, String node) {
      String cn = HubHandshakeHandler.commonName(cert);
      List<String> orgs = organizations(cert);
      boolean nodeCert =
          NodeName.user(node).equals(cn)
              && !orgs.isEmpty()
              && NodeName.NODES_GROUP.equals(orgs.get(0));
      boolean legacy = "kubeedge.io".equals(cn) && orgs.contains("KubeEdge");
      if (!nodeCert && !legacy) {
        return "client certificate CN '" + cn + "' may not renew the certificate of node " + node;
      }
      try {
        cert.checkValidity();
        List<String> eku = cert.getExtendedKeyUsage();
        if (eku != null && !eku.contains("1.3.6.1.5.5.7.3.2")) {
          return "client certificate is not for client authentication";
        }
      } catch (Exception e) {
        return "client certificate is not valid: " + e.getMessage();
      }
      return null;
    }

    private void node(ChannelHandlerContext ctx, String name, String from) {
      if (!NodeName.isValid(name)) {
        reply(ctx, HttpResponseStatus.BAD_REQUEST, "invalid node name", null, null);
        return;
      }
      try {
        blocking.execute(
            () -> {
              Optional<Boolean> exists;
              try {
                exists = nodes.exists(name);
              } catch (RuntimeException e) {
                exists = Optional.empty();
              }
              Optional<Boolean> r = exists;
              ctx.executor()
                  .execute(
                      () -> {
                        if (r.isEmpty()) {
                          reply(
                              ctx,
                              HttpResponseStatus.INTERNAL_SERVER_ERROR,
                              "cannot look up node " + name,
                              from,
                              "node lookup failed for " + name);
                        } else if (r.get()) {
                          reply(ctx, HttpResponseStatus.OK, "Node found", null, null);
                        } else {
                          reply(ctx, HttpResponseStatus.NOT_FOUND, "Node not found", null, null);
                        }
                      });
            });
      } catch (RuntimeException rejected) {
        reply(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "shutting down", null, null);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof SslHandshakeCompletionEvent e && !e.isSuccess()) {
        LOG.warn(
            "cloudhub: bootstrap: refused connection from {}: TLS handshake failed: {}",
            ctx.channel().remoteAddress(),
            HubHandshakeHandler.describe(e.cause()));
        ctx.close();
        return;
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (ctx.channel().isActive()) {
        LOG.debug(
            "cloudhub: bootstrap: connection from {} failed: {}",
            ctx.channel().remoteAddress(),
            cause.toString());
      }
      ctx.close();
    }
  }

  private static List<String> organizations(X509Certificate cert) {
    try {
      var dn = new javax.naming.ldap.LdapName(cert.getSubjectX500Principal().getName());
      List<String> out = new java.util.ArrayList<>();
      for (var rdn : dn.getRdns()) {
        if ("O".equalsIgnoreCase(rdn.getType())) {
          out.add(0, String.valueOf(rdn.getValue())); // LdapName lists RDNs in reverse order
        }
      }
      return out;
    } catch (Exception e) {
      return List.of();
    }
  }

  private static void ok(ChannelHandlerContext ctx, byte[] der) {
    FullHttpResponse r =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(der));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
    HttpUtil.setContentLength(r, der.length);
    ctx.writeAndFlush(r);
  }

  /** The server's errors are plain text (as KubeEdge's); so are 408 and 413. */
  private static FullHttpResponse text(HttpResponseStatus status, String message) {
    byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
    FullHttpResponse r =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    HttpUtil.setContentLength(r, body.length);
    return r;
  }

  private static void reply(
      ChannelHandlerContext ctx,
      HttpResponseStatus status,
      String text,
      String from,
      String logLine) {
    if (logLine != null) {
      LOG.warn(
          "cloudhub: bootstrap: refused request from {}: {} (HTTP {})",
          from,
          logLine,
          status.code());
    }
    byte[] body = (text + "\n").getBytes(StandardCharsets.UTF_8);
    FullHttpResponse r =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    HttpUtil.setContentLength(r, body.length);
    var f = ctx.writeAndFlush(r);
    if (status.code() >= 400) {
      f.addListener(ChannelFutureListener.CLOSE);
    }
  }
}
