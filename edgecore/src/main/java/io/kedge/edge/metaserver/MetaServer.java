package io.kedge.edge.metaserver;

import io.kedge.edge.auth.Authenticator;
import io.kedge.edge.auth.Authorizer;
import io.kedge.edge.hub.CloudLink;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.ResourceCatalog;
import io.kedge.protocol.Json;
import io.kedge.protocol.http.RequestBodyLimit;
import io.kedge.protocol.http.RequestDeadlines;
import io.kedge.protocol.status.KubeStatus;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kubernetes API on the edge ({@code modules.metaManager.metaServer}): edge pods reach it with
 * in-cluster configuration and get what the kube-apiserver would answer — online through the cloud,
 * and for reads from the edge's store when the cloud is out of reach. TLS, authentication and
 * authorization are plugged in ({@link ServerTls}, {@link Authenticator}, {@link Authorizer});
 * every request passes the authorizer, including those answered from the store.
 */
public final class MetaServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MetaServer.class);

  private final MetaServerSettings settings;
  private final ObjectStore store;
  private final CloudLink link;
  private final Authenticator authenticator;
  private final Authorizer authorizer;
  private final ServerTls tls;
  private final CloudApi cloud;
  private final Subscriptions subscriptions;
  private final HeldObjects heldObjects;
  private final DiscoveryApi discovery;
  private final RequestMetrics requestMetrics;
  private final ResourceApi resources;
  private final WatchHub hub = new WatchHub();
  private final ExecutorService background;
  private EventLoopGroup boss;
  private EventLoopGroup workers;
  private EventLoopGroup sharedLoops; // not ours to shut down
  private final java.util.Set<Channel> connections = ConcurrentHashMap.newKeySet();
  private Channel server;
  private final java.util.List<Channel> extraListeners = new java.util.ArrayList<>();
  private ServerBootstrap bootstrap;

  public MetaServer(
      MetaServerSettings settings,
      ObjectStore store,
      ResourceCatalog catalog,
      CloudLink link,
      Authenticator authenticator,
      Authorizer authorizer,
      ServerTls tls) {
    this(settings, store, catalog, link, authenticator, authorizer, tls, null, Readiness.ready());
  }

  /**
   * @param podLogs Edged's container logs, so that {@code pods/{name}/log} ({@code kubectl logs})
   *     is answered on the edge; null forwards it to the cloud
   */
  public MetaServer(
      MetaServerSettings settings,
      ObjectStore store,
      ResourceCatalog catalog,
      CloudLink link,
      Authenticator authenticator,
      Authorizer authorizer,
      ServerTls tls,
      io.kedge.edge.edged.PodLogs podLogs) {
    this(
        settings, store, catalog, link, authenticator, authorizer, tls, podLogs, Readiness.ready());
  }

  /**
   * @param podLogs Edged's container logs, so that {@code pods/{name}/log} ({@code kubectl logs})
   *     is answered on the edge; null forwards it to the cloud
   * @param readiness checks {@code /readyz} reports besides the server's own (requireAuthorization:
   *     the serving certificate, the dummy address)
   */
  public MetaServer(
      MetaServerSettings settings,
      ObjectStore store,
      ResourceCatalog catalog,
      CloudLink link,
      Authenticator authenticator,
      Authorizer authorizer,
      ServerTls tls,
      io.kedge.edge.edged.PodLogs podLogs,
      Readiness readiness) {
    this(
        settings,
        store,
        catalog,
        link,
        authenticator,
        authorizer,
        tls,
        podLogs,
        readiness,
        RequestMetrics.NONE);
  }

  /**
   * @param podLogs Edged's container logs, so that {@code pods/{name}/log} ({@code kubectl logs})
   *     is answered on the edge; null forwards it to the cloud
   * @param readiness checks {@code /readyz} reports besides the server's own (requireAuthorization:
   *     the serving certificate, the dummy address)
   * @param requestMetrics told of every answered request
   */
  public MetaServer(
      MetaServerSettings settings,
      ObjectStore store,
      ResourceCatalog catalog,
      CloudLink link,
      Authenticator authenticator,
      Authorizer authorizer,
      ServerTls tls,
      io.kedge.edge.edged.PodLogs podLogs,
      Readiness readiness,
      RequestMetrics requestMetrics) {
    this.requestMetrics = requestMetrics;
    this.settings = settings;
    this.store = store;
    this.link = link;
    this.authenticator = authenticator;
    this.authorizer = authorizer;
    this.tls = tls;
    this.cloud = new CloudApi(link, settings.node(), settings.cloudTimeout());
    this.subscriptions = new Subscriptions(store, cloud, settings);
    this.discovery = new DiscoveryApi(store, cloud, catalog, readiness);
    // Keeping cloud answers in the store is best effort: when it falls behind, the oldest waits.
    this.background =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(256),
            new DefaultThreadFactory("metaserver-refresh", true),
            new ThreadPoolExecutor.DiscardOldestPolicy());
    this.resources =
        new ResourceApi(
            store, cloud, catalog, subscriptions, discovery, settings, background, podLogs);
    this.heldObjects =
        new HeldObjects(store, cloud, catalog, subscriptions, settings.cloudTimeout());
    store.addListener(hub);
    subscriptions.onNotCurrent((scope, status) -> hub.expire(scope, status, subscriptions::synced));
    link.addListener(subscriptions);
    link.addListener(heldObjects);
  }

  /** Plain HTTP, every caller anonymous and allowed: MetaServer with requireAuthorization off. */
  public static MetaServer withoutAuthorization(
      MetaServerSettings settings, ObjectStore store, ResourceCatalog catalog, CloudLink link) {
    return new MetaServer(
        settings,
        store,
        catalog,
        link,
        header -> Authenticator.Authentication.anonymous(),
        attributes -> Authorizer.Decision.ALLOW,
        ServerTls.plain());
  }

  /**
   * Runs the listeners and their connections on {@code loops} instead of threads of its own. Given
   * EdgeHub's loop, a request MetaServer forwards is written to the cloud, and its answer written
   * back to the pod, on the thread that reads them. The loops stay running on {@link #close()}
   * (MetaServer's connections do not). Before {@link #start()}.
   */
  public synchronized void useEventLoops(EventLoopGroup loops) {
    if (server != null) {
      throw new IllegalStateException("MetaServer already started");
    }
    sharedLoops = loops;
  }

  /** Binds the listener and re-establishes the cached scopes. */
  public synchronized void start() {
    if (server != null) {
      throw new IllegalStateException("MetaServer already started");
    }
    if (sharedLoops != null) {
      boss = sharedLoops;
      workers = sharedLoops;
    } else {
      boss =
          new MultiThreadIoEventLoopGroup(
              1, new DefaultThreadFactory("metaserver-accept", true), NioIoHandler.newFactory());
      workers =
          new MultiThreadIoEventLoopGroup(
              2, new DefaultThreadFactory("metaserver", true), NioIoHandler.newFactory());
    }
    ServerBootstrap b =
        new ServerBootstrap()
            .group(boss, workers)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(
                ChannelOption.WRITE_BUFFER_WATER_MARK,
                new WriteBufferWaterMark(64 * 1024, 256 * 1024))
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    connections.add(ch);
                    ch.closeFuture().addListener(f -> connections.remove(ch));
                    initPipeline(ch.pipeline(), ch);
                  }
                });
    try {
      server = b.bind(settings.host(), settings.port()).syncUninterruptibly().channel();
      bootstrap = b;
    } catch (RuntimeException e) {
      if (sharedLoops == null) {
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      }
      boss = null;
      workers = null;
      throw new IllegalStateException(
          "metaserver: cannot listen on "
              + settings.host()
              + ":"
              + settings.port()
              + ": "
              + e.getMessage(),
          e);
    }
    LOG.info(
        "metaserver: listening on {} ({}, node {})",
        server.localAddress(),
        tls.current() == null ? "http" : "https",
        settings.node());
    subscriptions.start();
  }

  /**
   * Also listens on {@code host:port} (KubeEdge's {@code dummyServer}, where pods reach
   * MetaServer), with the same handling; after {@link #start()}.
   */
  public synchronized InetSocketAddress listenAlso(String host, int port) {
    if (bootstrap == null) {
      throw new IllegalStateException("MetaServer not started");
    }
    Channel c;
    try {
      c = bootstrap.bind(host, port).syncUninterruptibly().channel();
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "metaserver: cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
    }
    extraListeners.add(c);
    LOG.info("metaserver: also listening on {}", c.localAddress());
    return (InetSocketAddress) c.localAddress();
  }

  /** The pipeline of one connection (also used by tests on an embedded channel). */
  void initPipeline(ChannelPipeline p, Channel ch) {
    SslContext ssl = tls.current();
    if (ssl != null) {
      p.addLast("tls", ssl.newHandler(ch.alloc()));
    }
    RequestDeadlines deadlines =
        new RequestDeadlines(
            new RequestDeadlines.Timeouts(
                settings.requestHeaderTimeout(),
                settings.requestBodyTimeout(),
                settings.idleTimeout()),
            MetaServer::transportAnswer,
            "metaserver");
    p.addLast("deadline-bytes", deadlines.bytes());
    p.addLast("http", new HttpServerCodec(8192, 16384, 65536));
    p.addLast("deadline-requests", deadlines.requests());
    p.addLast(
        "body",
        new RequestBodyLimit(
            settings.maxRequestBytes(), MetaServer::transportAnswer, "metaserver"));
    p.addLast("api", new ApiHandler(this));
  }

  /** A request refused before it is read whole (408, 413), answered with a {@code Status}. */
  static FullHttpResponse transportAnswer(HttpResponseStatus status, String message) {
    String reason = status.code() == 408 ? "Timeout" : KubeStatus.reasonFor(status.code());
    byte[] body = Json.bytes(KubeStatus.failure(status.code(), reason, message));
    FullHttpResponse r =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
    r.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, "application/json")
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    return r;
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) server.localAddress();
  }

  RequestMetrics requestMetrics() {
    return requestMetrics;
  }

  /** Whether the listener is bound (for edgecore's readiness). */
  public synchronized boolean listening() {
    return server != null && server.isActive();
  }

  /** Open watches (for tests and metrics). */
  public int watchCount() {
    return hub.size();
  }

  /** See {@link Subscriptions#heldUpTo}. */
  public void watchProgress(String applicationId, long resourceVersion) {
    subscriptions.heldUpTo(applicationId, resourceVersion);
  }

  /** See {@link Subscriptions#fedByWatch}. */
  public boolean fedByWatch(io.kedge.edge.store.Scope scope) {
    return subscriptions.fedByWatch(scope);
  }

  /** See {@link Subscriptions#stopped}. */
  public void watchStopped(String applicationId, tools.jackson.databind.JsonNode status) {
    subscriptions.stopped(applicationId, status);
  }

  /** Whether the edge keeps {@code scope} current right now. */
  public boolean cached(io.kedge.edge.store.Scope scope) {
    return subscriptions.synced(scope);
  }

  MetaServerSettings settings() {
    return settings;
  }

  ObjectStore store() {
    return store;
  }

  WatchHub watchHub() {
    return hub;
  }

  Authenticator authenticator() {
    return authenticator;
  }

  Authorizer authorizer() {
    return authorizer;
  }

  ResourceApi resources() {
    return resources;
  }

  DiscoveryApi discovery() {
    return discovery;
  }

  CloudLink link() {
    return link;
  }

  @Override
  public synchronized void close() {
    subscriptions.close();
    for (Channel c : extraListeners) {
      c.close().syncUninterruptibly();
    }
    extraListeners.clear();
    if (server != null) {
      server.close().syncUninterruptibly();
      server = null;
    }
    for (Channel c : connections) {
      c.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
    if (boss != null && sharedLoops == null) {
      boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
      workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
    boss = null;
    workers = null;
    background.shutdownNow();
    heldObjects.close();
    LOG.info("metaserver: stopped");
  }
}
