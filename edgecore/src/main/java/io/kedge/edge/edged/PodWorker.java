package io.kedge.edge.edged;

import io.kedge.protocol.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Keeps one pod running as its spec says: prepares volumes and environment, starts containers (init
 * containers first), restarts them by restart policy with back-off, stops them when the pod is
 * deleted, and reports the pod's status. All work for a pod happens in {@link #sync()}, one call at
 * a time; triggers (spec updates, container exits, timers, reconnects) only ask for a sync.
 */
final class PodWorker {
  private static final Logger log = LoggerFactory.getLogger(PodWorker.class);

  /** How soon a pod waiting for a piece that has not come yet looks again. */
  private static final Duration SOON = Duration.ofSeconds(1);

  /** What a worker needs from Edged. */
  record Context(
      EdgedSettings settings,
      PodRuntime runtime,
      EdgeObjects objects,
      ServiceAccountTokens tokens,
      PodStatusSink sink,
      Clock clock,
      ExecutorService workers,
      ScheduledExecutorService timer,
      ContainerIndex index,
      PodEvents events,
      ImagePulls images,
      Prober prober,
      PodCgroups cgroups) {}

  /** Lets Edged route container events to the pod they belong to. */
  interface ContainerIndex {
    void started(String containerId, PodWorker worker);

    void gone(PodWorker worker);

    /** A container of {@code worker} is started again (its restart count grew). */
    default void restarted(PodWorker worker) {}
  }

  private final Context ctx;
  final String uid;
  final String namespace;
  final String name;
  private final Path podDirectory;
  private final PodEvents.PodRef ref;
  private final AtomicBoolean queued = new AtomicBoolean();

  private volatile JsonNode pod;
  private volatile boolean removed;
  private String sandboxId;
  private String cgroupParent = "";
  private volatile String podIp;
  private volatile String phase = "Pending"; // as last reported, for metrics
  private final Map<String, ContainerRecord> containers = new LinkedHashMap<>();

  /**
   * What {@link #containers()} hands out, replaced whenever a container is added. Readers (logs,
   * rotation) must not wait for the monitor: a sync holds it while it fetches inputs from the
   * cloud.
   */
  private volatile Map<String, ContainerRecord> containerView = Map.of();

  private final Map<String, ServiceAccountTokens.Token> tokens = new HashMap<>();
  private final Map<String, Instant> tokenRefreshAt = new HashMap<>();
  private final Map<String, Instant> transitions = new HashMap<>();
  private final Map<String, String> conditionStatus = new HashMap<>();
  private Instant startTime;
  private String podMessage = "";
  private String podReason = "";
  private String reported;
  private String lastBuilt;
  private boolean reportInFlight;
  private boolean deleteSent;
  private boolean stopped;
  private ScheduledFuture<?> wakeUp;
  private boolean closed;

  PodWorker(Context ctx, JsonNode pod) {
    this.ctx = ctx;
    this.pod = pod;
    JsonNode meta = pod.path("metadata");
    this.uid = meta.path("uid").asString("");
    this.namespace = meta.path("namespace").asString("");
    this.name = meta.path("name").asString("");
    this.podDirectory = ctx.settings().rootDirectory().resolve(uid);
    this.ref = new PodEvents.PodRef(namespace, name, uid);
    this.podIp = ctx.settings().node().hostIP();
  }

  String key() {
    return namespace + "/" + name;
  }

  JsonNode pod() {
    return pod;
  }

  void update(JsonNode newer) {
    this.pod = newer;
    requestSync();
  }

  void remove() {
    removed = true;
    requestSync();
  }

  /** The pod's phase as last reported. */
  String phase() {
    return phase;
  }

  /** The pod's containers and their current runtime ids, for logs. */
  Map<String, ContainerRecord> containers() {
    return containerView;
  }

  Path podDirectory() {
    return podDirectory;
  }

  void requestSync() {
    if (queued.compareAndSet(false, true)) {
      try {
        ctx.workers().execute(this::runSync);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        queued.set(false); // shutting down
      }
    }
  }

  private void runSync() {
    queued.set(false);
    try {
      sync();
    } catch (RuntimeException e) {
      log.error("pod {} ({}): sync failed", key(), uid, e);
      scheduleIn(ctx.settings().retryPeriod());
    }
  }

  synchronized void sync() {
    if (closed) {
      return;
    }
    if (removed) {
      cleanUp();
      return;
    }
    JsonNode p = pod;
    JsonNode meta = p.path("metadata");
    if (!meta.path("deletionTimestamp").isMissingNode()
        && !meta.path("deletionTimestamp").isNull()) {
      terminate(p);
      return;
    }
    Instant now = ctx.clock().instant();
    if (startTime == null) {
      startTime = now;
    }
    initRecords(p);
    Instant next = now.plus(ctx.settings().resyncPeriod());
    try {
      next = min(next, reconcile(p, now));
    } catch (ContainerConfigException e) {
      for (ContainerRecord c : containers.values()) {
        if (c.current == null) {
          c.waiting(e.reason(), e.getMessage());
        }
      }
      logOnce(e.getMessage());
      Duration retry = ctx.settings().retryPeriod();
      if (ContainerConfigException.NOT_READY.equals(e.reason()) && retry.compareTo(SOON) > 0) {
        retry = SOON; // usually a matter of the apiserver catching up
      }
      next = min(next, now.plus(retry));
    }
    report(p, false);
    scheduleAt(next);
    log.debug("pod {}: synced, next look at {}", key(), next);
  }

  private String lastLogged = "";

  private void logOnce(String message) {
    if (!message.equals(lastLogged)) {
      lastLogged = message;
      log.warn("pod {} ({}): {}", key(), uid, message);
    }
  }

  private void initRecords(JsonNode p) {
    for (String list : new String[] {"initContainers", "containers"}) {
      boolean init = list.equals("initContainers");
      for (JsonNode c : p.path("spec").path(list)) {
        String n = c.path("name").asString("");
        ContainerRecord r = containers.computeIfAbsent(n, k -> new ContainerRecord(k, init));
        r.image = c.path("image").asString("");
      }
    }
    if (containerView.size() != containers.size()) {
      containerView = Collections.unmodifiableMap(new LinkedHashMap<>(containers));
    }
  }

  /** Starts what should run; returns when to look again. */
  private Instant reconcile(JsonNode p, Instant now) throws ContainerConfigException {
    Instant next = Instant.MAX;
    if (containers.isEmpty()) {
      podMessage = "the pod has no containers";
      return next;
    }
    PodDirectories.ensure(podDirectory, "rwx--x--x", 0, 0);
    if (sandboxId == null) {
      cgroupParent = podCgroup(p);
      SandboxConfig sandbox = sandboxConfig(p);
      try {
        sandboxId = ctx.runtime().runSandbox(sandbox);
      } catch (PodRuntime.RuntimeFailure e) {
        ctx.events().warning(ref, null, "FailedCreatePodSandBox", e.getMessage());
        throw new ContainerConfigException(e.reason(), e.getMessage());
      }
      podIp = ctx.runtime().podIp(sandboxId).orElse(ctx.settings().node().hostIP());
    }
    SandboxConfig sandbox = sandboxConfig(p);
    p = withPodIp(p);
    PodInputs inputs = fetchInputs(p, now);
    for (Instant t : tokenRefreshAt.values()) {
      next = min(next, t);
    }
    PodVolumes.Prepared volumes =
        PodVolumes.prepare(p, podDirectory, inputs, ctx.settings().node());
    podMessage = "";
    podReason = "";
    String restartPolicy = p.path("spec").path("restartPolicy").asString("Always");

    // Init containers run one after the other, each to success, before the app containers.
    for (JsonNode c : p.path("spec").path("initContainers")) {
      ContainerRecord r = containers.get(c.path("name").asString(""));
      if (r.done) {
        continue;
      }
      refresh(r);
      if (r.running()) {
        return next;
      }
      if (r.terminated() && !r.exitHandled) {
        r.exitHandled = true;
        if (r.current.exitCode() == 0) {
          r.done = true;
          continue;
        }
        if (restartPolicy.equals("Never")) {
          return next; // the pod failed: phase says so
        }
        scheduleRestart(r, now);
      }
      if (r.terminated() && r.current.exitCode() != 0 && restartPolicy.equals("Never")) {
        return next;
      }
      if (r.current == null) {
        next = min(next, start(p, c, r, sandbox, volumes, inputs, now));
      }
      return next;
    }

    for (JsonNode c : p.path("spec").path("containers")) {
      ContainerRecord r = containers.get(c.path("name").asString(""));
      refresh(r);
      killOnProbeFailure(p, r, restartPolicy);
      if (!r.running()) {
        r.stopProbes();
      }
      String hash = specOf(c);
      if (r.running() && !r.specHash.isEmpty() && !hash.equals(r.specHash)) {
        log.info("pod {}: container {} changed, restarting it", key(), r.name);
        r.stopProbes();
        ctx.runtime().stopContainer(r.id, grace(p));
        refresh(r);
      }
      if (r.terminated() && !r.exitHandled) {
        r.exitHandled = true;
        int code = r.current.exitCode();
        boolean restart =
            restartPolicy.equals("Always") || (restartPolicy.equals("OnFailure") && code != 0);
        if (restart) {
          scheduleRestart(r, now);
        }
      }
      if (r.current == null) {
        next = min(next, start(p, c, r, sandbox, volumes, inputs, now));
      }
    }
    return next;
  }

  /** The exited instance becomes lastState; the container waits for its back-off. */
  private void scheduleRestart(ContainerRecord r, Instant now) {
    ContainerState ended = r.current;
    Duration ran =
        ended.startedAt() == null || ended.finishedAt() == null
            ? Duration.ZERO
            : Duration.between(ended.startedAt(), ended.finishedAt());
    if (ran.compareTo(ctx.settings().backoff().resetAfter()) >= 0) {
      r.backoffLevel = 0;
    }
    Duration delay = ctx.settings().backoff().delay(r.backoffLevel);
    r.backoffLevel++;
    r.lastTerminated = ended;
    ctx.runtime().removeContainer(r.id);
    r.current = null;
    r.id = null;
    r.notBefore = now.plus(delay);
    r.waiting(
        "CrashLoopBackOff",
        "back-off "
            + delay.toSeconds()
            + "s restarting failed container="
            + r.name
            + " pod="
            + name
            + "_"
            + namespace
            + "("
            + uid
            + ")");
    r.restartCount++;
    ctx.index().restarted(this);
  }

  private Instant start(
      JsonNode p,
      JsonNode c,
      ContainerRecord r,
      SandboxConfig sandbox,
      PodVolumes.Prepared volumes,
      PodInputs inputs,
      Instant now) {
    if (now.isBefore(r.notBefore)) {
      return r.notBefore;
    }
    String fieldPath = PodEvents.fieldPath(r.name, r.init);
    ContainerConfig config;
    Optional<ProbeSpec> startup;
    Optional<ProbeSpec> readiness;
    Optional<ProbeSpec> liveness;
    try {
      config = containerConfig(p, c, r, volumes, inputs);
      startup = ProbeSpec.of(c, ProbeSpec.Type.STARTUP);
      readiness = ProbeSpec.of(c, ProbeSpec.Type.READINESS);
      liveness = ProbeSpec.of(c, ProbeSpec.Type.LIVENESS);
    } catch (ContainerConfigException e) {
      r.waiting(e.reason(), e.getMessage());
      logOnce("container " + r.name + ": " + e.getMessage());
      ctx.events().warning(ref, fieldPath, "Failed", "Error: " + e.getMessage());
      return backoff(r, now);
    }
    if (ctx.runtime().usesImages()) {
      ImagePulls.Result image =
          ctx.images().ensure(ref, fieldPath, c, pullCredentials(p, inputs), sandbox, r.pulls, now);
      if (!image.isReady()) {
        r.waiting(image.reason(), image.message());
        return image.retryAt();
      }
      r.imageId = image.imageRef();
      config = config.withImageRef(image.imageRef());
    } else if (!r.imageNoticeGiven && !r.image.isEmpty()) {
      r.imageNoticeGiven = true;
      ctx.events()
          .normal(
              ref,
              fieldPath,
              "ImageNotUsed",
              "The process runtime runs the container's command on the host: image \""
                  + r.image
                  + "\" is neither pulled nor used");
    }
    try {
      String id = ctx.runtime().startContainer(sandboxId, sandbox, config);
      r.id = id;
      r.specHash = specOf(c);
      r.exitHandled = false;
      ctx.index().started(id, this);
      refresh(r);
      pruneLogs(r);
      ctx.events().normal(ref, fieldPath, "Started", "Started container " + r.name);
      if (!r.init && ContainerProbes.any(startup, readiness, liveness)) {
        Instant startedAt =
            r.current != null && r.current.startedAt() != null ? r.current.startedAt() : now;
        r.probes =
            new ContainerProbes(
                id,
                startedAt,
                startup,
                readiness,
                liveness,
                ctx.prober(),
                () -> podIp,
                ctx.timer(),
                ctx.workers(),
                ctx.clock(),
                new ContainerProbes.Listener() {
                  @Override
                  public void failed(ProbeSpec spec, String output) {
                    ctx.events()
                        .warning(
                            ref,
                            fieldPath,
                            "Unhealthy",
                            spec.type().label + " probe failed: " + output);
                  }

                  @Override
                  public void changed() {
                    requestSync();
                  }
                });
        r.probes.start();
      }
      return Instant.MAX;
    } catch (PodRuntime.RuntimeFailure e) {
      r.waiting(e.reason(), e.getMessage());
      logOnce("container " + r.name + ": " + e.getMessage());
      ctx.events().warning(ref, fieldPath, "Failed", "Error: " + e.getMessage());
      return backoff(r, now);
    }
  }

  /**
   * A running container whose liveness or startup probe failed for good is stopped (the kubelet's
   * {@code Killing} event); the restart policy then decides, as for any exit.
   */
  private void killOnProbeFailure(JsonNode p, ContainerRecord r, String restartPolicy) {
    if (!r.running() || r.probes == null || !r.probes.containerId().equals(r.id)) {
      return;
    }
    Optional<ContainerProbes.Kill> kill = r.probes.kill();
    if (kill.isEmpty()) {
      return;
    }
    String probe = kill.get().spec().type().label.toLowerCase(java.util.Locale.ROOT);
    String message =
        "Container "
            + r.name
            + " failed "
            + probe
            + " probe"
            + (restartPolicy.equals("Never") ? "" : ", will be restarted");
    log.info("pod {}: {} ({})", key(), message, kill.get().output());
    ctx.events().normal(ref, PodEvents.fieldPath(r.name, r.init), "Killing", message);
    r.stopProbes();
    ctx.runtime().stopContainer(r.id, kill.get().spec().terminationGrace().orElse(grace(p)));
    refresh(r);
  }

  /** The pod's cgroup with its limits, or "" when this host has none for pods. */
  private String podCgroup(JsonNode p) throws ContainerConfigException {
    List<ContainerResources> app = new ArrayList<>();
    List<ContainerResources> init = new ArrayList<>();
    for (JsonNode c : p.path("spec").path("containers")) {
      app.add(ContainerResources.of(c));
    }
    for (JsonNode c : p.path("spec").path("initContainers")) {
      init.add(ContainerResources.of(c));
    }
    try {
      return ctx.cgroups().ensurePod(uid, app, init).orElse("");
    } catch (java.io.IOException e) {
      throw new ContainerConfigException(
          "CreatePodSandboxError", "cannot create the pod's cgroup: " + e.getMessage());
    }
  }

  /** The pod with {@code status.podIP} as this node gives it (for the downward API). */
  private JsonNode withPodIp(JsonNode p) {
    ObjectNode copy = (ObjectNode) p.deepCopy();
    JsonNode st = copy.path("status");
    ObjectNode status = st.isObject() ? (ObjectNode) st : copy.putObject("status");
    status.put("podIP", podIp);
    status.put("hostIP", ctx.settings().node().hostIP());
    return copy;
  }

  /** Registry credentials from the pod's {@code imagePullSecrets}. */
  private List<RegistryCredentials.Entry> pullCredentials(JsonNode p, PodInputs inputs) {
    List<RegistryCredentials.Entry> out = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (JsonNode s : p.path("spec").path("imagePullSecrets")) {
      String n = s.path("name").asString("");
      if (n.isEmpty()) {
        continue;
      }
      Optional<JsonNode> secret = inputs.secret(n);
      if (secret.isEmpty()) {
        missing.add(n);
        continue;
      }
      try {
        out.addAll(RegistryCredentials.fromSecret(secret.get()));
      } catch (RuntimeException e) {
        missing.add(n);
        logOnce("image pull secret " + n + " is unusable: " + e.getMessage());
      }
    }
    if (!missing.isEmpty()) {
      ctx.events()
          .warning(
              ref,
              null,
              "FailedToRetrieveImagePullSecret",
              "Unable to retrieve some image pull secrets ("
                  + String.join(", ", missing)
                  + "); attempting to pull the image may not succeed.");
    }
    return out;
  }

  /** Retries of containers that cannot be configured or started back off like crashes. */
  private Instant backoff(ContainerRecord r, Instant now) {
    Duration d = ctx.settings().backoff().delay(Math.max(1, r.backoffLevel));
    Duration retry = ctx.settings().retryPeriod();
    if (d.compareTo(retry) < 0) {
      d = retry;
    }
    r.backoffLevel++;
    r.notBefore = now.plus(d);
    return r.notBefore;
  }

  private ContainerConfig containerConfig(
      JsonNode p, JsonNode c, ContainerRecord r, PodVolumes.Prepared volumes, PodInputs inputs)
      throws ContainerConfigException {
    ContainerEnvironment.Result env =
        ContainerEnvironment.build(p, c, inputs, ctx.settings().node(), ctx.settings().service());
    List<ContainerConfig.Mount> mounts = PodVolumes.mounts(c, volumes);
    JsonNode podSec = p.path("spec").path("securityContext");
    JsonNode sec = c.path("securityContext");
    long user =
        sec.path("runAsUser").asLong(podSec.path("runAsUser").asLong(ctx.settings().defaultUser()));
    long group =
        sec.path("runAsGroup")
            .asLong(
                podSec
                    .path("runAsGroup")
                    .asLong(
                        sec.has("runAsUser") || podSec.has("runAsUser")
                            ? user
                            : ctx.settings().defaultUser()));
    List<Long> groups = new ArrayList<>();
    if (podSec.has("fsGroup")) {
      groups.add(podSec.path("fsGroup").asLong());
    }
    for (JsonNode g : podSec.path("supplementalGroups")) {
      groups.add(g.asLong());
    }
    List<String> command = new ArrayList<>(env.command());
    command.addAll(env.args());
    boolean commandSet = !env.command().isEmpty();
    return new ContainerConfig(
        r.name,
        c.path("image").asString(""),
        command,
        commandSet,
        env.args(),
        env.env(),
        mounts,
        c.path("workingDir").asString(""),
        user,
        group,
        groups,
        r.name + "/" + r.restartCount + ".log",
        r.restartCount,
        ContainerResources.of(c),
        "");
  }

  /** Keeps the current and the previous log of a container (for {@code --previous}). */
  private void pruneLogs(ContainerRecord r) {
    Path dir = podDirectory.resolve("logs").resolve(r.name);
    for (int i = 0; i < r.restartCount - 1; i++) {
      try {
        Files.deleteIfExists(dir.resolve(i + ".log"));
        Files.deleteIfExists(dir.resolve(i + ".log.1"));
      } catch (java.io.IOException e) {
        log.debug("cannot prune {}", dir, e);
      }
    }
  }

  private void refresh(ContainerRecord r) {
    if (r.id != null) {
      Optional<ContainerState> s = ctx.runtime().containerState(r.id);
      if (s.isPresent()) {
        r.current = s.get();
      } else if (r.current != null && !r.current.exited()) {
        // The runtime lost it (e.g. restarted underneath us): treat as exited.
        r.current =
            new ContainerState(
                r.id,
                ContainerState.Phase.EXITED,
                r.current.createdAt(),
                r.current.startedAt(),
                ctx.clock().instant(),
                137,
                "Error",
                "the container runtime no longer knows this container");
      }
    }
  }

  private PodInputs fetchInputs(JsonNode p, Instant now) {
    PodInputs inputs = new PodInputs();
    PodInputs.References refs = PodInputs.References.of(p);
    Map<String, CompletableFuture<Optional<JsonNode>>> cms = new LinkedHashMap<>();
    Map<String, CompletableFuture<Optional<JsonNode>>> secs = new LinkedHashMap<>();
    for (String n : refs.configMaps()) {
      cms.put(n, ctx.objects().configMap(namespace, n).toCompletableFuture());
    }
    for (String n : refs.secrets()) {
      secs.put(n, ctx.objects().secret(namespace, n).toCompletableFuture());
    }
    if (ctx.runtime().usesImages()) {
      for (JsonNode s : p.path("spec").path("imagePullSecrets")) {
        String n = s.path("name").asString("");
        if (!n.isEmpty() && !secs.containsKey(n)) {
          secs.put(n, ctx.objects().secret(namespace, n).toCompletableFuture());
        }
      }
    }
    long timeout = ctx.settings().lookupTimeout().toMillis();
    cms.forEach((n, f) -> inputs.configMaps.put(n, await(f, timeout, "configmap " + n)));
    secs.forEach((n, f) -> inputs.secrets.put(n, await(f, timeout, "secret " + n)));

    String sa = p.path("spec").path("serviceAccountName").asString("");
    if (sa.isEmpty()) {
      sa = "default";
    }
    for (PodVolumes.TokenSource t : PodVolumes.tokenSources(p)) {
      ServiceAccountTokens.Token have = tokens.get(t.key());
      Instant refreshAt = tokenRefreshAt.get(t.key());
      if (have == null || refreshAt == null || !now.isBefore(refreshAt)) {
        List<String> auds = t.audience().isEmpty() ? List.of() : List.of(t.audience());
        try {
          ServiceAccountTokens.Token got =
              ctx.tokens()
                  .token(namespace, sa, auds, t.expirationSeconds(), name, uid)
                  .toCompletableFuture()
                  .get(timeout, TimeUnit.MILLISECONDS);
          tokens.put(t.key(), got);
          // Refresh at 80 % of the lifetime, as the kubelet does.
          Duration life = Duration.between(now, got.expiration());
          if (life.isNegative()) {
            life = Duration.ZERO;
          }
          tokenRefreshAt.put(t.key(), now.plus(life.multipliedBy(8).dividedBy(10)));
        } catch (Exception e) {
          Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
          logOnce("service account token for " + namespace + "/" + sa + ": " + cause);
          // Keep the token we have (still valid offline); try again soon.
          tokenRefreshAt.put(t.key(), now.plus(ctx.settings().retryPeriod()));
        }
      }
      ServiceAccountTokens.Token tok = tokens.get(t.key());
      if (tok != null) {
        inputs.tokens.put(t.key(), tok);
      }
    }
    return inputs;
  }

  private Optional<JsonNode> await(CompletableFuture<Optional<JsonNode>> f, long ms, String what) {
    try {
      return f.get(ms, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      logOnce("cannot read " + what + " for the pod: " + e);
      return Optional.empty();
    }
  }

  private SandboxConfig sandboxConfig(JsonNode p) {
    Map<String, String> labels = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : p.path("metadata").path("labels").properties()) {
      labels.put(e.getKey(), e.getValue().asString(""));
    }
    return new SandboxConfig(
        namespace,
        name,
        uid,
        ctx.settings().node().nodeName(),
        podDirectory,
        podDirectory.resolve("logs"),
        labels,
        Map.of(),
        p.path("spec").path("hostNetwork").asBoolean(false),
        cgroupParent);
  }

  private Duration grace(JsonNode p) {
    JsonNode meta = p.path("metadata");
    long s =
        meta.has("deletionGracePeriodSeconds")
            ? meta.path("deletionGracePeriodSeconds").asLong(30)
            : p.path("spec").path("terminationGracePeriodSeconds").asLong(30);
    return Duration.ofSeconds(Math.max(0, s));
  }

  /** The pod is being deleted: stop everything, report the end, ask the cloud to delete it. */
  private void terminate(JsonNode p) {
    initRecords(p);
    stopAll(grace(p));
    report(p, true);
    if (lastBuilt != null && lastBuilt.equals(reported) && !deleteSent) {
      deleteSent = true;
      ctx.sink()
          .deletePod(namespace, name, uid)
          .whenCompleteAsync(
              (v, err) -> {
                if (err != null) {
                  synchronized (this) {
                    deleteSent = false;
                  }
                  log.info(
                      "pod {}: delete not confirmed yet ({}); will retry", key(), err.toString());
                  scheduleIn(ctx.settings().retryPeriod());
                } else {
                  log.info("pod {} ({}) stopped and deleted", key(), uid);
                }
              },
              ctx.workers());
    }
  }

  private void stopAll(Duration grace) {
    if (stopped) {
      return;
    }
    List<Thread> stops = new ArrayList<>();
    for (ContainerRecord r : containers.values()) {
      r.stopProbes();
      refresh(r);
      if (r.id != null && r.running()) {
        String id = r.id;
        // Stop containers in parallel, each with the full grace period, as the kubelet does.
        Thread t = new Thread(() -> ctx.runtime().stopContainer(id, grace), "edged-stop-" + r.name);
        t.start();
        stops.add(t);
      }
    }
    for (Thread t : stops) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (ContainerRecord r : containers.values()) {
      refresh(r);
      if (r.current == null && r.lastTerminated == null) {
        r.waiting("ContainerCreating", "");
      }
      r.exitHandled = true;
    }
    stopped = true;
  }

  private void cleanUp() {
    stopAll(pod == null ? Duration.ofSeconds(30) : grace(pod));
    if (sandboxId != null) {
      ctx.runtime().removeSandbox(sandboxId, Duration.ZERO);
    }
    for (ContainerRecord r : containers.values()) {
      if (r.id != null) {
        ctx.runtime().removeContainer(r.id);
      }
    }
    ctx.cgroups().removePod(uid);
    ctx.tokens().podRemoved(namespace, name, uid);
    closed = true;
    if (wakeUp != null) {
      wakeUp.cancel(false);
    }
    // Out of the index before the files go: a log reader finds no pod rather than missing files.
    ctx.index().gone(this);
    try {
      PodDirectories.deleteRecursively(podDirectory);
    } catch (RuntimeException e) {
      log.warn("pod {} ({}): cannot remove {}: {}", key(), uid, podDirectory, e.getMessage());
    }
    log.info("pod {} ({}) removed", key(), uid);
  }

  /** Sends the status when it changed since the last accepted report. */
  private void report(JsonNode p, boolean deleting) {
    List<ContainerRecord> init = new ArrayList<>();
    List<ContainerRecord> app = new ArrayList<>();
    for (ContainerRecord r : containers.values()) {
      (r.init ? init : app).add(r);
    }
    boolean initDone = init.stream().allMatch(r -> r.done);
    String restartPolicy =
        deleting ? "Never" : p.path("spec").path("restartPolicy").asString("Always");
    String phase;
    boolean initFailed =
        init.stream().anyMatch(r -> r.terminated() && r.current.exitCode() != 0 && !r.done)
            && "Never".equals(p.path("spec").path("restartPolicy").asString("Always"));
    phase = initFailed ? "Failed" : PodStatusBuilder.phase(app, initDone, restartPolicy);
    this.phase = phase;
    ObjectNode status =
        PodStatusBuilder.status(
            phase,
            init,
            app,
            initDone,
            ctx.settings().node().hostIP(),
            podIp,
            startTime,
            podMessage,
            podReason,
            ctx.runtime().name(),
            transitions,
            conditionStatus,
            ctx.clock().instant());
    String patch = PodStatusBuilder.patch(uid, status);
    lastBuilt = patch;
    if (patch.equals(reported) || reportInFlight) {
      if (reportInFlight && !patch.equals(reported)) {
        scheduleIn(Duration.ofMillis(200));
      }
      return;
    }
    reportInFlight = true;
    ctx.sink()
        .patchStatus(namespace, name, uid, patch)
        .whenCompleteAsync(
            (v, err) -> {
              boolean again;
              synchronized (this) {
                reportInFlight = false;
                if (err == null) {
                  reported = patch;
                  log.info("pod {} ({}): status {} reported", key(), uid, phase);
                } else {
                  log.debug("pod {}: status not reported: {}", key(), err.toString());
                }
                again = err == null ? deleting && !deleteSent : true;
              }
              if (err != null) {
                scheduleIn(ctx.settings().retryPeriod());
              } else if (again) {
                requestSync();
              }
            },
            ctx.workers());
  }

  /** The cloud is reachable again: resend what it did not take. */
  /**
   * A container's spec in a canonical form: keys sorted, nulls and empty values dropped. The same
   * pod reaches the edge serialized by different writers (the cloud's watch, its resync after a
   * restart, a query), and a running container must not be restarted for field order alone.
   */
  static String specOf(JsonNode c) {
    return Json.string(canonical(c));
  }

  private static JsonNode canonical(JsonNode n) {
    if (n.isObject()) {
      tools.jackson.databind.node.ObjectNode o = Json.object();
      java.util.List<String> names = new java.util.ArrayList<>(n.propertyNames());
      java.util.Collections.sort(names);
      for (String k : names) {
        JsonNode v = canonical(n.get(k));
        if (!v.isNull() && !(v.isContainer() && v.isEmpty())) {
          o.set(k, v);
        }
      }
      return o;
    }
    if (n.isArray()) {
      tools.jackson.databind.node.ArrayNode a = Json.NODES.arrayNode();
      n.forEach(e -> a.add(canonical(e)));
      return a;
    }
    return n;
  }

  void reconnected() {
    requestSync();
  }

  private synchronized void scheduleIn(Duration d) {
    scheduleAt(ctx.clock().instant().plus(d));
  }

  private synchronized void scheduleAt(Instant at) {
    if (closed || at.equals(Instant.MAX)) {
      return;
    }
    long ms = Math.max(0, Duration.between(ctx.clock().instant(), at).toMillis());
    // Only a wake-up that has not fired yet is sure to come. One that is due or firing may be the
    // very one whose sync is running now (it stays "not done" until requestSync returns), so it
    // cannot stand in for this later one.
    if (wakeUp != null && !wakeUp.isDone()) {
      long pending = wakeUp.getDelay(TimeUnit.MILLISECONDS);
      if (pending > 0) {
        if (pending <= ms) {
          return;
        }
        wakeUp.cancel(false);
      }
      // A due one is left alone: it only asks for a sync.
    }
    try {
      wakeUp = ctx.timer().schedule(this::requestSync, ms, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // shutting down
    }
  }

  /** Edged is shutting down: stop the containers, keep the pod's directory for the next start. */
  synchronized void shutdown(Duration grace) {
    closed = true;
    if (wakeUp != null) {
      wakeUp.cancel(false);
    }
    containers.values().forEach(ContainerRecord::stopProbes);
    if (sandboxId != null) {
      ctx.runtime().removeSandbox(sandboxId, grace);
    }
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }
}
