package io.kedge.edge.edged;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Runs the node's pods (KubeEdge's edged). MetaManager tells it about pod changes after they are
 * stored ({@link #podUpserted}, {@link #podRemoved}); at start it runs the pods found in the local
 * store, so a node restarted while offline brings its pods back. Each pod has a {@link PodWorker};
 * containers run in a {@link PodRuntime}; status goes to the cloud through a {@link PodStatusSink}.
 */
public final class Edged implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Edged.class);

  private final EdgedSettings settings;
  private final PodRuntime runtime;
  private final EdgeObjects objects;
  private final Map<String, PodWorker> byUid = new ConcurrentHashMap<>();
  private final Map<String, PodWorker> byContainer = new ConcurrentHashMap<>();
  private final ExecutorService workers;
  private final ScheduledExecutorService timer;
  private final PodWorker.Context context;
  private final ContainerLogs logs;
  private final PodCgroups cgroups;
  private final java.util.concurrent.atomic.AtomicLong restarts =
      new java.util.concurrent.atomic.AtomicLong();
  private volatile boolean closed;
  private volatile boolean started;

  public Edged(
      EdgedSettings settings,
      PodRuntime runtime,
      EdgeObjects objects,
      ServiceAccountTokens tokens,
      PodStatusSink sink,
      Clock clock) {
    this(settings, runtime, objects, tokens, sink, clock, Cgroups.detect());
  }

  /**
   * @param cgroups the host's cgroup file system for pod cgroups (empty: resource limits are left
   *     to the runtime, the process runtime refuses them)
   */
  public Edged(
      EdgedSettings settings,
      PodRuntime runtime,
      EdgeObjects objects,
      ServiceAccountTokens tokens,
      PodStatusSink sink,
      Clock clock,
      Optional<Cgroups> cgroups) {
    this.settings = settings;
    this.runtime = runtime;
    this.objects = objects;
    AtomicInteger n = new AtomicInteger();
    this.workers =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "edged-pod-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "edged-timer");
              t.setDaemon(true);
              return t;
            });
    PodWorker.ContainerIndex index =
        new PodWorker.ContainerIndex() {
          @Override
          public void started(String containerId, PodWorker worker) {
            byContainer.put(containerId, worker);
          }

          @Override
          public void gone(PodWorker worker) {
            byUid.remove(worker.uid, worker);
            byContainer.values().removeIf(w -> w == worker);
          }

          @Override
          public void restarted(PodWorker worker) {
            restarts.incrementAndGet();
          }
        };
    PodEvents events = new PodEvents(sink, settings.node().nodeName(), clock);
    List<Path> credentialFiles = RegistryCredentials.nodeFiles(settings.rootDirectory());
    this.cgroups =
        new PodCgroups(
            cgroups, settings.node().nodeName(), settings.node().allocatableMemory().longValue());
    this.context =
        new PodWorker.Context(
            settings,
            runtime,
            objects,
            tokens,
            sink,
            clock,
            workers,
            timer,
            index,
            events,
            new ImagePulls(
                runtime,
                () -> RegistryCredentials.fromNodeFiles(credentialFiles),
                settings.backoff(),
                events,
                clock),
            new Prober(runtime),
            this.cgroups);
    this.logs = new ContainerLogs(this::workerFor, runtime);
    runtime.setListener(
        id -> {
          PodWorker w = byContainer.get(id);
          if (w != null) {
            w.requestSync();
          }
        });
    sink.whenConnected(() -> byUid.values().forEach(PodWorker::reconnected));
  }

  /**
   * Edged as edgecore runs it: the runtime {@code modules.edged.runtime} names, pods and their
   * objects from the store (ConfigMaps, Secrets and tokens asked from the cloud when missing),
   * status to the cloud over {@code link}, and pod changes from the store once committed. Call
   * {@link #start()} next.
   */
  public static Edged forNode(
      io.kedge.protocol.config.EdgeCoreConfig config,
      io.kedge.edge.store.ObjectStore store,
      io.kedge.edge.metamanager.CloudQueries queries,
      io.kedge.edge.hub.CloudLink link,
      Clock clock)
      throws PodRuntime.RuntimeFailure {
    return forNode(config, config.nodeName(), store, queries, link, clock);
  }

  /**
   * As {@link #forNode(io.kedge.protocol.config.EdgeCoreConfig, io.kedge.edge.store.ObjectStore,
   * io.kedge.edge.metamanager.CloudQueries, io.kedge.edge.hub.CloudLink, Clock)}, for the node name
   * edgecore settled on (hostnameOverride, else the host name).
   */
  public static Edged forNode(
      io.kedge.protocol.config.EdgeCoreConfig config,
      String node,
      io.kedge.edge.store.ObjectStore store,
      io.kedge.edge.metamanager.CloudQueries queries,
      io.kedge.edge.hub.CloudLink link,
      Clock clock)
      throws PodRuntime.RuntimeFailure {
    String ip = config.modules().edged().nodeIP();
    NodeInfo host = NodeInfo.detect(node, ip == null || ip.isEmpty() ? NodeInfo.hostAddress() : ip);
    // What pods see as the node's allocatable: what edgecore keeps for itself is not theirs.
    NodeInfo info =
        NodeReservation.ofThisProcess()
            .applyTo(
                host,
                host.allocatableMemory().longValue(),
                Runtime.getRuntime().availableProcessors());
    EdgedSettings settings = EdgedSettings.from(config, info);
    Edged edged =
        new Edged(
            settings,
            PodRuntimes.create(config, clock),
            new StoreEdgeObjects(store, queries, node),
            new CloudServiceAccountTokens(queries),
            new CloudPodStatusSink(link, settings.lookupTimeout()),
            clock);
    store.addListener(new StorePodFeed(edged, node));
    return edged;
  }

  /**
   * Starts the pods of this node found in the local store and removes what is left of pods that are
   * gone (directories, sandboxes of an earlier run).
   */
  public void start() {
    try {
      Files.createDirectories(settings.rootDirectory());
      Files.setPosixFilePermissions(
          settings.rootDirectory(),
          java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot prepare " + settings.rootDirectory(), e);
    }
    // From here on store events run pods; the stored pods are read after, so none is missed
    // (a pod seen twice is updated twice, which changes nothing).
    started = true;
    List<JsonNode> stored = objects.pods();
    log.info(
        "edged starting on node {} with the {} runtime: {} pod(s) in the local store",
        settings.node().nodeName(),
        runtime.name(),
        stored.size());
    log.info("edged: {}", cgroups.start());
    if (settings.service().isEmpty()) {
      log.info(
          "pods get empty KUBERNETES_SERVICE_HOST/PORT: requireAuthorization is off, so MetaServer"
              + " serves plain HTTP, which in-cluster clients do not accept");
    }
    for (String sandbox : runtime.leftoverSandboxes()) {
      log.info("removing sandbox {} left by an earlier run", sandbox);
      runtime.removeSandbox(sandbox, Duration.ZERO);
    }
    List<String> keep = new ArrayList<>();
    for (JsonNode pod : stored) {
      keep.add(pod.path("metadata").path("uid").asString(""));
      podUpserted(pod);
    }
    for (String uid : cgroups.podUids()) {
      if (!keep.contains(uid)) {
        log.info("removing the cgroup of pod {}, which is gone", uid);
        cgroups.removePod(uid);
      }
    }
    try (var dirs = Files.list(settings.rootDirectory())) {
      for (Path d : (Iterable<Path>) dirs::iterator) {
        String n = d.getFileName().toString();
        if (!n.startsWith(".") && Files.isDirectory(d) && !keep.contains(n)) {
          log.info("removing directory {} of a pod that is gone", d);
          PodDirectories.deleteRecursively(d);
        }
      }
    } catch (IOException e) {
      log.warn("cannot list {}: {}", settings.rootDirectory(), e.getMessage());
    }
    long every = settings.logCheckPeriod().toMillis();
    // On a worker thread: reading a pod's containers waits while that pod is being synced.
    timer.scheduleWithFixedDelay(
        () -> workers.execute(this::rotateLogs), every, every, TimeUnit.MILLISECONDS);
  }

  /** A pod of this node was added or changed in the store. */
  public void podUpserted(JsonNode pod) {
    if (closed || !started) {
      // before start() nothing runs: edgecore may still be waiting for MetaServer's certificate,
      // and start() takes every pod from the store
      return;
    }
    JsonNode meta = pod.path("metadata");
    String uid = meta.path("uid").asString("");
    if (uid.isEmpty()) {
      log.warn(
          "ignoring pod {}/{} without uid",
          meta.path("namespace").asString(""),
          meta.path("name").asString(""));
      return;
    }
    String key = meta.path("namespace").asString("") + "/" + meta.path("name").asString("");
    // A pod recreated under the same name is a new pod: the old one goes.
    for (PodWorker w : byUid.values()) {
      if (w.key().equals(key) && !w.uid.equals(uid)) {
        w.remove();
      }
    }
    PodWorker w = byUid.computeIfAbsent(uid, u -> new PodWorker(context, pod));
    w.update(pod);
  }

  /** A pod of this node was removed from the store ({@code uid} may be empty: by name). */
  public void podRemoved(String namespace, String name, String uid) {
    if (!started) {
      return; // start() removes what is left of pods that are gone
    }
    for (PodWorker w : byUid.values()) {
      if (w.namespace.equals(namespace)
          && w.name.equals(name)
          && (uid == null || uid.isEmpty() || uid.equals(w.uid))) {
        w.remove();
      }
    }
  }

  /** Container logs of this node's pods, for MetaServer's {@code pods/{name}/log}. */
  public PodLogs logs() {
    return logs;
  }

  /** exec and attach into this node's containers, for edgeStream. */
  public ContainerStreams streams() {
    return new ContainerStreams() {
      @Override
      public StreamTarget exec(
          String namespace,
          String pod,
          String container,
          java.util.List<String> command,
          StreamOptions options)
          throws StreamException {
        if (command.isEmpty()) {
          throw new StreamException(400, "you must specify at least one command for the container");
        }
        String id = runningContainer(namespace, pod, container);
        try {
          return runtime.execStream(id, command, options);
        } catch (PodRuntime.RuntimeFailure e) {
          throw new StreamException(500, e.getMessage());
        }
      }

      @Override
      public StreamTarget attach(
          String namespace, String pod, String container, StreamOptions options)
          throws StreamException {
        String id = runningContainer(namespace, pod, container);
        try {
          return runtime.attachStream(id, options);
        } catch (PodRuntime.RuntimeFailure e) {
          throw new StreamException(500, e.getMessage());
        }
      }
    };
  }

  /** The runtime's id of the pod's running container, or the kubelet's refusal. */
  private String runningContainer(String namespace, String pod, String container)
      throws ContainerStreams.StreamException {
    PodWorker w =
        workerFor(namespace, pod)
            .orElseThrow(
                () ->
                    new ContainerStreams.StreamException(
                        404, "pod " + namespace + "/" + pod + " not found on this node"));
    ContainerRecord r = w.containers().get(container);
    if (r == null) {
      throw new ContainerStreams.StreamException(
          400, "container " + container + " is not valid for pod " + pod);
    }
    if (r.id == null || !r.running()) {
      throw new ContainerStreams.StreamException(
          400, "container \"" + container + "\" in pod \"" + pod + "\" is not running");
    }
    return r.id;
  }

  private Optional<PodWorker> workerFor(String namespace, String name) {
    for (PodWorker w : byUid.values()) {
      if (w.namespace.equals(namespace) && w.name.equals(name)) {
        return Optional.of(w);
      }
    }
    return Optional.empty();
  }

  private void rotateLogs() {
    for (PodWorker w : byUid.values()) {
      try {
        logs.rotate(w, settings.maxLogBytes());
      } catch (RuntimeException e) {
        log.warn("log rotation for pod {} failed: {}", w.key(), e.toString());
      }
    }
  }

  // ---------------------------------------------------------------- for metrics

  /** The pods Edged runs, by phase as last reported ({@code Pending}, {@code Running}, …). */
  public Map<String, Integer> podsByPhase() {
    Map<String, Integer> out = new java.util.TreeMap<>();
    for (PodWorker w : byUid.values()) {
      out.merge(w.phase(), 1, Integer::sum);
    }
    return out;
  }

  /** Their containers by state: {@code running}, {@code waiting} or {@code terminated}. */
  public Map<String, Integer> containersByState() {
    Map<String, Integer> out = new java.util.TreeMap<>();
    for (PodWorker w : byUid.values()) {
      for (ContainerRecord r : w.containers().values()) {
        String state =
            r.current != null && r.current.running()
                ? "running"
                : r.terminated() ? "terminated" : "waiting";
        out.merge(state, 1, Integer::sum);
      }
    }
    return out;
  }

  /** Container restarts since edgecore started. */
  public long containerRestarts() {
    return restarts.get();
  }

  /** Stops all containers (their pods start again at the next start) and the workers. */
  @Override
  public void close() {
    closed = true;
    timer.shutdownNow();
    // In parallel, each pod with its grace period: the node's shutdown takes one, not one per pod.
    List<Thread> stops = new ArrayList<>();
    for (PodWorker w : byUid.values()) {
      Thread t = new Thread(() -> w.shutdown(Duration.ofSeconds(5)), "edged-shutdown-" + w.name);
      t.start();
      stops.add(t);
    }
    for (Thread t : stops) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(90));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    workers.shutdownNow();
    runtime.close();
    cgroups.close();
  }
}
