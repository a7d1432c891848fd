package io.kedge.testkit.edge;

import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageCodec;
import io.kedge.protocol.message.MessageFormatException;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.Sources;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakeException;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import javax.net.ssl.SSLException;
import tools.jackson.databind.JsonNode;

/**
 * A protocol-level edge for tests and load generation: a Netty WebSocket client over mutual TLS
 * that speaks KubeEdge's cloud↔edge protocol — connects with a node name and certificate, sends and
 * receives {@link Message}s, waits for messages, answers ACK-required ones when asked to, and makes
 * requests correlated by {@code parent_msg_id}. It does only what it is told: it is the edge of a
 * protocol test, not an edgecore.
 */
public final class SimulatedEdge implements AutoCloseable {

  /**
   * Which cloud→edge messages a KubeEdge v1.17 edge acknowledges (as the recorded session shows).
   */
  public static final Predicate<Message> KUBEEDGE_ACKS =
      m -> {
        String op = m.operation();
        if (Operations.INSERT.equals(op)
            || Operations.UPDATE.equals(op)
            || Operations.DELETE.equals(op)) {
          return true;
        }
        if (!Operations.RESPONSE.equals(op)
            || !Sources.EDGE_CONTROLLER.equals(m.source())
            || m.isAck()) {
          return false;
        }
        String[] parts = m.resource().split("/");
        String type = parts.length > 1 ? parts[1] : "";
        return switch (type) {
          case "node",
              "lease",
              "configmap",
              "secret",
              "serviceaccounttoken",
              "certificatesigningrequest",
              "persistentvolume",
              "persistentvolumeclaim",
              "volumeattachment" ->
              true;
          default -> false;
        };
      };

  /**
   * How to connect.
   *
   * @param path request path (KubeEdge: {@code /<projectID>/<node>/events}); null for that default
   * @param nodeIdHeader value of {@code node_id}; null to leave the header out
   * @param connectionUse value of {@code ConnectionUse}; null to leave the header out
   * @param extraHeaders more upgrade headers
   * @param ackPolicy which received messages are acknowledged automatically; null for none
   * @param verifyHostname check the server certificate's SANs against the host (as KubeEdge does)
   * @param connectTimeout TCP + TLS + upgrade
   * @param maxMessageBytes largest message accepted from the cloud
   * @param group event loops to run on (shared by many edges); null for a private one
   * @param keepHistory keep every received message (for {@link #await}); off for load tests
   */
  public record Options(
      String path,
      String nodeIdHeader,
      String connectionUse,
      Map<String, String> extraHeaders,
      Predicate<Message> ackPolicy,
      boolean verifyHostname,
      Duration connectTimeout,
      int maxMessageBytes,
      EventLoopGroup group,
      boolean keepHistory) {

    public static Options defaults(String node) {
      return new Options(
          null,
          node,
          "msg",
          Map.of(),
          KUBEEDGE_ACKS,
          true,
          Duration.ofSeconds(20),
          64 << 20,
          null,
          true);
    }

    public Options withNodeIdHeader(String v) {
      return new Options(
          path,
          v,
          connectionUse,
          extraHeaders,
          ackPolicy,
          verifyHostname,
          connectTimeout,
          maxMessageBytes,
          group,
          keepHistory);
    }

    public Options withConnectionUse(String v) {
      return new Options(
          path,
          nodeIdHeader,
          v,
          extraHeaders,
          ackPolicy,
          verifyHostname,
          connectTimeout,
          maxMessageBytes,
          group,
          keepHistory);
    }

    public Options withPath(String v) {
      return new Options(
          v,
          nodeIdHeader,
          connectionUse,
          extraHeaders,
          ackPolicy,
          verifyHostname,
          connectTimeout,
          maxMessageBytes,
          group,
          keepHistory);
    }

    public Options withExtraHeaders(Map<String, String> v) {
      return new Options(
          path,
          nodeIdHeader,
          connectionUse,
          Map.copyOf(v),
          ackPolicy,
          verifyHostname,
          connectTimeout,
          maxMessageBytes,
          group,
          keepHistory);
    }

    public Options withAckPolicy(Predicate<Message> v) {
      return new Options(
          path,
          nodeIdHeader,
          connectionUse,
          extraHeaders,
          v,
          verifyHostname,
          connectTimeout,
          maxMessageBytes,
          group,
          keepHistory);
    }

    public Options withVerifyHostname(boolean v) {
      return new Options(
          path,
          nodeIdHeader,
          connectionUse,
          extraHeaders,
          ackPolicy,
          v,
          connectTimeout,
          maxMessageBytes,
          group,
          keepHistory);
    }

    public Options withConnectTimeout(Duration v) {
      return new Options(
          path,
          nodeIdHeader,
          connectionUse,
          extraHeaders,
          ackPolicy,
          verifyHostname,
          v,
          maxMessageBytes,
          group,
          keepHistory);
    }

    public Options withGroup(EventLoopGroup v) {
      return new Options(
          path,
          nodeIdHeader,
          connectionUse,
          extraHeaders,
          ackPolicy,
          verifyHostname,
          connectTimeout,
          maxMessageBytes,
          v,
          keepHistory);
    }

    public Options withKeepHistory(boolean v) {
      return new Options(
          path,
          nodeIdHeader,
          connectionUse,
          extraHeaders,
          ackPolicy,
          verifyHostname,
          connectTimeout,
          maxMessageBytes,
          group,
          v);
    }
  }

  /** The connection was not established: TLS, HTTP status of a refused upgrade, or I/O. */
  public static final class ConnectException extends RuntimeException {
    private final int httpStatus;

    ConnectException(String message, int httpStatus, Throwable cause) {
      super(message, cause);
      this.httpStatus = httpStatus;
    }

    /** The HTTP status the server refused the upgrade with; 0 when it did not answer one. */
    public int httpStatus() {
      return httpStatus;
    }
  }

  private final String node;
  private final Channel channel;
  private final EventLoopGroup ownGroup;
  private final Options options;
  private final List<Message> history = new ArrayList<>();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private volatile int received;
  private volatile String closeReason;

  private SimulatedEdge(String node, Channel channel, EventLoopGroup ownGroup, Options options) {
    this.node = node;
    this.channel = channel;
    this.ownGroup = ownGroup;
    this.options = options;
  }

  /** Connects with the default options for {@code id}'s node. */
  public static SimulatedEdge connect(URI server, EdgeIdentity id) {
    return connect(server, id, Options.defaults(id.node()));
  }

  /**
   * Connects to {@code server} ({@code wss://host:port}) and completes the WebSocket upgrade.
   *
   * @throws ConnectException when TLS, TCP or the upgrade fails
   */
  public static SimulatedEdge connect(URI server, EdgeIdentity id, Options o) {
    try {
      return connectAsync(server, id, o)
          .get(o.connectTimeout().toMillis() + 5000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ConnectException ce) {
        throw ce;
      }
      throw new ConnectException("cannot connect: " + e.getCause(), 0, e.getCause());
    } catch (TimeoutException e) {
      throw new ConnectException("no connection within " + o.connectTimeout(), 0, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConnectException("interrupted", 0, e);
    }
  }

  /** As {@link #connect(URI, EdgeIdentity, Options)}, without waiting (for many edges at once). */
  public static CompletableFuture<SimulatedEdge> connectAsync(
      URI server, EdgeIdentity id, Options o) {
    Objects.requireNonNull(server, "server");
    String host = server.getHost();
    int port = server.getPort() > 0 ? server.getPort() : 10000;
    SslContext ssl = clientContext(id, o.verifyHostname());
    String path =
        o.path() != null ? o.path() : "/e632aba927ea4ac2b575ec1603d56f10/" + id.node() + "/events";
    HttpHeaders headers = new DefaultHttpHeaders();
    if (o.nodeIdHeader() != null) {
      headers.set("node_id", o.nodeIdHeader());
    }
    headers.set("project_id", "e632aba927ea4ac2b575ec1603d56f10");
    if (o.connectionUse() != null) {
      headers.set("ConnectionUse", o.connectionUse());
    }
    o.extraHeaders().forEach(headers::set);
    WebSocketClientProtocolConfig ws =
        WebSocketClientProtocolConfig.newBuilder()
            .webSocketUri(URI.create("wss://" + host + ":" + port + path))
            .customHeaders(headers)
            .maxFramePayloadLength(o.maxMessageBytes())
            .handleCloseFrames(false)
            .dropPongFrames(true)
            .generateOriginHeader(false)
            .handshakeTimeoutMillis(o.connectTimeout().toMillis())
            .build();
    EventLoopGroup own =
        o.group() == null ? new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory()) : null;
    EventLoopGroup group = own != null ? own : o.group();
    CompletableFuture<SimulatedEdge> result = new CompletableFuture<>();
    SimulatedEdge[] holder = new SimulatedEdge[1];
    Bootstrap b =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) o.connectTimeout().toMillis())
            .option(ChannelOption.TCP_NODELAY, true)
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast("ssl", ssl.newHandler(ch.alloc(), host, port))
                        .addLast("http", new HttpClientCodec())
                        .addLast("http-aggregator", new HttpObjectAggregator(65536))
                        .addLast("ws", new WebSocketClientProtocolHandler(ws))
                        .addLast("ws-aggregator", new WebSocketFrameAggregator(o.maxMessageBytes()))
                        .addLast(
                            "edge",
                            new ChannelInboundHandlerAdapter() {
                              @Override
                              public void userEventTriggered(ChannelHandlerContext ctx, Object evt)
                                  throws Exception {
                                if (evt
                                    == WebSocketClientProtocolHandler.ClientHandshakeStateEvent
                                        .HANDSHAKE_COMPLETE) {
                                  SimulatedEdge e =
                                      new SimulatedEdge(id.node(), ctx.channel(), own, o);
                                  holder[0] = e;
                                  result.complete(e);
                                } else if (evt
                                    == WebSocketClientProtocolHandler.ClientHandshakeStateEvent
                                        .HANDSHAKE_TIMEOUT) {
                                  result.completeExceptionally(
                                      new ConnectException("WebSocket upgrade timed out", 0, null));
                                  ctx.close();
                                } else if (evt
                                        instanceof
                                        io.netty.handler.ssl.SslHandshakeCompletionEvent s
                                    && !s.isSuccess()) {
                                  result.completeExceptionally(
                                      new ConnectException(
                                          "TLS handshake failed: " + s.cause(), 0, s.cause()));
                                }
                                super.userEventTriggered(ctx, evt);
                              }

                              @Override
                              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                SimulatedEdge e = holder[0];
                                try {
                                  if (e != null) {
                                    e.onFrame(msg);
                                  }
                                } finally {
                                  ReferenceCountUtil.release(msg);
                                }
                              }

                              @Override
                              public void exceptionCaught(ChannelHandlerContext ctx, Throwable t) {
                                if (t instanceof WebSocketClientHandshakeException h) {
                                  int status =
                                      h.response() == null ? 0 : h.response().status().code();
                                  result.completeExceptionally(
                                      new ConnectException(
                                          "upgrade refused: " + h.getMessage(), status, h));
                                } else {
                                  result.completeExceptionally(
                                      new ConnectException("connection failed: " + t, 0, t));
                                }
                                SimulatedEdge e = holder[0];
                                if (e != null && e.closeReason == null) {
                                  e.closeReason = t.toString();
                                }
                                ctx.close();
                              }

                              @Override
                              public void channelInactive(ChannelHandlerContext ctx) {
                                result.completeExceptionally(
                                    new ConnectException(
                                        "connection closed by the server", 0, null));
                                SimulatedEdge e = holder[0];
                                if (e != null) {
                                  e.closed.complete(null);
                                  synchronized (e.history) {
                                    e.history.notifyAll();
                                  }
                                }
                              }
                            });
                  }
                });
    ChannelFuture cf = b.connect(host, port);
    cf.addListener(
        f -> {
          if (!f.isSuccess()) {
            result.completeExceptionally(
                new ConnectException(
                    "cannot connect to " + server + ": " + f.cause(), 0, f.cause()));
          }
        });
    result.whenComplete(
        (e, err) -> {
          if (err != null) {
            cf.channel().close();
            if (own != null) {
              own.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
          }
        });
    return result;
  }

  private static SslContext clientContext(EdgeIdentity id, boolean verifyHostname) {
    try {
      return SslContextBuilder.forClient()
          .sslProvider(SslProvider.JDK)
          .keyManager(id.key(), id.certificate())
          .trustManager(id.trusted())
          .protocols("TLSv1.3", "TLSv1.2")
          .endpointIdentificationAlgorithm(verifyHostname ? "HTTPS" : null)
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException(e);
    }
  }

  private void onFrame(Object msg) {
    if (msg instanceof CloseWebSocketFrame c) {
      closeReason = "close frame " + c.statusCode() + " " + c.reasonText();
      channel.close();
      return;
    }
    if (!(msg instanceof TextWebSocketFrame) && !(msg instanceof BinaryWebSocketFrame)) {
      return;
    }
    byte[] bytes = ByteBufUtil.getBytes(((WebSocketFrame) msg).content());
    Message m;
    try {
      m = MessageCodec.decode(bytes);
    } catch (MessageFormatException e) {
      closeReason = "cloud sent a frame that is not a message: " + e.getMessage();
      channel.close();
      return;
    }
    received++;
    if (options.keepHistory()) {
      synchronized (history) {
        history.add(m);
        history.notifyAll();
      }
    }
    Predicate<Message> acks = options.ackPolicy();
    if (acks != null && acks.test(m)) {
      send(m.ack());
    }
  }

  // ---------------------------------------------------------------- use

  public String node() {
    return node;
  }

  public boolean isOpen() {
    return channel.isActive();
  }

  /** Completes when the connection is closed (by either side). */
  public CompletableFuture<Void> closeFuture() {
    return closed;
  }

  /** Waits until the connection is closed; false if it is still open after {@code atMost}. */
  public boolean awaitClosed(Duration atMost) {
    try {
      closed.get(atMost.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (ExecutionException e) {
      return true;
    }
  }

  /** Number of messages received so far. */
  public int receivedCount() {
    return received;
  }

  /** Messages received so far (with {@code keepHistory}). */
  public List<Message> received() {
    synchronized (history) {
      return List.copyOf(history);
    }
  }

  /** Sends a message (one text WebSocket message, KubeEdge's encoding). */
  public ChannelFuture send(Message m) {
    return channel.writeAndFlush(
        new TextWebSocketFrame(Unpooled.wrappedBuffer(MessageCodec.encode(m))));
  }

  /** Sends a text message with any content (for malformed-input tests). */
  public ChannelFuture sendText(String text) {
    return channel.writeAndFlush(new TextWebSocketFrame(text));
  }

  /** Sends a binary message. */
  public ChannelFuture sendBinary(byte[] bytes) {
    return channel.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes)));
  }

  /** Sends {@code m} split into {@code parts} WebSocket fragments. */
  public ChannelFuture sendFragmented(Message m, int parts) {
    byte[] all = MessageCodec.encode(m);
    int size = (all.length + parts - 1) / parts;
    ChannelFuture last = null;
    for (int i = 0; i < parts; i++) {
      int from = i * size;
      int to = Math.min(all.length, from + size);
      ByteBuf chunk = Unpooled.wrappedBuffer(all, from, to - from);
      boolean fin = i == parts - 1;
      WebSocketFrame f =
          i == 0
              ? new TextWebSocketFrame(fin, 0, chunk)
              : new ContinuationWebSocketFrame(fin, 0, chunk);
      last = fin ? channel.writeAndFlush(f) : channel.write(f);
    }
    return last;
  }

  /** Writes raw bytes into the TLS stream, below WebSocket framing (garbage-frame tests). */
  public ChannelFuture sendRawBytes(byte[] bytes) {
    return channel.writeAndFlush(Unpooled.wrappedBuffer(bytes));
  }

  /** Sends a keepalive as KubeEdge's EdgeHub does. */
  public ChannelFuture keepalive() {
    return send(
        new Message(
            MessageHeader.create(),
            new MessageRoute(
                Sources.WEBSOCKET, Sources.GROUP_RESOURCE, Operations.KEEPALIVE, "node"),
            io.kedge.protocol.Json.NODES.stringNode("ping")));
  }

  /**
   * The first message received (since the connection started) that matches {@code p}, waiting up to
   * {@code atMost}.
   *
   * @throws AssertionError when none arrives in time
   */
  public Message await(Predicate<Message> p, Duration atMost) {
    long deadline = System.nanoTime() + atMost.toNanos();
    synchronized (history) {
      while (true) {
        for (Message m : history) {
          if (p.test(m)) {
            return m;
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || (!isOpen() && closed.isDone())) {
          throw new AssertionError(
              "node "
                  + node
                  + ": no matching message within "
                  + atMost
                  + (isOpen() ? "" : " (connection closed: " + closeReason + ")")
                  + "; received "
                  + history.size()
                  + " messages");
        }
        try {
          history.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError("interrupted", e);
        }
      }
    }
  }

  /** Sends {@code request} and returns the reply ({@code parent_msg_id} = its id). */
  public Message request(Message request, Duration atMost) {
    send(request);
    return await(m -> request.id().equals(m.parentId()), atMost);
  }

  /** Messages matching {@code p} so far. */
  public List<Message> receivedMatching(Predicate<Message> p) {
    return received().stream().filter(p).toList();
  }

  /** A query such as KubeEdge's edged sends ({@code edged/meta/query <resource>}). */
  public static Message query(String resource) {
    return new Message(
        MessageHeader.create(),
        new MessageRoute(Sources.EDGED, Sources.GROUP_META, Operations.QUERY, resource),
        null);
  }

  /** An edged request with a body ({@code insert}, {@code update}, {@code patch}, …). */
  public static Message edged(String operation, String resource, JsonNode content) {
    return new Message(
        MessageHeader.create(),
        new MessageRoute(Sources.EDGED, Sources.GROUP_META, operation, resource),
        content);
  }

  /** Closes with a WebSocket close frame. */
  @Override
  public void close() {
    if (channel.isActive()) {
      channel.writeAndFlush(new CloseWebSocketFrame(1000, "bye")).addListener(f -> channel.close());
      channel.closeFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
    channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    if (ownGroup != null) {
      ownGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  /** Drops the TCP connection without a close frame (as a crashing edge would). */
  public void closeAbruptly() {
    channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    if (ownGroup != null) {
      ownGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  /** Why the connection ended, when the edge saw a reason (close frame, error). */
  public String closeReason() {
    return closeReason;
  }

  /** The text of {@code m}'s content (for assertions). */
  public static String text(Message m) {
    return m.content().isString()
        ? m.content().asString()
        : new String(MessageCodec.encode(m), StandardCharsets.UTF_8);
  }
}
