package io.kedge.edge.edgestream;

import io.kedge.edge.edged.ContainerStreams;
import io.kedge.protocol.Json;
import io.kedge.protocol.status.KubeStatus;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyVersion;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Edged's kubelet streaming API ({@code /exec/…}, {@code /attach/…}) inside edgecore, on an
 * in-process address that edgeStream connects to for each request from the tunnel — what a KubeEdge
 * edge reaches at {@code 127.0.0.1:10350}, without a port. A request is upgraded to SPDY/3.1 and
 * served by {@link RemoteCommandHandler}, or, when the runtime has a streaming server of its own
 * (CRI), proxied there byte for byte as the kubelet does.
 */
final class KubeletStreamServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KubeletStreamServer.class);

  private final LocalAddress address;
  private final ContainerStreams streams;
  private final EventLoopGroup local;
  private final EventLoopGroup nio;
  private final ExecutorService io;
  private Channel server;

  KubeletStreamServer(
      String name,
      ContainerStreams streams,
      EventLoopGroup local,
      EventLoopGroup nio,
      ExecutorService io) {
    this.address = new LocalAddress("kedge-kubelet-" + name + "-" + System.nanoTime());
    this.streams = streams;
    this.local = local;
    this.nio = nio;
    this.io = io;
  }

  LocalAddress address() {
    return address;
  }

  void start() {
    server =
        new ServerBootstrap()
            .group(local)
            .channel(LocalServerChannel.class)
            .childHandler(
                new ChannelInitializer<LocalChannel>() {
                  @Override
                  protected void initChannel(LocalChannel ch) {
                    ch.pipeline()
                        .addLast("http", new HttpServerCodec(8192, 16384, 8192))
                        .addLast("request", new RequestHandler());
                  }
                })
            .bind(address)
            .syncUninterruptibly()
            .channel();
  }

  @Override
  public void close() {
    if (server != null) {
      server.close().syncUninterruptibly();
    }
  }

  /** A parsed {@code /exec|attach/{ns}/{pod}[/{uid}]/{container}} request. */
  record Target(String kind, String namespace, String pod, String container) {
    static Target parse(String path) {
      String[] p = path.split("/", -1);
      if (p.length < 5 || p.length > 6 || !(p[1].equals("exec") || p[1].equals("attach"))) {
        return null;
      }
      for (int i = 2; i < p.length; i++) {
        if (p[i].isEmpty()) {
          return null;
        }
      }
      return new Target(p[1], p[2], p[3], p[p.length - 1]);
    }

    String describe() {
      return kind + " in " + namespace + "/" + pod + "/" + container;
    }
  }

  static boolean flag(Map<String, List<String>> q, String name) {
    List<String> v = q.get(name);
    return v != null && !v.isEmpty() && (v.get(0).equals("1") || v.get(0).equalsIgnoreCase("true"));
  }

  private final class RequestHandler extends ChannelInboundHandlerAdapter {
    private boolean busy;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof HttpRequest req) || busy) {
        ReferenceCountUtil.release(msg);
        return;
      }
      ReferenceCountUtil.release(msg);
      busy = true;
      QueryStringDecoder q = new QueryStringDecoder(req.uri());
      Target t = Target.parse(q.path());
      if (t == null) {
        refuse(ctx, 404, "the kubelet streaming API serves exec and attach only");
        return;
      }
      String upgrade = req.headers().get(HttpHeaderNames.UPGRADE, "");
      if (upgrade.equalsIgnoreCase("websocket")) {
        // kubectl (1.29 and later) tries WebSocket (v5.channel.k8s.io) first and falls back to
        // SPDY when the upgrade is refused, as it is by a kubelet of the apiserver's version.
        refuse(
            ctx,
            400,
            "WebSocket streaming is not supported by this node; use SPDY/3.1 ("
                + String.join(", ", RemoteCommand.SUPPORTED)
                + ")");
        return;
      }
      if (!upgrade.toLowerCase(java.util.Locale.ROOT).startsWith("spdy/3.1")) {
        refuse(ctx, 400, "unable to upgrade: missing upgrade headers in request");
        return;
      }
      String version = RemoteCommand.negotiate(req.headers().getAll(RemoteCommand.PROTOCOL_HEADER));
      if (version == null) {
        refuse(
            ctx,
            403,
            "unable to upgrade: unable to negotiate protocol: client supports "
                + req.headers().getAll(RemoteCommand.PROTOCOL_HEADER)
                + ", server accepts "
                + RemoteCommand.SUPPORTED);
        return;
      }
      Map<String, List<String>> params = q.parameters();
      boolean tty = flag(params, "tty");
      ContainerStreams.StreamOptions o =
          new ContainerStreams.StreamOptions(
              flag(params, "stdin") || flag(params, "input"),
              flag(params, "stdout") || flag(params, "output"),
              (flag(params, "stderr") || flag(params, "error")) && !tty,
              tty);
      if (!o.stdin() && !o.stdout() && !o.stderr()) {
        refuse(ctx, 400, "you must specify at least 1 of stdin, stdout, stderr");
        return;
      }
      List<String> command = params.getOrDefault("command", List.of());
      ctx.channel().config().setAutoRead(false);
      io.execute(() -> open(ctx, req, t, o, command, version));
    }

    private void open(
        ChannelHandlerContext ctx,
        HttpRequest req,
        Target t,
        ContainerStreams.StreamOptions o,
        List<String> command,
        String version) {
      ContainerStreams.StreamTarget target;
      try {
        target =
            t.kind().equals("exec")
                ? streams.exec(t.namespace(), t.pod(), t.container(), command, o)
                : streams.attach(t.namespace(), t.pod(), t.container(), o);
      } catch (ContainerStreams.StreamException e) {
        LOG.info("edgestream: {} refused: {}", t.describe(), e.getMessage());
        refuse(ctx, e.code(), e.getMessage());
        return;
      } catch (RuntimeException e) {
        LOG.warn("edgestream: {} failed: {}", t.describe(), e.toString());
        refuse(ctx, 500, t.kind() + " failed: " + e.getMessage());
        return;
      }
      if (target instanceof ContainerStreams.Url url) {
        proxy(ctx, req, URI.create(url.url()), t);
        return;
      }
      ContainerStreams.ContainerSession session = ((ContainerStreams.Session) target).session();
      ctx.executor()
          .execute(
              () -> {
                if (!ctx.channel().isActive()) {
                  io.execute(session::close);
                  return;
                }
                // SPDY takes over before the 101 leaves: the client's first frames may follow
                // at once, and a local channel delivers them even with auto-read off (a read was
                // pending), so they must not meet the HTTP decoder.
                ChannelPipeline pipeline = ctx.pipeline();
                pipeline.remove("http");
                pipeline.replace(
                    this,
                    "spdy-session",
                    new RemoteCommandHandler(
                        version, o, () -> session, io, t.describe() + " (" + version + ")"));
                pipeline.addBefore(
                    "spdy-session", "spdy", new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
                String head =
                    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
                        + RemoteCommand.PROTOCOL_HEADER
                        + ": "
                        + version
                        + "\r\n\r\n";
                // written below the SPDY codec, straight to the connection
                pipeline
                    .context("spdy")
                    .writeAndFlush(Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1));
                LOG.info("edgestream: {} upgraded to SPDY/3.1 ({})", t.describe(), version);
                ctx.channel().config().setAutoRead(true);
              });
    }

    /** The runtime's streaming server answers the upgrade and speaks SPDY itself. */
    private void proxy(ChannelHandlerContext ctx, HttpRequest req, URI url, Target t) {
      Channel inbound = ctx.channel();
      new Bootstrap()
          .group(nio)
          .channel(NioSocketChannel.class)
          .handler(
              new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                  ch.pipeline().addLast(new Pipe(inbound));
                }
              })
          .connect(url.getHost(), url.getPort() < 0 ? 80 : url.getPort())
          .addListener(
              f -> {
                if (!f.isSuccess()) {
                  refuse(ctx, 500, "cannot reach the runtime's streaming server: " + f.cause());
                  return;
                }
                Channel outbound = ((io.netty.channel.ChannelFuture) f).channel();
                StringBuilder head = new StringBuilder();
                head.append(req.method().name())
                    .append(' ')
                    .append(url.getRawPath())
                    .append(url.getRawQuery() == null ? "" : "?" + url.getRawQuery())
                    .append(" HTTP/1.1\r\nHost: ")
                    .append(url.getHost())
                    .append(':')
                    .append(url.getPort())
                    .append("\r\n");
                for (Map.Entry<String, String> h : req.headers()) {
                  String n = h.getKey();
                  if (n.equalsIgnoreCase("Connection")
                      || n.equalsIgnoreCase("Upgrade")
                      || n.equalsIgnoreCase(RemoteCommand.PROTOCOL_HEADER)
                      || n.equalsIgnoreCase("User-Agent")) {
                    head.append(n).append(": ").append(h.getValue()).append("\r\n");
                  }
                }
                head.append("Content-Length: 0\r\n\r\n");
                ctx.executor()
                    .execute(
                        () -> {
                          // bytes only once the pipe is in place: the answer goes through it
                          ctx.pipeline().remove("http");
                          ctx.pipeline().replace(this, "pipe", new Pipe(outbound));
                          outbound.writeAndFlush(
                              Unpooled.copiedBuffer(head.toString(), StandardCharsets.ISO_8859_1));
                          ctx.channel().config().setAutoRead(true);
                          LOG.info(
                              "edgestream: {} proxied to the runtime's streaming server",
                              t.describe());
                        });
              });
    }

    private void refuse(ChannelHandlerContext ctx, int code, String message) {
      byte[] body = Json.bytes(KubeStatus.failure(code, message));
      FullHttpResponse r =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code), Unpooled.wrappedBuffer(body));
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
      r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
      r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.channel()
          .eventLoop()
          .execute(() -> ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE));
    }
  }

  /** Bytes from one channel to another; either end's close closes the other. */
  static final class Pipe extends ChannelInboundHandlerAdapter {
    private final Channel to;

    Pipe(Channel to) {
      this.to = to;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof ByteBuf b) {
        to.writeAndFlush(b);
      } else {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      to.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
