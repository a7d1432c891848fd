package io.kedge.cloud;

import io.kedge.cloud.authz.IssuerKeys;
import io.kedge.cloud.cloudstream.CloudStream;
import io.kedge.cloud.csr.CsrApprover;
import io.kedge.cloud.csr.MetaServerCsrRequests;
import io.kedge.cloud.dynamiccontroller.DynamicControllerModule;
import io.kedge.cloud.edgecontroller.EdgeController;
import io.kedge.cloud.ha.CloudCoreGroup;
import io.kedge.cloud.ha.CloudCoreInstance;
import io.kedge.cloud.ha.NodeSessionLeases;
import io.kedge.cloud.hub.AckListener;
import io.kedge.cloud.hub.BootstrapServer;
import io.kedge.cloud.hub.CloudHub;
import io.kedge.cloud.hub.HubPki;
import io.kedge.cloud.hub.HubTls;
import io.kedge.cloud.hub.JoinTokenRefresher;
import io.kedge.cloud.hub.KubeApiCa;
import io.kedge.cloud.hub.UpstreamHandler;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.cloud.kube.SharedInformers;
import io.kedge.cloud.policy.PolicyController;
import io.kedge.cloud.sync.ObjectSyncStore;
import io.kedge.cloud.sync.SyncController;
import io.kedge.monitor.HealthChecks;
import io.kedge.monitor.MonitorServer;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.config.CloudHubConfig;
import io.kedge.protocol.message.ResourcePath;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * cloudcore's modules wired by configuration: CloudHub (WebSocket + bootstrap), EdgeController,
 * SyncController and the DynamicController slot, sharing one set of informers and cloudcore's own
 * ServiceAccount client. Closing it stops everything in reverse order.
 */
public final class CloudCore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CloudCore.class);

  private final List<AutoCloseable> started = new ArrayList<>();
  private final CloudMetrics metrics = CloudMetrics.create();
  private final HealthChecks health = new HealthChecks();
  private MonitorServer monitor;
  private volatile CloudHub hub;
  private volatile EdgeController edgeController;
  private volatile DynamicControllerModule dynamic;
  private volatile boolean modulesStarted;
  private BootstrapServer bootstrap;
  private HubTls tls;

  private CloudCore() {}

  /** Builds and starts every enabled module; on failure, stops what was started and rethrows. */
  public static CloudCore start(CloudCoreConfig config) {
    CloudCore c = new CloudCore();
    try {
      c.startModules(config);
      return c;
    } catch (RuntimeException e) {
      c.close();
      throw e;
    }
  }

  private void startModules(CloudCoreConfig config) {
    CloudCoreConfig.Modules modules = config.modules();
    CloudHubConfig hubConfig = withAdvertiseAddress(modules.cloudHub());
    addChecks(modules, hubConfig);
    startMonitor(config);
    KubeClients kube = KubeClients.create(config.kubeAPIConfig());
    started.add(kube);
    ExecutorService pool = Executors.newFixedThreadPool(16, threads("cloudcore-worker"));
    started.add(() -> shutdown(pool));
    ScheduledExecutorService scheduler =
        Executors.newScheduledThreadPool(2, threads("cloudcore-timer"));
    started.add(() -> shutdown(scheduler));
    SharedInformers informers = new SharedInformers(kube.own(), pool);
    started.add(informers);

    tls = HubPki.load(hubConfig, kube.own());
    // With other cloudcores of the cluster: presence, the leader Lease, the edges' session Leases.
    CloudCoreGroup group =
        CloudCoreGroup.start(
            kube.own(),
            CloudCoreInstance.of(config.highAvailability(), hubConfig.websocket().port()),
            hubConfig.advertiseAddress().get(0) + ":" + hubConfig.websocket().port(),
            pool,
            scheduler);
    started.add(group);

    ObjectSyncStore syncs = null;
    SyncController sync = null;
    if (modules.syncController() == null || modules.syncController().enable()) {
      syncs = new ObjectSyncStore(kube.own());
      syncs.start();
      started.add(syncs);
    }
    hub =
        new CloudHub(
            hubConfig,
            tls,
            () -> KubeApiCa.pem(kube.config()),
            syncs == null ? AckListener.NONE : syncs,
            metrics);
    NodeSessionLeases sessions = group.recordSessions(hub::connectionAddress, hub::closeSession);
    hub.addSessionListener(sessions);
    if (syncs != null) {
      int period = Math.max(1, modules.syncController().resyncPeriod());
      sync = new SyncController(syncs, hub, Duration.ofSeconds(period), scheduler);
      started.add(sync);
    }
    CloudStream stream = null;
    if (modules.cloudStream() != null && modules.cloudStream().enable()) {
      stream = CloudStream.start(config, hubConfig, tls, kube, pool, scheduler);
      started.add(stream);
    }
    int kubeletPort = stream == null ? 0 : stream.kubeletPort();
    EdgeController edge = null;
    if (modules.edgeController() == null || modules.edgeController().enable()) {
      edge =
          new EdgeController(
              kube,
              hub,
              informers,
              syncs == null ? emptySyncs(kube) : syncs,
              pool,
              node -> kubeletPort);
      edgeController = edge;
      edge.start(sync, 60);
      started.add(edge);
      hub.addSessionListener(edge);
      if (sync != null) {
        sync.collectGarbage(group.leadership(), edge::nodeExists, Duration.ofMinutes(1));
      }
    }
    // Edge requests answered by other components than the EdgeController.
    MetaServerCsrRequests csrRequests = new MetaServerCsrRequests(kube, hub, pool);
    IssuerKeys issuerKeys =
        new IssuerKeys(kube.own(), hub, pool, Duration.ofMinutes(10), Clock.systemUTC());
    if (config.requireAuthorization()) {
      PolicyController policy = new PolicyController(kube.own(), hub, group.leadership());
      policy.start(Duration.ofSeconds(60));
      started.add(policy);
      hub.addSessionListener(policy);
      // IP SANs beyond loopback and link-local: only the address the node connects from (to this
      // cloudcore or, as its session Lease records, to another).
      CsrApprover approver = new CsrApprover(kube.own(), sessions, group.leadership(), metrics);
      approver.start(Duration.ofSeconds(60));
      started.add(approver);
      hub.addSessionListener(approver);
    }
    // The DynamicController's slot: it decides itself whether it is enabled.
    DynamicControllerModule dynamic =
        DynamicControllerModule.start(config, kube, hub, informers, metrics);
    started.add(dynamic);
    this.dynamic = dynamic;
    hub.addSessionListener(dynamic);

    if (hubConfig.enable() && hubConfig.websocket().enable()) {
      UpstreamHandler edgeSide =
          edge != null
              ? edge
              : (node, m) -> LOG.debug("edgeController disabled; dropped {} from {}", m, node);
      hub.start(
          (node, m) -> {
            if (IssuerKeys.RESOURCE.equals(m.resource())) {
              issuerKeys.handle(node, m);
            } else if (ResourcePath.CSR.equals(ResourcePath.parse(m.resource()).type())) {
              csrRequests.handle(node, m);
            } else {
              edgeSide.handle(node, m);
            }
          },
          dynamic);
      started.add(hub);
    }

    if (sync != null) {
      sync.start();
    }
    if (hubConfig.enable() && hubConfig.https().enable()) {
      bootstrap =
          new BootstrapServer(
              hubConfig,
              tls,
              node -> {
                try {
                  return Optional.of(kube.own().nodes().withName(node).get() != null);
                } catch (RuntimeException ex) {
                  return Optional.empty();
                }
              },
              pool,
              Clock.systemUTC());
      bootstrap.start();
      started.add(bootstrap);
      new JoinTokenRefresher(
              tls,
              kube.own(),
              Duration.ofHours(Math.max(1, hubConfig.tokenRefreshDuration())),
              scheduler,
              Clock.systemUTC(),
              group.leadership())
          .start();
    }
    modulesStarted = true;
    LOG.info("cloudcore started");
  }

  /**
   * The monitor server on {@code commonConfig.monitorServer.bindAddress} (empty: none), started
   * first so that {@code /readyz} tells what is still starting. An address that cannot be bound is
   * logged and cloudcore runs without it: metrics must not take the cloud down.
   */
  private void startMonitor(CloudCoreConfig config) {
    String bind =
        config.commonConfig() == null || config.commonConfig().monitorServer() == null
            ? ""
            : config.commonConfig().monitorServer().bindAddress();
    if (bind == null || bind.isBlank()) {
      LOG.info("commonConfig.monitorServer.bindAddress is empty: no metrics and health endpoints");
      return;
    }
    MonitorServer m = new MonitorServer("cloudcore", metrics.registry(), health);
    try {
      m.start(bind);
      monitor = m;
      started.add(m);
    } catch (IllegalArgumentException | IllegalStateException e) {
      LOG.error("cloudcore: monitor server: {}; metrics and health are not served", e.getMessage());
    }
  }

  /**
   * cloudcore is ready once its modules have started, the informers they need have listed, and
   * CloudHub listens for edges.
   */
  private void addChecks(CloudCoreConfig.Modules modules, CloudHubConfig hubConfig) {
    boolean edgeControllerOn =
        modules.edgeController() == null || modules.edgeController().enable();
    health.add(
        "informers-synced",
        () -> {
          if (edgeControllerOn) {
            EdgeController e = edgeController;
            String p =
                e == null
                    ? "edgecontroller: not started yet"
                    : notSynced("edgecontroller", e.synced());
            if (p != null) {
              return p;
            }
          }
          DynamicControllerModule d = dynamic;
          return d == null
              ? "dynamicController: not started yet"
              : notSynced("dynamicController", d.ready());
        });
    if (hubConfig.enable() && hubConfig.websocket().enable()) {
      health.add(
          "cloudhub-listening",
          () -> {
            CloudHub h = hub;
            return h == null || h.webSocketAddress() == null
                ? "CloudHub does not listen for edges yet (modules.cloudHub.websocket "
                    + hubConfig.websocket().address()
                    + ":"
                    + hubConfig.websocket().port()
                    + ")"
                : null;
          });
    }
    health.add("modules-started", () -> modulesStarted ? null : "cloudcore is still starting");
  }

  /** A check's answer for a start-up future: null once it completed normally. */
  private static String notSynced(String what, CompletableFuture<?> f) {
    if (!f.isDone()) {
      return what + ": informers have not listed yet";
    }
    if (f.isCompletedExceptionally()) {
      try {
        f.join();
      } catch (RuntimeException e) {
        Throwable c = e.getCause() == null ? e : e.getCause();
        return what + ": informers failed: " + c.getMessage();
      }
    }
    return null;
  }

  /** The monitor server's address, or null when none runs. */
  public InetSocketAddress monitorAddress() {
    return monitor == null ? null : monitor.address();
  }

  public CloudMetrics metrics() {
    return metrics;
  }

  public HealthChecks health() {
    return health;
  }

  /** An ObjectSync store that is never started: the sync controller is off, nothing is recorded. */
  private static ObjectSyncStore emptySyncs(KubeClients kube) {
    return new ObjectSyncStore(kube.own());
  }

  /** KubeEdge exits without advertiseAddress; Kedge falls back to the first host address. */
  static CloudHubConfig withAdvertiseAddress(CloudHubConfig c) {
    if (c.advertiseAddress() != null && !c.advertiseAddress().isEmpty()) {
      return c;
    }
    String ip = firstHostAddress();
    LOG.warn("modules.cloudHub.advertiseAddress is empty; using {}", ip);
    return new CloudHubConfig(
        c.enable(),
        c.keepaliveInterval(),
        c.nodeLimit(),
        c.tlsCAFile(),
        c.tlsCAKeyFile(),
        c.tlsCertFile(),
        c.tlsPrivateKeyFile(),
        c.writeTimeout(),
        List.of(ip),
        c.dnsNames(),
        c.edgeCertSigningDuration(),
        c.tokenRefreshDuration(),
        c.websocket(),
        c.quic(),
        c.https(),
        c.unixsocket(),
        c.authorization(),
        c.ackTimeout(),
        c.maxMessageBytes(),
        c.messageRateLimit(),
        c.messageBurst(),
        c.deliveryQueueLimit());
  }

  private static String firstHostAddress() {
    try {
      for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (!ni.isUp() || ni.isLoopback()) {
          continue;
        }
        for (InetAddress a : Collections.list(ni.getInetAddresses())) {
          if (a instanceof Inet4Address) {
            return a.getHostAddress();
          }
        }
      }
    } catch (SocketException e) {
      // fall through
    }
    return "127.0.0.1";
  }

  public CloudHub hub() {
    return hub;
  }

  public HubTls tls() {
    return tls;
  }

  /** The bootstrap server, or null when disabled. */
  public BootstrapServer bootstrap() {
    return bootstrap;
  }

  @Override
  public void close() {
    List<AutoCloseable> rev = new ArrayList<>(started);
    Collections.reverse(rev);
    for (AutoCloseable c : rev) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("stopping {} failed: {}", c.getClass().getSimpleName(), e.toString());
      }
    }
    started.clear();
  }

  private static void shutdown(ExecutorService e) {
    e.shutdownNow();
    try {
      e.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
    }
  }

  private static ThreadFactory threads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
