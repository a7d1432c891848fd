package io.kedge.edge;

import io.kedge.edge.auth.Authenticator;
import io.kedge.edge.auth.Authorizer;
import io.kedge.edge.auth.EdgeAuth;
import io.kedge.edge.edged.Edged;
import io.kedge.edge.edged.NodeReservation;
import io.kedge.edge.edged.PodLogs;
import io.kedge.edge.edged.PodRuntime;
import io.kedge.edge.edgestream.EdgeStream;
import io.kedge.edge.hub.EdgeHub;
import io.kedge.edge.metamanager.CloudQueries;
import io.kedge.edge.metamanager.MetaManager;
import io.kedge.edge.metaserver.MetaServer;
import io.kedge.edge.metaserver.MetaServerSettings;
import io.kedge.edge.metaserver.Readiness;
import io.kedge.edge.metaserver.RequestMetrics;
import io.kedge.edge.metaserver.ServerTls;
import io.kedge.edge.node.NodeFacts;
import io.kedge.edge.node.NodeLifecycle;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.ResourceCatalog;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import io.kedge.monitor.HealthChecks;
import io.kedge.monitor.MonitorServer;
import io.kedge.protocol.config.EdgeCoreConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * edgecore's components, built from one {@link EdgeCoreConfig} and wired by constructor: EdgeHub
 * (the cloud link), the MetaManager slot, and the node lifecycle. {@link #start()} starts them in
 * order, {@link #close()} stops them in reverse.
 */
public final class EdgeCore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EdgeCore.class);
  private static final Pattern DNS1123_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** Something with a start and a stop, named for the log. */
  public record Part(String name, Runnable start, AutoCloseable stop) {}

  private final EdgeCoreConfig config;
  private final String node;
  private final EdgeHub hub;
  private final List<Part> parts = new ArrayList<>();
  private final List<Part> running = new ArrayList<>();
  private ObjectStore store;

  /** Null when {@code commonConfig.monitorServer.bindAddress} is empty: nothing is counted. */
  private final EdgeMetrics metrics;

  private final HealthChecks health = new HealthChecks();
  private MonitorServer monitor;

  /** Completes once MetaServer serves with a certificate pods trust (at once without the gate). */
  private CompletableFuture<?> servingReady = CompletableFuture.completedFuture(null);

  /** Longest wait for MetaServer's first certificate before pods start regardless. */
  static final Duration SERVING_WAIT = Duration.ofSeconds(90);

  public EdgeCore(EdgeCoreConfig config) {
    this.config = config;
    this.node = nodeName(config);
    this.hub = new EdgeHub(config.modules().edgeHub(), node);
    this.metrics = config.monitorAddress().isEmpty() ? null : EdgeMetrics.create();
    if (metrics != null) {
      metrics.link(hub::isConnected, () -> hub.credentials().map(c -> c.notAfter()).orElse(null));
    }
    addMetaManager();
    if (config.modules().edgeHub().enable()) {
      parts.add(new Part("edgehub", hub::start, hub));
    }
    if (config.modules().edged().enable()) {
      var edged = config.modules().edged();
      NodeLifecycle lifecycle =
          new NodeLifecycle(
              hub,
              node,
              edged,
              Duration.ofSeconds(Math.max(1, config.modules().metaManager().remoteQueryTimeout())),
              () -> hub.localAddress().map(a -> a.getAddress().getHostAddress()),
              // the node's allocatable leaves out what edgecore keeps for itself
              NodeReservation.ofThisProcess()
                  .applyTo(
                      NodeFacts.probe(
                          edged.maxPods(), edged.runtime(), Path.of(edged.rootDirectory()))),
              Clock.systemUTC(),
              Map.of(
                  EdgeAuth.IPS_ANNOTATION,
                  String.join(
                      ",", EdgeAuth.metaServerIps(config.modules().metaManager().metaServer()))));
      parts.add(new Part("node", lifecycle::start, lifecycle));
    }
  }

  /**
   * The edge store, MetaManager, MetaServer and Edged (when {@code modules.metaManager} is
   * enabled), started before the hub connects so that cloud→edge messages find their handler. With
   * {@code featureGates.requireAuthorization} MetaServer serves HTTPS with the cluster-issued
   * certificate, authenticates pod tokens and authorizes with the synced RBAC, on {@code server}
   * and on {@code dummyServer}.
   */
  private void addMetaManager() {
    var mm = config.modules().metaManager();
    if (!mm.enable()) {
      if (config.requireAuthorization()) {
        LOG.warn(
            "featureGates.requireAuthorization is on but modules.metaManager.enable is false: pods on"
                + " this node have no Kubernetes API; enable modules.metaManager and its metaServer");
      }
      return;
    }
    ObjectStore store =
        SqliteStore.open(StoreSettings.defaults(Path.of(config.database().dataSource())));
    parts.add(new Part("store", () -> {}, store));
    this.store = store;
    health.add("store-open", () -> store.isOpen() ? null : "the edge store is closed");
    if (metrics != null) {
      metrics.store(store::objectCount, store::eventLogLength);
    }
    ResourceCatalog catalog = new ResourceCatalog(store);
    MetaManager metaManager = new MetaManager(store, catalog);
    hub.setDownstreamHandler(metaManager);
    CloudQueries queries =
        new CloudQueries(hub, store, Duration.ofSeconds(Math.max(1, mm.remoteQueryTimeout())));
    Edged edged = null;
    if (config.modules().edged().enable()) {
      try {
        edged = Edged.forNode(config, node, store, queries, hub, Clock.systemUTC());
      } catch (PodRuntime.RuntimeFailure e) {
        throw new IllegalStateException("edged: " + e.getMessage(), e);
      }
    }
    PodLogs logs = edged == null ? null : edged.logs();
    if (edged != null && metrics != null) {
      metrics.edged(edged::podsByPhase, edged::containersByState, edged::containerRestarts);
    }
    RequestMetrics requestMetrics = metrics == null ? RequestMetrics.NONE : metrics;
    var ms = mm.metaServer();
    if (ms.enable()) {
      MetaServerSettings settings = MetaServerSettings.from(config, node);
      if (config.requireAuthorization()) {
        ScheduledExecutorService timer =
            Executors.newSingleThreadScheduledExecutor(
                r -> {
                  Thread t = new Thread(r, "edge-auth");
                  t.setDaemon(true);
                  return t;
                });
        EdgeAuth auth =
            new EdgeAuth(
                config,
                node,
                hub,
                store,
                queries::issuedServiceAccountToken,
                timer,
                Clock.systemUTC());
        MetaServer server =
            new MetaServer(
                settings,
                store,
                catalog,
                hub,
                auth.authenticator(),
                auth.authorizer(),
                auth::sslContext,
                logs,
                () ->
                    auth.problems().stream()
                        .map(p -> new Readiness.Problem(p.check(), p.message()))
                        .toList(),
                requestMetrics);
        if (metrics != null) {
          metrics.servingCertificate(
              () -> {
                var c = auth.certificates().current();
                return c == null ? null : c.leaf().getNotAfter().toInstant();
              });
        }
        addServingChecks(server);
        health.add(
            "metaserver-certificate",
            () -> {
              var c = auth.certificates().current();
              String p = auth.certificates().problem();
              if (c == null || !p.isEmpty()) {
                return p.isEmpty()
                    ? "MetaServer has no serving certificate issued by the cluster yet ("
                        + auth.certificates().state()
                        + ")"
                    : p;
              }
              return null;
            });
        metaManager.onWatchProgress(server::watchProgress);
        metaManager.onWatchStopped(server::watchStopped);
        metaManager.onlyFromTheirWatch(server::fedByWatch);
        shareTheLinksLoop(server);
        servingReady = auth.certificates().firstCertificate();
        parts.add(
            new Part(
                "metaserver",
                () -> {
                  // Serving from the store needs the kept certificate and the listener only:
                  // the dummy address (ip commands) follows once pods can be answered.
                  auth.startCertificates();
                  server.start();
                  auth.setUpDummyAddress();
                  boolean same =
                      auth.dummyHost().equals(settings.host())
                          && auth.dummyPort() == settings.port();
                  if (auth.dummyReady() && !same) {
                    try {
                      server.listenAlso(auth.dummyHost(), auth.dummyPort());
                    } catch (IllegalStateException e) {
                      LOG.warn("{}", e.getMessage());
                    }
                  }
                },
                () -> {
                  server.close();
                  auth.close();
                  timer.shutdownNow();
                }));
      } else {
        MetaServer server =
            new MetaServer(
                settings,
                store,
                catalog,
                hub,
                header -> Authenticator.Authentication.anonymous(),
                attributes -> Authorizer.Decision.ALLOW,
                ServerTls.plain(),
                logs,
                Readiness.ready(),
                requestMetrics);
        addServingChecks(server);
        metaManager.onWatchProgress(server::watchProgress);
        metaManager.onWatchStopped(server::watchStopped);
        metaManager.onlyFromTheirWatch(server::fedByWatch);
        shareTheLinksLoop(server);
        parts.add(new Part("metaserver", server::start, server));
      }
    } else if (config.requireAuthorization()) {
      LOG.warn(
          "featureGates.requireAuthorization is on but modules.metaManager.metaServer.enable is"
              + " false: pods on this node have no Kubernetes API; set"
              + " modules.metaManager.metaServer.enable: true");
    }
    if (edged != null) {
      parts.add(new Part("edged", startWhenServing(edged, servingReady), edged));
    }
    var es = config.modules().edgeStream();
    if (es != null && es.enable()) {
      if (edged == null) {
        LOG.warn(
            "modules.edgeStream is enabled but edged is not: no logs, exec or attach to serve");
      } else {
        String nodeIp = config.modules().edged().nodeIP();
        EdgeStream stream =
            new EdgeStream(
                es,
                node,
                hub::credentials,
                () ->
                    nodeIp != null && !nodeIp.isBlank()
                        ? Optional.of(nodeIp)
                        : hub.localAddress().map(a -> a.getAddress().getHostAddress()),
                edged.logs(),
                edged.streams());
        parts.add(new Part("edgestream", stream::start, stream));
      }
    }
  }

  /** MetaServer's part of readiness: it listens; its watches are counted. */
  private void addServingChecks(MetaServer server) {
    if (metrics != null) {
      metrics.watches(server::watchCount);
    }
    var ms = config.modules().metaManager().metaServer();
    health.add(
        "metaserver-serving",
        () ->
            server.listening()
                ? null
                : "MetaServer does not listen on " + ms.server() + " yet (or has stopped)");
  }

  /**
   * The monitor server on {@code commonConfig.monitorServer.bindAddress}; one that cannot listen is
   * logged, and edgecore runs without it: metrics must not keep pods from their API.
   */
  private void startMonitor() {
    if (metrics == null) {
      LOG.info("commonConfig.monitorServer.bindAddress is empty: no metrics and health endpoints");
      return;
    }
    MonitorServer m = new MonitorServer("edgecore", metrics.registry(), health);
    try {
      m.start(config.monitorAddress());
      monitor = m;
    } catch (IllegalArgumentException | IllegalStateException e) {
      LOG.error("edgecore: monitor server: {}; metrics and health are not served", e.getMessage());
    }
  }

  /** The monitor server's address, or null when none runs. */
  public InetSocketAddress monitorAddress() {
    return monitor == null ? null : monitor.address();
  }

  public HealthChecks health() {
    return health;
  }

  /**
   * MetaServer on EdgeHub's event loop: what it forwards to the cloud goes out, and comes back to
   * the pod, without a switch between threads (and with three threads fewer). EdgeHub is stopped
   * after MetaServer, so the loop outlives MetaServer's connections.
   */
  private void shareTheLinksLoop(MetaServer server) {
    if (config.modules().edgeHub().enable()) {
      server.useEventLoops(hub.ioLoop());
    }
  }

  /**
   * Starts Edged once MetaServer has its cluster-issued certificate: a pod started earlier would
   * meet the untrusted placeholder, and in-cluster clients fail hard on that (a run-once pod ends
   * Failed). Only a first start without a kept certificate waits (seconds, while the cloud issues
   * one); after {@link #SERVING_WAIT} pods start anyway, since the wait must not keep pods that
   * need no API from running.
   */
  private Runnable startWhenServing(Edged edged, CompletableFuture<?> ready) {
    return () -> {
      if (ready.isDone()) {
        edged.start();
        return;
      }
      LOG.info(
          "edged waits for MetaServer's serving certificate before starting pods (at most {} s)",
          SERVING_WAIT.toSeconds());
      Thread t =
          new Thread(
              () -> {
                try {
                  ready.get(SERVING_WAIT.toSeconds(), TimeUnit.SECONDS);
                } catch (TimeoutException | ExecutionException e) {
                  LOG.warn(
                      "MetaServer has no serving certificate after {} s; starting pods anyway:"
                          + " their in-cluster clients will refuse MetaServer until it has one",
                      SERVING_WAIT.toSeconds());
                } catch (InterruptedException e) {
                  return; // edgecore is stopping
                }
                synchronized (this) {
                  if (!stopping) {
                    edged.start();
                  }
                }
              },
              "edged-start");
      t.setDaemon(true);
      deferredStart = t;
      t.start();
    };
  }

  private boolean stopping;
  private Thread deferredStart;

  public String node() {
    return node;
  }

  public EdgeHub hub() {
    return hub;
  }

  /** The edge store; null when {@code modules.metaManager} is disabled. */
  public ObjectStore store() {
    return store;
  }

  public void start() {
    LOG.info("edgecore starting for node {}", node);
    startMonitor();
    for (Part p : parts) {
      p.start().run();
      running.add(p);
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      stopping = true;
      if (deferredStart != null) {
        deferredStart.interrupt();
      }
    }
    // In reverse order of start, except that the link and the store go last: MetaServer runs on
    // the link's event loop (its connections must close before that loop ends), and whatever
    // still arrives from the cloud while the others stop needs the store.
    List<Part> order = new ArrayList<>();
    for (int i = running.size() - 1; i >= 0; i--) {
      Part p = running.get(i);
      if (!p.name().equals("edgehub") && !p.name().equals("store")) {
        order.add(p);
      }
    }
    running.stream().filter(p -> p.name().equals("edgehub")).forEach(order::add);
    running.stream().filter(p -> p.name().equals("store")).forEach(order::add);
    for (Part p : order) {
      try {
        p.stop().close();
      } catch (Exception e) {
        LOG.warn("stopping {} failed: {}", p.name(), e.toString());
      }
    }
    running.clear();
    hub.close(); // idempotent; owns threads even when it was never started
    if (monitor != null) {
      monitor.close();
      monitor = null;
    }
  }

  /** {@code modules.edged.hostnameOverride}, else this host's name, lower-cased. */
  static String nodeName(EdgeCoreConfig config) {
    String name = config.nodeName() == null ? "" : config.nodeName().strip();
    if (name.isEmpty()) {
      name = hostname().toLowerCase(Locale.ROOT);
    }
    if (name.length() > 253 || !DNS1123_SUBDOMAIN.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "node name '"
              + name
              + "' is not a valid Kubernetes node name (lower-case letters, digits, '-' and '.');"
              + " set modules.edged.hostnameOverride");
    }
    return name;
  }

  private static String hostname() {
    for (Path p : List.of(Path.of("/proc/sys/kernel/hostname"), Path.of("/etc/hostname"))) {
      try {
        String s = Files.readString(p).strip();
        if (!s.isEmpty()) {
          return s;
        }
      } catch (IOException e) {
        // try the next source
      }
    }
    return Optional.ofNullable(System.getenv("HOSTNAME"))
        .filter(s -> !s.isBlank())
        .orElseGet(
            () -> {
              try {
                return InetAddress.getLocalHost().getHostName();
              } catch (IOException e) {
                return "";
              }
            });
  }
}
