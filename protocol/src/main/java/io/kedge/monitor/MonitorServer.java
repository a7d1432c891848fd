package io.kedge.monitor;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
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
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A process's monitor address (cloudcore: {@code commonConfig.monitorServer.bindAddress}, as
 * KubeEdge's; edgecore: the same key, a Kedge addition): plain HTTP for a scraper and an operator
 * on the machine.
 *
 * <ul>
 *   <li>{@code GET /metrics}: the registry in Prometheus' text format (0.0.4);
 *   <li>{@code GET /healthz}, {@code /livez}: {@code ok} while the process answers;
 *   <li>{@code GET /readyz}: 200 {@code ok} when every named check passes, else 500 with one line
 *       per check ({@code [+]name ok}, {@code [-]name failed: why}), as the kube-apiserver answers;
 *       {@code ?verbose} lists the checks also when all pass, {@code ?exclude=name} leaves one out,
 *       {@code /readyz/NAME} runs one.
 * </ul>
 *
 * Scrapes are written on the server's own event loop; nothing else runs there.
 */
public final class MonitorServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MonitorServer.class);
  private static final int MAX_REQUEST = 8192;

  private final String component;
  private final PrometheusRegistry registry;
  private final HealthChecks checks;
  private final PrometheusTextFormatWriter text = PrometheusTextFormatWriter.create();
  private EventLoopGroup loop;
  private Channel server;

  /**
   * @param component the process, for the log ({@code cloudcore}, {@code edgecore})
   */
  public MonitorServer(String component, PrometheusRegistry registry, HealthChecks checks) {
    this.component = component;
    this.registry = registry;
    this.checks = checks;
  }

  /**
   * {@code host:port} of a bind address ({@code 127.0.0.1:9091}, {@code [::1]:9091}); port 0 takes
   * a free one.
   */
  public static InetSocketAddress parse(String bindAddress) {
    String s = bindAddress.strip();
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      throw new IllegalArgumentException("'" + bindAddress + "' is not IP:port");
    }
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + bindAddress + "' has no valid port");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("'" + bindAddress + "' has no valid port");
    }
    return new InetSocketAddress(host, port);
  }

  /**
   * Listens on {@code bindAddress}; throws {@link IllegalStateException} naming the address when it
   * cannot.
   */
  public synchronized InetSocketAddress start(String bindAddress) {
    if (server != null) {
      throw new IllegalStateException(component + " monitor server already started");
    }
    InetSocketAddress at = parse(bindAddress);
    loop =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory(component + "-monitor", true), NioIoHandler.newFactory());
    ServerBootstrap b =
        new ServerBootstrap()
            .group(loop)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(new ReadTimeoutHandler(60, TimeUnit.SECONDS))
                        .addLast(new HttpServerCodec(4096, MAX_REQUEST, MAX_REQUEST))
                        .addLast(new HttpObjectAggregator(MAX_REQUEST))
                        .addLast(new Handler());
                  }
                });
    try {
      server = b.bind(at).syncUninterruptibly().channel();
    } catch (Exception e) { // a BindException arrives unchecked
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      loop = null;
      throw new IllegalStateException(
          "cannot listen on " + bindAddress + " (commonConfig.monitorServer.bindAddress): " + e, e);
    }
    LOG.info(
        "{}: metrics and health on http://{} (/metrics, /healthz, /readyz)",
        component,
        hostPort(address()));
    return address();
  }

  public synchronized InetSocketAddress address() {
    return server == null ? null : (InetSocketAddress) server.localAddress();
  }

  /** {@code 127.0.0.1:9091} or {@code [::1]:9091}. */
  public static String hostPort(InetSocketAddress a) {
    String h = a.getAddress().getHostAddress();
    return (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + a.getPort();
  }

  @Override
  public synchronized void close() {
    if (server != null) {
      server.close().syncUninterruptibly();
      server = null;
    }
    if (loop != null) {
      loop.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
      loop = null;
    }
  }

  /** The answer to one request (also used by tests without a socket). */
  FullHttpResponse answer(HttpMethod method, String uri) {
    if (!HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method)) {
      return text(HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET and HEAD are served\n");
    }
    QueryStringDecoder q = new QueryStringDecoder(uri);
    String path = q.path();
    boolean verbose = q.parameters().containsKey("verbose");
    switch (path) {
      case "/metrics":
        return metrics();
      case "/healthz":
      case "/livez":
        return text(
            HttpResponseStatus.OK,
            verbose ? "[+]ping ok\n" + path.substring(1) + " check passed\n" : "ok");
      case "/readyz":
        Set<String> excluded = new HashSet<>(q.parameters().getOrDefault("exclude", List.of()));
        return readyz(verbose, excluded);
      default:
        if (path.startsWith("/readyz/")) {
          HealthChecks.Result r = checks.run(path.substring("/readyz/".length()));
          if (r == null) {
            return text(HttpResponseStatus.NOT_FOUND, "no such check\n");
          }
          return r.ok()
              ? text(HttpResponseStatus.OK, "ok")
              : text(HttpResponseStatus.INTERNAL_SERVER_ERROR, line(r) + "\n");
        }
        return text(HttpResponseStatus.NOT_FOUND, "404 page not found\n");
    }
  }

  private FullHttpResponse readyz(boolean verbose, Set<String> excluded) {
    StringBuilder sb = new StringBuilder();
    boolean ok = true;
    for (HealthChecks.Result r : checks.run()) {
      if (excluded.contains(r.name())) {
        sb.append("[+]").append(r.name()).append(" excluded: ok\n");
        continue;
      }
      ok &= r.ok();
      sb.append(line(r)).append('\n');
    }
    if (ok) {
      return text(
          HttpResponseStatus.OK, verbose ? sb.append("readyz check passed\n").toString() : "ok");
    }
    return text(
        HttpResponseStatus.INTERNAL_SERVER_ERROR, sb.append("readyz check failed\n").toString());
  }

  private static String line(HealthChecks.Result r) {
    return r.ok() ? "[+]" + r.name() + " ok" : "[-]" + r.name() + " failed: " + r.problem();
  }

  private FullHttpResponse metrics() {
    ByteBuf buf = Unpooled.buffer(16 * 1024);
    try (ByteBufOutputStream out = new ByteBufOutputStream(buf)) {
      text.write(out, registry.scrape());
    } catch (IOException | RuntimeException e) {
      buf.release();
      LOG.warn("{}: writing metrics failed: {}", component, e.toString());
      return text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "writing metrics failed: " + e + "\n");
    }
    FullHttpResponse r =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, buf);
    r.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, PrometheusTextFormatWriter.CONTENT_TYPE)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, buf.readableBytes());
    return r;
  }

  private static FullHttpResponse text(HttpResponseStatus status, String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    FullHttpResponse r =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(b));
    r.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
        .set("X-Content-Type-Options", "nosniff")
        .setInt(HttpHeaderNames.CONTENT_LENGTH, b.length);
    return r;
  }

  private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      FullHttpResponse res;
      if (!req.decoderResult().isSuccess()) {
        res = text(HttpResponseStatus.BAD_REQUEST, "malformed request\n");
        keepAlive = false;
      } else {
        res = answer(req.method(), req.uri());
      }
      if (HttpMethod.HEAD.equals(req.method())) {
        int length = res.content().readableBytes();
        FullHttpResponse head = res.replace(Unpooled.EMPTY_BUFFER);
        res.release();
        res = head;
        res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, length);
      }
      if (!keepAlive) {
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
      } else {
        ctx.writeAndFlush(res);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
