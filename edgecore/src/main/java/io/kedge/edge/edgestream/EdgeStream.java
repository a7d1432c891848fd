package io.kedge.edge.edgestream;

import io.kedge.edge.edged.ContainerStreams;
import io.kedge.edge.edged.PodLogs;
import io.kedge.edge.hub.EdgeCredentials;
import io.kedge.edge.hub.JdkTlsContext;
import io.kedge.protocol.config.EdgeCoreConfig;
import io.kedge.protocol.stream.StreamRequest;
import io.kedge.protocol.stream.TunnelMessage;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * KubeEdge's edgeStream: a WebSocket to cloudcore's tunnel server ({@code
 * wss://<modules.edgeStream.server>/v1/kubeedge/connect}) with the node's hub certificate, over
 * which the apiserver's logs, exec and attach requests for this node arrive and are served by
 * Edged. The messages are KubeEdge's, so this edge works with KubeEdge's cloudcore too. Reconnects
 * every 2 s while the cloud is away, pings every 5 s as KubeEdge's edge does.
 */
public final class EdgeStream implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EdgeStream.class);
  static final String PATH = "/v1/kubeedge/connect";
  private static final int MAX_MESSAGE = 1 << 20;

  private final EdgeCoreConfig.EdgeStreamConfig config;
  private final String node;
  private final Supplier<Optional<EdgeCredentials>> credentials;
  private final Supplier<Optional<String>> nodeIp;
  private final PodLogs logs;
  private final EventLoopGroup nio = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final EventLoopGroup local =
      new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
  private final ExecutorService io;
  private final KubeletStreamServer kubelet;
  private volatile boolean closed;
  private volatile Channel tunnel;
  private volatile String lastError = "";

  /** {@code modules.edgeStream.server}: one address, or several comma-separated (Kedge). */
  private final List<String> servers;

  /** Which of {@link #servers} the next attempt goes to. */
  private final AtomicInteger next = new AtomicInteger();

  public EdgeStream(
      EdgeCoreConfig.EdgeStreamConfig config,
      String node,
      Supplier<Optional<EdgeCredentials>> credentials,
      Supplier<Optional<String>> nodeIp,
      PodLogs logs,
      ContainerStreams streams) {
    this.config = config;
    this.servers = servers(config.server());
    this.node = node;
    this.credentials = credentials;
    this.nodeIp = nodeIp;
    this.logs = logs;
    AtomicInteger n = new AtomicInteger();
    this.io =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "edgestream-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.kubelet = new KubeletStreamServer(node, streams, local, nio, io);
  }

  public void start() {
    kubelet.start();
    nio.schedule(this::connect, 0, TimeUnit.SECONDS);
  }

  public boolean connected() {
    Channel t = tunnel;
    return t != null && t.isActive();
  }

  /**
   * The addresses of {@code modules.edgeStream.server}: several cloudcores may each serve tunnels
   * (each points the kubelet port of the nodes whose tunnel it holds at its own stream server), so
   * a tunnel lost with its cloudcore moves to the next one.
   */
  static List<String> servers(String setting) {
    List<String> out = new java.util.ArrayList<>();
    for (String s : (setting == null ? "" : setting).split(",")) {
      if (!s.isBlank() && !out.contains(s.strip())) {
        out.add(s.strip());
      }
    }
    return out.isEmpty() ? List.of("") : List.copyOf(out); // unset: every attempt says so
  }

  /** The server an attempt that starts now goes to; a failed or closed tunnel moves on. */
  String server() {
    return servers.get(Math.floorMod(next.get(), servers.size()));
  }

  private void retry(String failed) {
    if (servers.size() > 1 && server().equals(failed)) {
      next.incrementAndGet();
    }
    if (!closed) {
      nio.schedule(this::connect, 2, TimeUnit.SECONDS);
    }
  }

  private void connect() {
    if (closed) {
      return;
    }
    Optional<EdgeCredentials> c = credentials.get();
    String server = server();
    if (server.isEmpty()) {
      problem("modules.edgeStream.server is not set: no tunnel for logs, exec and attach");
      return;
    }
    if (c.isEmpty()) {
      retry(""); // the hub has not obtained the node's certificate yet
      return;
    }
    URI uri = URI.create("wss://" + server + PATH);
    String host = uri.getHost();
    int port = uri.getPort() < 0 ? 10004 : uri.getPort();
    HttpHeaders headers = new DefaultHttpHeaders();
    headers.set("SessionHostNameOverride", node);
    headers.set("SessionInternalIP", nodeIp.get().orElse(""));
    headers.set("X-Kedge-Stream", "1");
    JdkTlsContext tls = JdkTlsContext.client(c.get().ca(), c.get().key(), c.get().certificate());
    new Bootstrap()
        .group(nio)
        .channel(NioSocketChannel.class)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, Math.max(1, config.handshakeTimeout()) * 1000)
        .handler(
            new ChannelInitializer<SocketChannel>() {
              @Override
              protected void initChannel(SocketChannel ch) {
                ch.pipeline()
                    .addLast("ssl", tls.newHandler(ch.alloc(), host, port))
                    .addLast("idle", new IdleStateHandler(30, 5, 0, TimeUnit.SECONDS))
                    .addLast("http", new HttpClientCodec())
                    .addLast("aggregator", new HttpObjectAggregator(8192))
                    .addLast(
                        "ws",
                        new WebSocketClientProtocolHandler(
                            WebSocketClientProtocolConfig.newBuilder()
                                .webSocketUri(uri)
                                .customHeaders(headers)
                                .maxFramePayloadLength(MAX_MESSAGE)
                                .withUTF8Validator(false)
                                .handshakeTimeoutMillis(
                                    Math.max(1, config.handshakeTimeout()) * 1000L)
                                .build()))
                    .addLast("ws-aggregator", new WebSocketFrameAggregator(MAX_MESSAGE))
                    .addLast("tunnel", new Tunnel(server));
              }
            })
        .connect(host, port)
        .addListener(
            (ChannelFutureListener)
                f -> {
                  if (!f.isSuccess()) {
                    problem("cannot connect to " + server + ": " + f.cause());
                    retry(server);
                    return;
                  }
                  f.channel().closeFuture().addListener(x -> retry(server));
                });
  }

  private void problem(String message) {
    if (!message.equals(lastError)) {
      LOG.warn("edgestream: {}", message);
      lastError = message;
    }
  }

  /** The tunnel's messages, and the local connections they belong to. */
  private final class Tunnel extends SimpleChannelInboundHandler<Object> {
    private final Map<Long, Object> connections = new ConcurrentHashMap<>();
    private final String server;
    private Channel ch;

    Tunnel(String server) {
      this.server = server;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      ch = ctx.channel();
    }

    void send(TunnelMessage m) {
      ch.writeAndFlush(new TextWebSocketFrame(Unpooled.wrappedBuffer(m.encode())));
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
        tunnel = ctx.channel();
        lastError = "";
        LOG.info("edgestream: tunnel to {} connected", server);
      } else if (evt
          == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_TIMEOUT) {
        problem("the tunnel handshake with " + server + " timed out");
        ctx.close();
      } else if (evt instanceof IdleStateEvent idle) {
        if (idle.state() == IdleState.WRITER_IDLE) {
          ctx.writeAndFlush(
              new PingWebSocketFrame(Unpooled.copiedBuffer("ping you", StandardCharsets.US_ASCII)));
        } else if (idle.state() == IdleState.READER_IDLE) {
          problem("the tunnel to " + server + " is silent; reconnecting");
          ctx.close();
        }
      } else {
        ctx.fireUserEventTriggered(evt);
      }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof TextWebSocketFrame || msg instanceof BinaryWebSocketFrame)) {
        return;
      }
      TunnelMessage m;
      try {
        m = TunnelMessage.decode(ByteBufUtil.getBytes(((WebSocketFrame) msg).content()));
      } catch (IllegalArgumentException e) {
        LOG.warn("edgestream: bad message from the cloud: {}", e.getMessage());
        return;
      }
      switch (m.type()) {
        case CLOSE_CONNECT -> {
          problem("the cloud closed the tunnel: " + new String(m.data(), StandardCharsets.UTF_8));
          ctx.close();
        }
        case LOGS_CONNECT -> logs(m);
        case EXEC_CONNECT, ATTACH_CONNECT -> stream(m);
        case METRIC_CONNECT -> {
          LOG.info(
              "edgestream: metrics requests are not served; refusing connection {}", m.connectId());
          send(TunnelMessage.remove(m.connectId()));
        }
        case DATA -> {
          Object c = connections.get(m.connectId());
          if (c instanceof Channel local) {
            local.writeAndFlush(Unpooled.wrappedBuffer(m.data()));
          }
        }
        case REMOVE_CONNECT -> {
          Object c = connections.remove(m.connectId());
          if (c instanceof Channel local) {
            local.close();
          } else if (c instanceof LogsConnection l) {
            l.remove();
          }
        }
        default -> {}
      }
    }

    private void logs(TunnelMessage m) {
      StreamRequest r;
      try {
        r = StreamRequest.fromJson(m.data());
      } catch (IllegalArgumentException e) {
        LOG.warn("edgestream: bad logs request: {}", e.getMessage());
        send(TunnelMessage.remove(m.connectId()));
        return;
      }
      if (logs == null) {
        send(
            TunnelMessage.data(
                m.connectId(),
                "500edged is not enabled on this node\n".getBytes(StandardCharsets.UTF_8)));
        send(TunnelMessage.remove(m.connectId()));
        return;
      }
      LogsConnection c = new LogsConnection(m.connectId(), r, logs, this::send);
      connections.put(m.connectId(), c);
      io.execute(
          () -> {
            try {
              c.run();
            } finally {
              connections.remove(m.connectId(), c);
            }
          });
    }

    /** exec and attach: the request to Edged's local streaming API, then bytes both ways. */
    private void stream(TunnelMessage m) {
      StreamRequest r;
      try {
        r = StreamRequest.fromJson(m.data());
      } catch (IllegalArgumentException e) {
        LOG.warn("edgestream: bad stream request: {}", e.getMessage());
        send(TunnelMessage.remove(m.connectId()));
        return;
      }
      long id = m.connectId();
      Channel tunnelChannel = ch;
      new Bootstrap()
          .group(local)
          .channel(LocalChannel.class)
          .handler(
              new ChannelInitializer<LocalChannel>() {
                @Override
                protected void initChannel(LocalChannel lc) {
                  lc.pipeline()
                      .addLast(
                          new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext c, Object o) {
                              if (o instanceof ByteBuf b) {
                                try {
                                  if (b.isReadable()) {
                                    send(TunnelMessage.data(id, ByteBufUtil.getBytes(b)));
                                  }
                                } finally {
                                  b.release();
                                }
                              } else {
                                ReferenceCountUtil.release(o);
                              }
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext c) {
                              if (connections.remove(id) != null && tunnelChannel.isActive()) {
                                send(TunnelMessage.remove(id));
                              }
                            }
                          });
                }
              })
          .connect(kubelet.address())
          .addListener(
              (ChannelFutureListener)
                  f -> {
                    if (!f.isSuccess()) {
                      send(TunnelMessage.remove(id));
                      return;
                    }
                    connections.put(id, f.channel());
                    f.channel().writeAndFlush(requestHead(r));
                  });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (tunnel == ctx.channel()) {
        LOG.info("edgestream: tunnel to {} closed", server);
      }
      for (Object c : connections.values()) {
        if (c instanceof Channel local) {
          local.close();
        } else if (c instanceof LogsConnection l) {
          l.remove();
        }
      }
      connections.clear();
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      problem("tunnel to " + server + ": " + cause.getMessage());
      ctx.close();
    }
  }

  /** The apiserver's request as HTTP/1.1 bytes, for Edged's local streaming API. */
  static ByteBuf requestHead(StreamRequest r) {
    StringBuilder b = new StringBuilder();
    b.append(r.method() == null ? "GET" : r.method())
        .append(' ')
        .append(r.path())
        .append(r.rawQuery().isEmpty() ? "" : "?" + r.rawQuery())
        .append(" HTTP/1.1\r\n");
    boolean host = false;
    for (Map.Entry<String, List<String>> h : r.header().entrySet()) {
      if (h.getKey().isEmpty() || h.getKey().matches(".*[\\r\\n:].*")) {
        continue;
      }
      host |= h.getKey().equalsIgnoreCase("Host");
      for (String v : h.getValue()) {
        b.append(h.getKey()).append(": ").append(v.replaceAll("[\\r\\n]", " ")).append("\r\n");
      }
    }
    if (!host) {
      b.append("Host: 127.0.0.1:10350\r\n");
    }
    b.append("\r\n");
    return Unpooled.copiedBuffer(b.toString(), StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() {
    closed = true;
    Channel t = tunnel;
    if (t != null) {
      t.close();
    }
    kubelet.close();
    io.shutdownNow();
    nio.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    local.shutdownGracefully(0, 2, TimeUnit.SECONDS);
  }
}
