package io.kedge.cloud.cloudstream;

import io.kedge.protocol.Json;
import io.kedge.protocol.status.KubeStatus;
import io.kedge.protocol.stream.StreamRequest;
import io.kedge.protocol.stream.TunnelMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stream server the apiserver's kubelet requests for edge nodes reach (KubeEdge's port 10003):
 * {@code GET /containerLogs/{ns}/{pod}/{container}}, {@code /exec/…} and {@code /attach/…}. Only
 * clients with a certificate from {@code tlsStreamCAFile} (the apiserver's kubelet-client
 * certificate) get in — KubeEdge asks for one but does not check it. Each request goes to the edge
 * that runs the pod, over its tunnel; exec and attach are relayed byte for byte once the edge has
 * answered the upgrade (the edge speaks SPDY, as a kubelet does), logs as a chunked response.
 */
final class StreamServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StreamServer.class);

  /** How long the edge may take to answer a request before the apiserver gets a 504. */
  static final Duration EDGE_ANSWER_TIMEOUT = Duration.ofSeconds(30);

  private final SslContext tls;
  private final TunnelSessions sessions;
  private final PodNodes pods;
  private final Executor blocking;
  private final ScheduledExecutorService timer;
  private final EventLoopGroup group;
  private final AtomicLong ids = new AtomicLong();
  private Channel server;

  /** Where a pod runs, and the addresses its node can be asked at. */
  interface PodNodes {
    /**
     * The pod's node name, or null when there is no such pod.
     *
     * @throws RuntimeException when the apiserver cannot be asked
     */
    String nodeOf(String namespace, String pod);

    /** The node's addresses (status.addresses), empty when there is no such node. */
    List<String> addressesOf(String node);
  }

  StreamServer(
      SslContext tls,
      TunnelSessions sessions,
      PodNodes pods,
      Executor blocking,
      ScheduledExecutorService timer,
      EventLoopGroup group) {
    this.tls = tls;
    this.sessions = sessions;
    this.pods = pods;
    this.blocking = blocking;
    this.timer = timer;
    this.group = group;
  }

  int start(String address, int port) {
    server =
        TlsListener.bind(
            group,
            tls,
            address,
            port,
            p ->
                p.addLast("http", new HttpServerCodec(8192, 16384, 8192))
                    .addLast("request", new RequestHandler()));
    int bound = ((InetSocketAddress) server.localAddress()).getPort();
    LOG.info("cloudstream: stream server listening on {}:{}", address, bound);
    return bound;
  }

  @Override
  public void close() {
    if (server != null) {
      server.close().syncUninterruptibly();
    }
  }

  /** A request path the stream server serves. */
  record Target(String kind, String namespace, String pod, String container) {
    static Target parse(String path) {
      String[] p = path.split("/", -1);
      // "", kind, ns, pod, [uid,] container
      if (p.length < 5 || p.length > 6) {
        return null;
      }
      String kind = p[1];
      if (!kind.equals("containerLogs") && !kind.equals("exec") && !kind.equals("attach")) {
        return null;
      }
      if (kind.equals("containerLogs") && p.length != 5) {
        return null;
      }
      String container = p[p.length - 1];
      for (int i = 2; i < p.length; i++) {
        if (p[i].isEmpty()) {
          return null;
        }
      }
      return new Target(kind, p[2], p[3], container);
    }

    boolean streaming() {
      return !kind.equals("containerLogs");
    }

    TunnelMessage.Type connectType() {
      return switch (kind) {
        case "exec" -> TunnelMessage.Type.EXEC_CONNECT;
        case "attach" -> TunnelMessage.Type.ATTACH_CONNECT;
        default -> TunnelMessage.Type.LOGS_CONNECT;
      };
    }
  }

  private final class RequestHandler extends ChannelInboundHandlerAdapter {
    private boolean busy;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof HttpRequest req)) {
        ReferenceCountUtil.release(msg); // request bodies (there are none) and trailers
        return;
      }
      ReferenceCountUtil.release(msg);
      if (busy) {
        return;
      }
      busy = true;
      if (PeerCertificates.of(ctx).isEmpty()) {
        // The TLS layer already demands a verified certificate; this guards a misconfiguration.
        fail(ctx, req, 401, "a client certificate from tlsStreamCAFile is required");
        return;
      }
      QueryStringDecoder q = new QueryStringDecoder(req.uri());
      Target t = Target.parse(q.path());
      if (t == null) {
        fail(ctx, req, 404, "the stream server serves containerLogs, exec and attach only");
        return;
      }
      if (t.streaming() && !isUpgrade(req)) {
        fail(ctx, req, 400, t.kind() + " needs an upgrade to a streaming protocol (SPDY)");
        return;
      }
      if (!t.streaming() && !HttpMethod.GET.equals(req.method())) {
        fail(ctx, req, 405, "containerLogs takes GET");
        return;
      }
      ctx.channel().config().setAutoRead(false);
      blocking.execute(() -> route(ctx, req, q, t));
    }

    private void route(ChannelHandlerContext ctx, HttpRequest req, QueryStringDecoder q, Target t) {
      String node;
      List<String> addresses;
      try {
        node = pods.nodeOf(t.namespace(), t.pod());
        addresses = node == null || node.isEmpty() ? List.of() : pods.addressesOf(node);
      } catch (RuntimeException e) {
        fail(ctx, req, 503, "cannot look up pod " + t.namespace() + "/" + t.pod() + ": " + e);
        return;
      }
      String what = t.kind() + " of pod " + t.namespace() + "/" + t.pod();
      if (node == null) {
        fail(ctx, req, 404, "pods \"" + t.pod() + "\" not found");
        return;
      }
      if (node.isEmpty()) {
        fail(ctx, req, 400, "pod " + t.namespace() + "/" + t.pod() + " is not scheduled to a node");
        return;
      }
      String host = hostOf(req.headers().get(HttpHeaderNames.HOST, ""));
      if (!host.isEmpty() && !addresses.contains(host)) {
        // The apiserver asks the pod's node at one of its addresses; a request addressed to
        // another node's address is not the apiserver's, or was routed wrongly.
        LOG.warn(
            "cloudstream: refused {}: the request is addressed to {}, which is not an address of"
                + " the pod's node {} ({})",
            what,
            host,
            node,
            addresses);
        fail(
            ctx,
            req,
            403,
            "pod "
                + t.namespace()
                + "/"
                + t.pod()
                + " runs on node "
                + node
                + ", which is not at "
                + host);
        return;
      }
      TunnelSession session = sessions.get(node).orElse(null);
      if (session == null) {
        LOG.info("cloudstream: {} refused: node {} has no tunnel here", what, node);
        fail(
            ctx,
            req,
            t.streaming() ? 503 : 500,
            "edge node "
                + node
                + " is not connected to cloudcore's stream tunnel (edgecore offline or its"
                + " modules.edgeStream disabled): cannot serve "
                + what);
        return;
      }
      long id = ids.incrementAndGet();
      Map<String, List<String>> headers = new LinkedHashMap<>();
      for (Map.Entry<String, String> h : req.headers()) {
        headers.computeIfAbsent(h.getKey(), k -> new ArrayList<>()).add(h.getValue());
      }
      boolean statusFirst = !t.streaming() && session.kedgeEdge();
      if (statusFirst) {
        headers.put(StreamRequest.STATUS_FIRST, List.of("true"));
      }
      int qi = req.uri().indexOf('?');
      StreamRequest forward =
          new StreamRequest(
              id,
              t.streaming() ? req.method().name() : null,
              q.rawPath(),
              qi < 0 ? "" : req.uri().substring(qi + 1),
              headers);
      ctx.executor()
          .execute(
              () -> {
                if (!ctx.channel().isActive()) {
                  return;
                }
                Relay relay =
                    t.streaming()
                        ? new StreamRelay(ctx.channel(), session, id, what)
                        : new LogsRelay(ctx.channel(), session, id, what, statusFirst);
                if (!session.add(id, relay)) {
                  fail(ctx, req, 503, "the tunnel of node " + node + " closed");
                  return;
                }
                LOG.info(
                    "cloudstream: {} → node {} (connection {}, {} open)",
                    what,
                    node,
                    id,
                    session.connections());
                session
                    .send(new TunnelMessage(id, t.connectType(), forward.toJson()))
                    .addListener(
                        f -> {
                          if (!f.isSuccess()) {
                            session.remove(id);
                            relay.edgeDone("cannot write to the tunnel of node " + node);
                          }
                        });
                ctx.pipeline().replace(this, "relay", relay);
                if (t.streaming()) {
                  // From now on bytes pass through untouched (the edge answers the upgrade).
                  ctx.pipeline().remove("http");
                }
                relay.armTimeout();
                ctx.channel().config().setAutoRead(true);
              });
    }
  }

  private static boolean isUpgrade(HttpRequest req) {
    return req.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
        && req.headers().contains(HttpHeaderNames.UPGRADE);
  }

  private static String hostOf(String hostHeader) {
    String h = hostHeader.strip();
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end < 0 ? h : h.substring(1, end);
    }
    int colon = h.lastIndexOf(':');
    return colon < 0 ? h : h.substring(0, colon);
  }

  /**
   * An error answered by the stream server itself: plain text for logs (the apiserver shows a
   * kubelet's log error text as the message), a {@code Status} for exec and attach (kubectl reads
   * it from the refused upgrade).
   */
  private void fail(ChannelHandlerContext ctx, HttpRequest req, int code, String message) {
    boolean status = !new QueryStringDecoder(req.uri()).path().startsWith("/containerLogs");
    ctx.executor()
        .execute(
            () -> {
              FullHttpResponse r = errorResponse(code, message, status);
              ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
            });
  }

  static FullHttpResponse errorResponse(int code, String message, boolean asStatus) {
    byte[] body =
        asStatus
            ? Json.bytes(KubeStatus.failure(code, message))
            : (message + "\n").getBytes(StandardCharsets.UTF_8);
    FullHttpResponse r =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code), Unpooled.wrappedBuffer(body));
    r.headers()
        .set(
            HttpHeaderNames.CONTENT_TYPE,
            asStatus ? "application/json" : "text/plain; charset=utf-8");
    r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    return r;
  }

  /** Both directions of one apiserver connection, once it is tied to the edge's tunnel. */
  private abstract class Relay extends ChannelInboundHandlerAdapter implements TunnelSession.Peer {
    final Channel apiserver;
    final TunnelSession session;
    final long id;
    final String what;
    private volatile boolean answered;
    private ScheduledFuture<?> timeout;

    Relay(Channel apiserver, TunnelSession session, long id, String what) {
      this.apiserver = apiserver;
      this.session = session;
      this.id = id;
      this.what = what;
    }

    void armTimeout() {
      timeout =
          timer.schedule(
              () ->
                  apiserver
                      .eventLoop()
                      .execute(
                          () -> {
                            if (!answered && apiserver.isActive()) {
                              LOG.warn(
                                  "cloudstream: node {} did not answer {} within {} s",
                                  session.node(),
                                  what,
                                  EDGE_ANSWER_TIMEOUT.toSeconds());
                              session.remove(id);
                              session.send(TunnelMessage.remove(id));
                              apiserver
                                  .writeAndFlush(
                                      errorResponse(
                                          504,
                                          "edge node "
                                              + session.node()
                                              + " did not answer "
                                              + what
                                              + " within "
                                              + EDGE_ANSWER_TIMEOUT.toSeconds()
                                              + " s",
                                          this instanceof StreamRelay))
                                  .addListener(ChannelFutureListener.CLOSE);
                            }
                          }),
              EDGE_ANSWER_TIMEOUT.toMillis(),
              TimeUnit.MILLISECONDS);
    }

    void answered() {
      answered = true;
      ScheduledFuture<?> t = timeout;
      if (t != null) {
        t.cancel(false);
      }
    }

    boolean wasAnswered() {
      return answered;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      answered();
      session.remove(id);
      session.send(TunnelMessage.remove(id));
      LOG.info("cloudstream: {} (connection {}) ended by the apiserver side", what, id);
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("cloudstream: {}: {}", what, cause.toString());
      ctx.close();
    }
  }

  /** exec and attach: raw bytes both ways. */
  private final class StreamRelay extends Relay {
    StreamRelay(Channel apiserver, TunnelSession session, long id, String what) {
      super(apiserver, session, id, what);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof ByteBuf b) {
        try {
          if (b.isReadable()) {
            session.send(TunnelMessage.data(id, ByteBufUtil.getBytes(b)));
          }
        } finally {
          b.release();
        }
      } else {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void data(byte[] data) {
      answered();
      apiserver.writeAndFlush(Unpooled.wrappedBuffer(data));
    }

    @Override
    public void edgeDone(String why) {
      answered();
      LOG.info("cloudstream: {} (connection {}) ended: {}", what, id, why);
      apiserver.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /**
   * containerLogs: a chunked text response. With a Kedge edge the response starts only once the
   * edge has sent the status of its answer, so a refused request reaches the apiserver as the
   * kubelet's would (e.g. 400 for {@code previous} without a previous instance).
   */
  private final class LogsRelay extends Relay {
    private final boolean statusFirst;
    private boolean headSent;
    private int status = 200;
    private final StringBuilder errorText = new StringBuilder();

    LogsRelay(Channel apiserver, TunnelSession session, long id, String what, boolean statusFirst) {
      super(apiserver, session, id, what);
      this.statusFirst = statusFirst;
    }

    @Override
    void armTimeout() {
      if (!statusFirst) {
        // KubeEdge's edge sends nothing until there is log text: answer at once, as KubeEdge.
        sendHead();
      }
      super.armTimeout();
    }

    private void sendHead() {
      answered();
      headSent = true;
      HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
      r.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      apiserver.writeAndFlush(r);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg); // nothing more comes for a GET
    }

    @Override
    public void data(byte[] data) {
      apiserver
          .eventLoop()
          .execute(
              () -> {
                if (statusFirst && !headSent && status == 200 && errorText.isEmpty()) {
                  String text = new String(data, StandardCharsets.UTF_8);
                  int code = parseStatus(text);
                  if (code == 200) {
                    sendHead();
                    if (data.length > 3) {
                      write(java.util.Arrays.copyOfRange(data, 3, data.length));
                    }
                  } else {
                    answered();
                    status = code;
                    errorText.append(text.length() > 3 ? text.substring(3).strip() : "");
                  }
                  return;
                }
                if (status != 200) {
                  errorText.append(new String(data, StandardCharsets.UTF_8));
                  return;
                }
                write(data);
              });
    }

    private void write(byte[] data) {
      HttpContent c = new DefaultHttpContent(Unpooled.wrappedBuffer(data));
      apiserver.writeAndFlush(c);
    }

    @Override
    public void edgeDone(String why) {
      apiserver
          .eventLoop()
          .execute(
              () -> {
                LOG.info("cloudstream: {} (connection {}) ended: {}", what, id, why);
                if (!headSent) {
                  answered();
                  int code = status != 200 ? status : 500;
                  String text =
                      status != 200 ? errorText.toString().strip() : "edge node: " + why + "";
                  apiserver
                      .writeAndFlush(errorResponse(code, text, false))
                      .addListener(ChannelFutureListener.CLOSE);
                  return;
                }
                apiserver
                    .writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
                    .addListener(ChannelFutureListener.CLOSE);
              });
    }

    private int parseStatus(String text) {
      if (text.length() >= 3) {
        try {
          int code = Integer.parseInt(text.substring(0, 3));
          if (code >= 200 && code < 600) {
            return code;
          }
        } catch (NumberFormatException e) {
          // fall through
        }
      }
      return 502;
    }
  }
}
