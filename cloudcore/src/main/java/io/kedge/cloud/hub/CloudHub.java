package io.kedge.cloud.hub;

import io.kedge.cloud.CloudMetrics;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.config.CloudHubConfig;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.message.Sources;
import io.kedge.protocol.status.KubeStatus;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.handler.timeout.WriteTimeoutHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.StringNode;

/**
 * CloudHub's WebSocket side: edge sessions over mutual TLS (KubeEdge's wire protocol), replies and
 * reliable delivery to nodes ({@link EdgeMessenger}), and routing of what edges send: keepalives,
 * ACKs and the {@code k8s/ca.crt} query are handled here, {@code metaserver} messages go to the
 * DynamicController, all others to the EdgeController. The node of a message is always its
 * session's authenticated node.
 */
public final class CloudHub implements EdgeMessenger, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CloudHub.class);

  private final CloudHubConfig config;
  private final HubTls tls;
  private final Supplier<String> kubeApiCaPem;
  private final AckListener ackListener;
  private final NodeSessionRegistry sessions;
  private final CloudMetrics metrics;
  private final Set<String> seen = ConcurrentHashMap.newKeySet();
  private final List<NodeSessionListener> listeners = new CopyOnWriteArrayList<>();
  // Handshakes are CPU-bound: a few per core keep the cores busy and each one short; more only
  // share the CPU thinner, so that under a reconnect storm all of them hit the timeout. A waiter is
  // closed after 10 s: by then many clients (Netty's default handshake timeout) have given up.
  private final HandshakeGate handshakes =
      new HandshakeGate(
          Math.max(16, 8 * Runtime.getRuntime().availableProcessors()), Duration.ofSeconds(10));
  private final Set<String> warnedNoDynamic = ConcurrentHashMap.newKeySet();
  private volatile UpstreamHandler edgeController = (node, m) -> {};
  private volatile UpstreamHandler dynamicController;
  private EventLoopGroup boss;
  private EventLoopGroup workers;
  private Channel server;

  /**
   * @param kubeApiCaPem the kube-apiserver CA (PEM), answered to {@code k8s/ca.crt} queries
   * @param ackListener told about every acknowledged delivery (ObjectSync bookkeeping)
   */
  public CloudHub(
      CloudHubConfig config, HubTls tls, Supplier<String> kubeApiCaPem, AckListener ackListener) {
    this(config, tls, kubeApiCaPem, ackListener, CloudMetrics.detached());
  }

  /**
   * @param metrics where messages, deliveries and sessions are counted
   */
  public CloudHub(
      CloudHubConfig config,
      HubTls tls,
      Supplier<String> kubeApiCaPem,
      AckListener ackListener,
      CloudMetrics metrics) {
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    metrics.connectedEdges(this::sessionCount);
    metrics.queuedDeliveries(this::queuedDeliveries);
    this.config = Objects.requireNonNull(config, "config");
    this.tls = Objects.requireNonNull(tls, "tls");
    this.kubeApiCaPem = Objects.requireNonNull(kubeApiCaPem, "kubeApiCaPem");
    this.ackListener = ackListener == null ? AckListener.NONE : ackListener;
    this.sessions = new NodeSessionRegistry(config.nodeLimit());
  }

  public void addSessionListener(NodeSessionListener l) {
    listeners.add(l);
  }

  /**
   * Binds the WebSocket server and starts routing upstream messages.
   *
   * @param edgeController receives everything not for the DynamicController
   * @param dynamicController receives {@code metaserver} messages; null when that module is off
   *     (MetaServer requests are then answered with 503)
   */
  public synchronized void start(
      UpstreamHandler edgeController, UpstreamHandler dynamicController) {
    if (server != null) {
      throw new IllegalStateException("CloudHub already started");
    }
    routeTo(edgeController, dynamicController);
    SslContext ssl = tls.webSocketServerContext();
    boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    workers = new MultiThreadIoEventLoopGroup(0, NioIoHandler.newFactory());
    ServerBootstrap b =
        new ServerBootstrap()
            .group(boss, workers)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 4096)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(
                ChannelOption.WRITE_BUFFER_WATER_MARK,
                new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(
                            "idle",
                            new IdleStateHandler(
                                config.keepaliveInterval(), 0, 0, TimeUnit.SECONDS))
                        .addLast("write-timeout", new WriteTimeoutHandler(config.writeTimeout()))
                        .addLast("http", new HttpServerCodec(4096, 8192, 8192))
                        .addLast("http-aggregator", new HttpObjectAggregator(8192))
                        .addLast("handshake", new HubHandshakeHandler(CloudHub.this));
                    handshakes.admit(
                        ch,
                        c -> {
                          SslHandler sslHandler = ssl.newHandler(c.alloc());
                          sslHandler.setHandshakeTimeoutMillis(10_000);
                          sslHandler.handshakeFuture().addListener(f -> handshakes.release());
                          c.pipeline().addFirst("ssl", sslHandler);
                        });
                  }
                });
    CloudHubConfig.Server ws = config.websocket();
    try {
      server = b.bind(ws.address(), ws.port()).syncUninterruptibly().channel();
    } catch (RuntimeException e) {
      shutdownGroups();
      throw new IllegalStateException(
          "cloudhub: cannot listen on " + ws.address() + ":" + ws.port() + ": " + e.getMessage(),
          e);
    }
    LOG.info(
        "cloudhub: WebSocket server listening on {} (nodeLimit {}, keepaliveInterval {} s)",
        server.localAddress(),
        config.nodeLimit(),
        config.keepaliveInterval());
  }

  /** Sets where upstream messages go (before {@link #start}, or in tests without a server). */
  void routeTo(UpstreamHandler edgeController, UpstreamHandler dynamicController) {
    this.edgeController = Objects.requireNonNull(edgeController, "edgeController");
    this.dynamicController = dynamicController;
  }

  /** Where the WebSocket server listens (its real port when configured with 0). */
  public InetSocketAddress webSocketAddress() {
    return (InetSocketAddress) server.localAddress();
  }

  // ---------------------------------------------------------------- EdgeMessenger

  @Override
  public boolean isConnected(String node) {
    NodeSession s = sessions.get(node);
    return s != null && s.isOpen();
  }

  @Override
  public Set<String> connectedNodes() {
    return sessions.nodes();
  }

  @Override
  public boolean send(String node, Message message) {
    NodeSession s = sessions.get(node);
    if (s == null) {
      LOG.debug("cloudhub: node {} not connected; not sent: {}", node, message);
      return false;
    }
    return s.send(message);
  }

  @Override
  public CompletableFuture<Void> deliver(String node, Message message) {
    return deliver(node, message, DeliveryQueue.Mode.LATEST);
  }

  @Override
  public CompletableFuture<Void> redeliver(String node, Message message) {
    return deliver(node, message, DeliveryQueue.Mode.RESEND);
  }

  @Override
  public CompletableFuture<Void> deliverEach(String node, Message message) {
    return deliver(node, message, DeliveryQueue.Mode.EACH);
  }

  private CompletableFuture<Void> deliver(String node, Message message, DeliveryQueue.Mode mode) {
    if (message.header().resourceVersion().isEmpty()
        && !Operations.DELETE.equals(message.operation())) {
      LOG.warn(
          "cloudhub: refused to deliver {} to node {}: an ACK-required message needs a"
              + " resourceversion",
          message,
          node);
      return CompletableFuture.failedFuture(
          new DeliveryException(
              DeliveryException.Reason.INVALID, "no resourceversion in " + message));
    }
    NodeSession s = sessions.get(node);
    if (s == null || !s.isOpen()) {
      return CompletableFuture.failedFuture(
          new DeliveryException(
              DeliveryException.Reason.NOT_CONNECTED, "node " + node + " is not connected"));
    }
    return s.deliver(message, mode);
  }

  /**
   * The address the node's current connection comes from, as this cloudcore sees it (what the node
   * cannot choose to claim); empty when it holds no open session of the node.
   */
  public Optional<InetAddress> connectionAddress(String node) {
    NodeSession s = sessions.get(node);
    if (s == null || !s.isOpen() || !(s.remoteAddress() instanceof InetSocketAddress a)) {
      return Optional.empty();
    }
    return Optional.ofNullable(a.getAddress());
  }

  /**
   * Ends this cloudcore's session of {@code node} (another cloudcore holds a newer one); false when
   * there is none.
   */
  public boolean closeSession(String node, String reason) {
    NodeSession s = sessions.get(node);
    if (s == null) {
      return false;
    }
    s.closeWith(reason);
    return true;
  }

  /** Number of connected nodes. */
  public int sessionCount() {
    return sessions.size();
  }

  /** Objects waiting for delivery or their ACK, over all sessions (read without locking). */
  private int queuedDeliveries() {
    int n = 0;
    for (NodeSession s : sessions.all()) {
      n += s.queued();
    }
    return n;
  }

  // ---------------------------------------------------------------- sessions (package)

  CloudMetrics metrics() {
    return metrics;
  }

  CloudHubConfig config() {
    return config;
  }

  AckListener ackListener() {
    return ackListener;
  }

  NodeSessionRegistry sessions() {
    return sessions;
  }

  void sessionStarted(NodeSession s) {
    NodeSession old;
    try {
      old = sessions.register(s);
    } catch (IllegalStateException full) {
      s.closeWith("node limit " + config.nodeLimit() + " reached");
      return;
    }
    metrics.edgeConnected(!seen.add(s.node()));
    if (old != null) {
      old.closeWith("replaced by a new connection from " + s.remoteAddress());
      LOG.info(
          "cloudhub: node {} reconnected from {}; its previous session from {} is closed",
          s.node(),
          s.remoteAddress(),
          old.remoteAddress());
      notify(s.node(), false);
    } else {
      LOG.info("cloudhub: node {} connected from {}", s.node(), s.remoteAddress());
    }
    notify(s.node(), true);
  }

  void sessionEnded(NodeSession s) {
    s.endDelivery();
    if (sessions.remove(s)) {
      if (s.offending()) {
        LOG.warn(
            "cloudhub: node {} disconnected after {} s: refused {}",
            s.node(),
            s.age().toSeconds(),
            s.closeReason());
      } else {
        LOG.info(
            "cloudhub: node {} disconnected after {} s: {}",
            s.node(),
            s.age().toSeconds(),
            s.closeReason());
      }
      notify(s.node(), false);
    } else if (s.closeReason() != null && !s.closeReason().startsWith("replaced by")) {
      LOG.info("cloudhub: earlier session of node {} ended: {}", s.node(), s.closeReason());
    }
  }

  private void notify(String node, boolean connected) {
    for (NodeSessionListener l : listeners) {
      try {
        if (connected) {
          l.connected(node);
        } else {
          l.disconnected(node);
        }
      } catch (RuntimeException e) {
        LOG.warn("cloudhub: session listener failed for node {}: {}", node, e.toString());
      }
    }
  }

  /** Routes one upstream message (on the session's event loop). */
  void onMessage(NodeSession s, Message m) {
    metrics.received(m);
    String op = m.operation();
    if (Operations.KEEPALIVE.equals(op)) {
      return; // reading it already reset the keepalive timer
    }
    if (Operations.isViaductControl(op)) {
      s.send(m.reply(StringNode.valueOf("ack")));
      return;
    }
    if (Operations.RESPONSE.equals(op) && m.header().hasParent()) {
      if (s.ack(m.parentId()) || m.isAck()) {
        return; // an ACK (of a delivery, or of a reply that needed none)
      }
    }
    if (Operations.ERROR.equals(op)) {
      LOG.warn(
          "cloudhub: node {} reported an error for message {}: {}",
          s.node(),
          m.parentId(),
          HubHandshakeHandler.clip(m.contentAsText()));
      return;
    }
    if (ResourcePath.K8S_CA.equals(m.resource())) {
      answerKubeCa(s, m);
      return;
    }
    try {
      if (Sources.META_SERVER.equals(m.source())) {
        UpstreamHandler dyn = dynamicController;
        if (dyn == null) {
          refuseApplication(s, m);
        } else {
          dyn.handle(s.node(), m);
        }
      } else {
        edgeController.handle(s.node(), m);
      }
    } catch (RuntimeException e) {
      LOG.warn("cloudhub: node {}: handling {} failed: {}", s.node(), m, e.toString());
    }
  }

  private void answerKubeCa(NodeSession s, Message m) {
    String pem;
    try {
      pem = kubeApiCaPem.get();
    } catch (RuntimeException e) {
      LOG.warn(
          "cloudhub: cannot read the kube-apiserver CA for node {}: {}", s.node(), e.toString());
      pem = "";
    }
    s.send(
        new Message(
            MessageHeader.replyTo(m.id()),
            new MessageRoute(
                Sources.CLOUD_HUB, Sources.GROUP_RESOURCE, Operations.RESPONSE, m.resource()),
            StringNode.valueOf(pem)));
  }

  private void refuseApplication(NodeSession s, Message m) {
    if (warnedNoDynamic.add(s.node())) {
      LOG.warn(
          "cloudhub: node {} sends MetaServer requests but the dynamicController module is"
              + " disabled; they are answered with 503",
          s.node());
    }
    if (!"null".equals(m.resource())) {
      return;
    }
    try {
      Application app = Application.fromJson(m.content());
      Application rejected =
          app.rejected(
              KubeStatus.errStatus(
                  KubeStatus.failure(503, "the dynamicController module of cloudcore is disabled")),
              "dynamicController disabled",
              null);
      s.send(
          new Message(
              MessageHeader.replyTo(m.id()),
              new MessageRoute(
                  Sources.DYNAMIC_CONTROLLER,
                  Sources.GROUP_RESOURCE,
                  Operations.APPLICATION_RESPONSE,
                  ResourcePath.APPLICATION_REPLY),
              rejected.toJson()));
    } catch (RuntimeException e) {
      LOG.debug("cloudhub: node {}: not an Application: {}", s.node(), e.toString());
    }
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public synchronized void close() {
    if (server != null) {
      server.close().syncUninterruptibly();
    }
    for (NodeSession s : sessions.all()) {
      s.closeWith("cloudcore is shutting down");
    }
    shutdownGroups();
    server = null;
  }

  private void shutdownGroups() {
    if (boss != null) {
      boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
    if (workers != null) {
      workers.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }
}
