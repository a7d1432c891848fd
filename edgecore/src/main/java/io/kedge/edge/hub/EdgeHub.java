package io.kedge.edge.hub;

import io.kedge.protocol.config.CloudAddresses;
import io.kedge.protocol.config.ConfigException;
import io.kedge.protocol.config.EdgeCoreConfig.EdgeHubConfig;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageCodec;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.Sources;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.handler.timeout.WriteTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.StringNode;

/**
 * EdgeHub: the edge's WebSocket link to CloudHub, compatible with KubeEdge v1.17.
 *
 * <ul>
 *   <li>Credentials: the stored certificate if it is for this node and unexpired, otherwise a new
 *       one through {@link CertificateBootstrap} with the join token; rotated at 70–90 % of its
 *       lifetime over mutual TLS, after which the connection is re-established.
 *   <li>Connection: {@code wss://<server>/<projectID>/<node>/events} with {@code node_id}, {@code
 *       project_id} and {@code ConnectionUse: msg}; mutual TLS, the server verified against the hub
 *       CA including its host name or IP. With several cloudcores (several addresses, or a name
 *       that resolves to several) one connection at a time, to the address {@link CloudEndpoints}
 *       picks: a lost connection moves to another cloudcore.
 *   <li>Liveness: a {@code keepalive} message every {@code heartbeat} seconds. KubeEdge's cloud
 *       never answers those, so each keepalive is paired with a WebSocket ping (RFC 6455 obliges
 *       the peer to answer with a pong; gorilla and Netty do so on their own), and a connection
 *       that delivers no bytes for four heartbeats is taken as dead. A write that fails or does not
 *       finish within {@code writeDeadline} also ends the connection. TCP keepalive is on as well.
 *   <li>Reconnect: exponential back-off with jitter between {@code reconnectMinDelay} and {@code
 *       reconnectMaxDelay}, growing with each round of failed attempts at every address; starting
 *       without the cloud is normal (the stored certificate is used).
 *   <li>Outbound: edge-initiated messages are paced at {@code messageQPS}/{@code messageBurst} and
 *       bounded in number in flight; a full link makes senders wait (back-pressure), never drops.
 *   <li>Inbound: replies ({@code parent_msg_id}) complete {@link #request}s; a reply that carries a
 *       {@code resourceversion} is acknowledged, as KubeEdge's edge does. Other messages of groups
 *       {@code resource}/{@code func} go, in order, to the {@link DownstreamHandler}, and are
 *       acknowledged only once its stage completes normally. While too many are being handled the
 *       socket is not read (back-pressure to the cloud).
 * </ul>
 */
public final class EdgeHub implements CloudLink, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EdgeHub.class);

  /** Largest message accepted from the cloud (Kubernetes objects stay far below). */
  static final int MAX_MESSAGE_BYTES = 16 << 20;

  /** Edge-initiated messages handed to the socket but not yet written. */
  static final int MAX_IN_FLIGHT = 1024;

  /** Downstream messages being handled before the socket stops being read, and resumes. */
  static final int INBOUND_HIGH = 256;

  static final int INBOUND_LOW = 64;

  /** Heartbeats of silence after which the connection is taken as dead. */
  static final int IDLE_HEARTBEATS = 4;

  private static final Set<String> DOWNSTREAM_GROUPS = Set.of(Sources.GROUP_RESOURCE, "func");

  private final EdgeHubConfig config;
  private final String node;
  private final CloudEndpoints endpoints;
  private volatile CloudEndpoints.Endpoint endpoint;
  private final CertificateFiles files;
  private final CertificateBootstrap bootstrap;
  private final Backoff backoff;
  private final EventLoopGroup group;
  private final ScheduledExecutorService control;
  private final ExecutorService dispatch;
  private final ExecutorService callbacks;
  private final PendingRequests pending;
  private final TokenBucket rate;
  private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
  private final AtomicInteger inbound = new AtomicInteger();
  private final List<CloudLinkListener> listeners = new CopyOnWriteArrayList<>();
  private final Set<String> warnedGroups = ConcurrentHashMap.newKeySet();

  private volatile DownstreamHandler downstream;
  private volatile Channel active;
  private volatile EdgeCredentials credentials;
  private volatile boolean started;
  private volatile boolean closed;

  // Touched on the control thread only.
  private Instant connectedAt = Instant.EPOCH;
  private boolean reconnectSoon;
  private java.util.concurrent.ScheduledFuture<?> rotation;

  public EdgeHub(EdgeHubConfig config, String node) {
    this.config = config;
    this.node = node;
    List<CloudAddresses.HostPort> servers;
    try {
      servers =
          CloudAddresses.servers(config.websocket().server(), "modules.edgeHub.websocket.server");
    } catch (ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("modules.edgeHub.websocket.server is not set");
    }
    this.endpoints =
        new CloudEndpoints(
            servers, node, CloudEndpoints.Resolver.SYSTEM, new java.util.SplittableRandom());
    this.files = CertificateFiles.of(config);
    List<URI> certificateServers;
    try {
      certificateServers = CertificateBootstrap.serverUris(config);
    } catch (BootstrapException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    this.bootstrap =
        new CertificateBootstrap(
            certificateServers, node, seconds(config.websocket().handshakeTimeout()));
    this.backoff = Backoff.ofSeconds(config.reconnectMinDelay(), config.reconnectMaxDelay());
    this.group =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory("edgehub-io", true), NioIoHandler.newFactory());
    ScheduledThreadPoolExecutor control =
        new ScheduledThreadPoolExecutor(1, new DefaultThreadFactory("edgehub", true));
    // A request answered in time cancels its deadline: drop it then, not when it would have
    // expired (it holds the request, and would wake this thread for nothing).
    control.setRemoveOnCancelPolicy(true);
    this.control = control;
    this.dispatch =
        Executors.newSingleThreadExecutor(new DefaultThreadFactory("edgehub-dispatch", true));
    this.callbacks =
        Executors.newSingleThreadExecutor(new DefaultThreadFactory("edgehub-replies", true));
    this.pending = new PendingRequests(control, callbacks);
    this.rate = new TokenBucket(config.messageQPS(), config.messageBurst());
  }

  private static Duration seconds(int s) {
    return Duration.ofSeconds(Math.max(1, s));
  }

  /** Where cloud→edge messages go; set before {@link #start()}. */
  public void setDownstreamHandler(DownstreamHandler handler) {
    this.downstream = handler;
  }

  /** Starts connecting in the background; returns at once. */
  public synchronized void start() {
    if (started || closed) {
      return;
    }
    started = true;
    LOG.info(
        "EdgeHub for node {} connecting to {}",
        node,
        endpoints.configuredCount() == 1
            ? config.websocket().server().strip()
            : "one of " + config.websocket().server().strip());
    control.execute(this::attemptConnect);
  }

  public String node() {
    return node;
  }

  /** The address of the cloudcore connected to (or last tried); null before the first attempt. */
  public URI uri() {
    CloudEndpoints.Endpoint e = endpoint;
    return e == null ? null : e.uri(config.projectID(), node);
  }

  /** The local address of the live connection (the address the cloud sees this node at). */
  public Optional<InetSocketAddress> localAddress() {
    Channel ch = active;
    return ch == null
        ? Optional.empty()
        : Optional.ofNullable((InetSocketAddress) ch.localAddress());
  }

  /**
   * The event loop of the link to the cloud. A server run on it (MetaServer) hands its requests for
   * the cloud to the link, and gets the answers back, without a switch between threads.
   */
  public EventLoopGroup ioLoop() {
    return group;
  }

  /** The credentials in use, once known. */
  public Optional<EdgeCredentials> credentials() {
    return Optional.ofNullable(credentials);
  }

  // ------------------------------------------------------------------ CloudLink

  @Override
  public boolean isConnected() {
    Channel ch = active;
    return ch != null && ch.isActive();
  }

  @Override
  public CompletableFuture<Message> request(Message request, Duration timeout) {
    return request(request, timeout, null);
  }

  @Override
  public CompletableFuture<Message> request(Message request, Duration timeout, Executor replies) {
    Channel ch = active;
    if (ch == null) {
      return CompletableFuture.failedFuture(notConnected());
    }
    CompletableFuture<Message> reply = pending.register(request, timeout, replies);
    if (reply.isDone()) {
      return reply;
    }
    Duration delay;
    try {
      delay = admit(ch);
    } catch (NotConnectedException e) {
      pending.fail(request.id(), e);
      return reply;
    }
    paced(ch, delay, () -> writeRequest(ch, request));
    return reply;
  }

  private void writeRequest(Channel ch, Message request) {
    write(ch, request)
        .addListener(
            f -> {
              inFlight.release();
              if (!f.isSuccess()) {
                pending.fail(
                    request.id(),
                    new NotConnectedException(
                        "sending to the cloud failed: " + CloudFrameHandler.describe(f.cause())));
              }
            });
  }

  /** Runs {@code write} now, or after {@code delay} on the connection's event loop. */
  private static void paced(Channel ch, Duration delay, Runnable write) {
    if (delay.isZero()) {
      write.run();
    } else {
      ch.eventLoop().schedule(write, delay.toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void send(Message message) {
    Channel ch = active;
    if (ch == null) {
      throw notConnected();
    }
    paced(ch, admit(ch), () -> write(ch, message).addListener(f -> inFlight.release()));
  }

  @Override
  public void addListener(CloudLinkListener listener) {
    listeners.add(listener);
  }

  private static NotConnectedException notConnected() {
    return new NotConnectedException("not connected to the cloud");
  }

  /**
   * Waits for a send slot: the rate limit, then the bound on messages in flight. Never waits on the
   * I/O thread (a caller there would wait for itself; MetaServer runs there): there it returns how
   * long the write must still be put off to keep the pace, and fails at once when the link is
   * congested.
   *
   * @return zero, or the delay still owed to the rate limit (on the I/O thread only)
   */
  private Duration admit(Channel ch) {
    boolean onLoop = ch.eventLoop().inEventLoop();
    Duration wait = rate.reserve();
    if (!wait.isZero() && !onLoop) {
      try {
        Thread.sleep(wait.toMillis(), wait.toNanosPart() % 1_000_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        rate.refund();
        throw new NotConnectedException("interrupted while waiting to send");
      }
    }
    if (inFlight.tryAcquire()) {
      return onLoop ? wait : Duration.ZERO;
    }
    if (onLoop) {
      rate.refund();
      throw new NotConnectedException("the link to the cloud is congested");
    }
    try {
      long deadline = Math.max(1, config.websocket().writeDeadline());
      if (!inFlight.tryAcquire(deadline, TimeUnit.SECONDS)) {
        throw new NotConnectedException(
            "the link to the cloud is congested: "
                + MAX_IN_FLIGHT
                + " messages unsent for "
                + deadline
                + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NotConnectedException("interrupted while waiting to send");
    }
    if (active != ch) {
      inFlight.release();
      throw new NotConnectedException("connection to the cloud lost while waiting to send");
    }
    return Duration.ZERO;
  }

  private static ChannelFuture write(Channel ch, Message m) {
    return ch.writeAndFlush(new TextWebSocketFrame(Unpooled.wrappedBuffer(MessageCodec.encode(m))));
  }

  // ------------------------------------------------------------------ inbound

  private void onMessage(Channel ch, Message m) {
    if (Operations.isViaductControl(m.operation())) {
      LOG.debug("ignoring viaduct control message {}", m);
      return;
    }
    if (m.header().hasParent()) {
      PendingRequests.Completion c = pending.complete(m);
      // As KubeEdge's edge: a reply carrying a resourceversion waits for its ACK at the cloud, and
      // the answers to edged's queries, inserts and updates are acknowledged too (never an "OK").
      if (!m.header().resourceVersion().isEmpty()
          || c == PendingRequests.Completion.WAITED_ACKNOWLEDGED && !m.isAck()) {
        ack(ch, m);
      }
      if (c == PendingRequests.Completion.NONE) {
        LOG.debug("reply {} matches no waiting request (timed out or already answered)", m);
      }
      return;
    }
    if (!DOWNSTREAM_GROUPS.contains(m.group())) {
      if (warnedGroups.add(m.group())) {
        LOG.warn("no handler for messages of group '{}' from the cloud; dropping {}", m.group(), m);
      }
      return;
    }
    if (inbound.incrementAndGet() >= INBOUND_HIGH && ch.config().isAutoRead()) {
      LOG.info("{} cloud messages being handled; pausing reads from the cloud", inbound.get());
      ch.config().setAutoRead(false);
    }
    dispatch.execute(
        () -> {
          try {
            handle(ch, m);
          } finally {
            if (inbound.decrementAndGet() <= INBOUND_LOW && !ch.config().isAutoRead()) {
              ch.config().setAutoRead(true);
            }
          }
        });
  }

  private void handle(Channel ch, Message m) {
    DownstreamHandler h = downstream;
    if (h == null) {
      if (warnedGroups.add("<no handler>")) {
        LOG.warn("no handler for cloud messages is registered; {} is not acknowledged", m);
      }
      return;
    }
    CompletionStage<Void> stage;
    try {
      stage = h.handle(m);
    } catch (RuntimeException e) {
      LOG.warn("handling {} failed, not acknowledged: {}", m, e.toString());
      return;
    }
    if (stage == null) {
      LOG.warn("handler returned no result for {}; not acknowledged", m);
      return;
    }
    stage.whenComplete(
        (v, err) -> {
          if (err == null) {
            ack(ch, m);
          } else {
            LOG.warn(
                "handling {} failed, not acknowledged: {}", m, CloudFrameHandler.describe(err));
          }
        });
  }

  /** ACKs go out without waiting: they are bounded by what the cloud sends. */
  private void ack(Channel ch, Message m) {
    if (!ch.isActive()) {
      LOG.debug("connection gone before acknowledging {}; the cloud sends it again", m);
      return;
    }
    write(ch, m.ack());
  }

  // ------------------------------------------------------------------ connection

  private void attemptConnect() {
    if (closed || active != null) {
      return;
    }
    CloudEndpoints.Endpoint e = endpoints.next();
    endpoint = e;
    try {
      EdgeCredentials c = ensureCredentials();
      Channel ch = open(c, e);
      onConnected(ch, c);
    } catch (Exception x) {
      if (closed) {
        return;
      }
      Duration d = backoff.delay(endpoints.rounds());
      LOG.warn(
          "cannot connect to the cloud at {}: {}; retrying in {} ms",
          e.authority(),
          x instanceof BootstrapException ? x.getMessage() : CloudFrameHandler.describe(x),
          d.toMillis());
      control.schedule(this::attemptConnect, d.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** The stored credentials, or new ones from the cloud with the join token. */
  private EdgeCredentials ensureCredentials() {
    EdgeCredentials c = credentials;
    if (c == null) {
      c = files.load().orElse(null);
      if (c == null && files.anyExists()) {
        LOG.warn(
            "stored credentials ({}, {}, {}) are incomplete or do not belong together",
            files.caFile(),
            files.certFile(),
            files.keyFile());
      }
    }
    if (c != null && !c.isFor(node)) {
      LOG.warn(
          "stored certificate is for '{}', not '{}'; requesting a new one",
          c.commonName(),
          EdgeCredentials.commonNameFor(node));
      c = null;
    } else if (c != null && c.expired(Instant.now())) {
      LOG.warn("stored certificate expired at {}; requesting a new one", c.notAfter());
      c = null;
    }
    if (c == null) {
      if (config.token() == null || config.token().isBlank()) {
        throw new BootstrapException(
            "no usable certificate at "
                + files.certFile()
                + " and no join token (modules.edgeHub.token)");
      }
      JoinToken token = JoinToken.parse(config.token());
      c = bootstrap.join(token);
      files.store(c);
      LOG.info(
          "obtained a certificate for node {} from {}, valid until {}",
          node,
          bootstrap.server(),
          c.notAfter());
    }
    credentials = c;
    return c;
  }

  private Channel open(EdgeCredentials c, CloudEndpoints.Endpoint to) throws Exception {
    SslContext ssl = JdkTlsContext.client(c.ca(), c.key(), c.certificate());
    // TLS checks the configured name (or IP); the connection goes to the address it resolved to
    String host = to.host();
    int port = to.port();
    URI uri = to.uri(config.projectID(), node);
    Duration handshakeTimeout = seconds(config.websocket().handshakeTimeout());
    int heartbeat = Math.max(1, config.heartbeat());
    CompletableFuture<Channel> handshake = new CompletableFuture<>();
    HttpHeaders headers = new DefaultHttpHeaders();
    // Header names as KubeEdge's Go client puts them on the wire (canonical MIME form).
    headers.add("Node_id", node);
    headers.add("Project_id", config.projectID());
    headers.add("Connectionuse", "msg");
    WebSocketClientProtocolConfig ws =
        WebSocketClientProtocolConfig.newBuilder()
            .webSocketUri(uri)
            .customHeaders(headers)
            .maxFramePayloadLength(MAX_MESSAGE_BYTES)
            .handshakeTimeoutMillis(handshakeTimeout.toMillis())
            .generateOriginHeader(false)
            .sendCloseFrame(WebSocketCloseStatus.NORMAL_CLOSURE)
            .build();
    Bootstrap b =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) handshakeTimeout.toMillis())
            .option(ChannelOption.SO_KEEPALIVE, true)
            .option(ChannelOption.TCP_NODELAY, true)
            // Heap buffers: large messages count against the heap, not the small direct budget.
            .option(ChannelOption.ALLOCATOR, new UnpooledByteBufAllocator(false))
            .option(
                ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 << 10, 1 << 20))
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    SslHandler tls = ssl.newHandler(ch.alloc(), host, port);
                    tls.setHandshakeTimeout(handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
                    ChannelPipeline p = ch.pipeline();
                    p.addLast(
                        "idle",
                        new IdleStateHandler(heartbeat * IDLE_HEARTBEATS, 0, 0, TimeUnit.SECONDS));
                    p.addLast("tls", tls);
                    p.addLast("http", new HttpClientCodec());
                    p.addLast("http-aggregator", new HttpObjectAggregator(64 << 10));
                    p.addLast("ws", new WebSocketClientProtocolHandler(ws));
                    p.addLast("ws-aggregator", new WebSocketFrameAggregator(MAX_MESSAGE_BYTES));
                    p.addLast(
                        "write-timeout",
                        new WriteTimeoutHandler(Math.max(1, config.websocket().writeDeadline())));
                    p.addLast("hub", new CloudFrameHandler(EdgeHub.this::onMessage, handshake));
                  }
                });
    ChannelFuture connect =
        to.address() == null
            ? b.connect(host, port)
            : b.connect(new InetSocketAddress(to.address(), port));
    Channel ch = connect.channel();
    connect.addListener(
        f -> {
          if (!f.isSuccess()) {
            handshake.completeExceptionally(f.cause());
          }
        });
    ch.closeFuture()
        .addListener(
            f ->
                handshake.completeExceptionally(
                    new BootstrapException("connection closed during the handshake")));
    try {
      return handshake.get(handshakeTimeout.toMillis() * 2 + 1000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      ch.close();
      Throwable cause = e.getCause();
      throw cause instanceof Exception ex ? ex : e;
    } catch (TimeoutException e) {
      ch.close();
      throw new BootstrapException(
          "no WebSocket handshake within " + handshakeTimeout.toSeconds() + " s");
    }
  }

  private void onConnected(Channel ch, EdgeCredentials c) {
    if (closed) {
      ch.close();
      return;
    }
    active = ch;
    connectedAt = Instant.now();
    int heartbeat = Math.max(1, config.heartbeat());
    ScheduledFuture<?> keepalive =
        ch.eventLoop().scheduleAtFixedRate(() -> keepalive(ch), 0, heartbeat, TimeUnit.SECONDS);
    ch.closeFuture()
        .addListener(
            f -> {
              keepalive.cancel(false);
              try {
                control.execute(() -> onDisconnected(ch));
              } catch (java.util.concurrent.RejectedExecutionException e) {
                // stopping: nobody to tell
              }
            });
    LOG.info(
        "connected to the cloud at {} as node {} (certificate valid until {})",
        endpoint == null ? "?" : endpoint.authority(),
        node,
        c.notAfter());
    scheduleRotation(c);
    for (CloudLinkListener l : listeners) {
      try {
        l.connected();
      } catch (RuntimeException e) {
        LOG.warn("cloud link listener failed on connect: {}", e.toString());
      }
    }
  }

  private void keepalive(Channel ch) {
    if (!ch.isActive()) {
      return;
    }
    Message ka =
        Message.of(
            new MessageRoute(
                Sources.WEBSOCKET, Sources.GROUP_RESOURCE, Operations.KEEPALIVE, "node"),
            StringNode.valueOf("ping"));
    write(ch, ka).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    ch.writeAndFlush(new PingWebSocketFrame()).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
  }

  private void onDisconnected(Channel ch) {
    if (active != ch) {
      return;
    }
    active = null;
    pending.failAll(new NotConnectedException("connection to the cloud lost"));
    for (CloudLinkListener l : listeners) {
      try {
        l.disconnected();
      } catch (RuntimeException e) {
        LOG.warn("cloud link listener failed on disconnect: {}", e.toString());
      }
    }
    if (closed) {
      return;
    }
    boolean rotated = reconnectSoon;
    reconnectSoon = false;
    if (rotated) {
      endpoints.again();
    } else {
      // to another cloudcore, if there is one; a working connection (not a flapping one) starts
      // the back-off from its shortest delay
      endpoints.lost(Duration.between(connectedAt, Instant.now()).compareTo(backoff.max()) > 0);
    }
    Duration d = rotated ? Duration.ZERO : backoff.delay(endpoints.rounds());
    LOG.warn(
        "disconnected from the cloud at {}; reconnecting in {} ms{}",
        endpoint == null ? "?" : endpoint.authority(),
        d.toMillis(),
        rotated ? " with the rotated certificate" : "");
    control.schedule(this::attemptConnect, d.toMillis(), TimeUnit.MILLISECONDS);
  }

  // ------------------------------------------------------------------ rotation

  private void scheduleRotation(EdgeCredentials c) {
    if (rotation != null) {
      rotation.cancel(false);
      rotation = null;
    }
    if (!config.rotateCertificates()) {
      return;
    }
    long delay = Math.max(0, Duration.between(Instant.now(), c.rotationTime()).toMillis());
    rotation = control.schedule(() -> rotate(c, 0), delay, TimeUnit.MILLISECONDS);
  }

  private void rotate(EdgeCredentials c, int failures) {
    if (closed || credentials != c) {
      return;
    }
    try {
      EdgeCredentials fresh = bootstrap.rotate(c);
      files.store(fresh);
      credentials = fresh;
      LOG.info(
          "rotated the certificate of node {}; new one valid until {}", node, fresh.notAfter());
      Channel ch = active;
      if (ch != null) {
        reconnectSoon = true;
        ch.close(); // the next connection presents the new certificate
      } else {
        scheduleRotation(fresh);
      }
    } catch (RuntimeException e) {
      Duration d = Duration.ofSeconds(Math.min(32, 2L << Math.min(failures, 4)));
      LOG.warn(
          "certificate rotation failed: {}; retrying in {} s",
          e instanceof BootstrapException ? e.getMessage() : e.toString(),
          d.toSeconds());
      rotation =
          control.schedule(() -> rotate(c, failures + 1), d.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  // ------------------------------------------------------------------ lifecycle

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    Channel ch = active;
    active = null;
    if (ch != null) {
      ch.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
    pending.failAll(new NotConnectedException("EdgeHub stopped"));
    control.shutdownNow();
    dispatch.shutdown();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    try {
      dispatch.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    callbacks.shutdown();
    LOG.info("EdgeHub for node {} stopped", node);
  }
}
