package io.kedge.cloud.dynamiccontroller;

import io.kedge.cloud.CloudMetrics;
import io.kedge.cloud.authz.AccessReviewer;
import io.kedge.cloud.authz.PodBindings;
import io.kedge.cloud.authz.PodTokenReviewer;
import io.kedge.cloud.authz.Subject;
import io.kedge.cloud.hub.EdgeMessenger;
import io.kedge.cloud.kube.ApiDiscovery;
import io.kedge.cloud.kube.ApiResource;
import io.kedge.cloud.kube.ApiStatusException;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.cloud.kube.ResourceVersions;
import io.kedge.cloud.kube.SharedInformers;
import io.kedge.monitor.LabelValues;
import io.kedge.protocol.Json;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.application.ApplicationStatus;
import io.kedge.protocol.application.KedgeExchange;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.status.KubeStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Executes MetaServer Applications from edge nodes against the kube-apiserver and serves their
 * watches from cloudcore's shared informers (KubeEdge's {@code dynamiccontroller} module).
 *
 * <ul>
 *   <li>Requests are queued per node (bounded; a full queue is answered 429) and run concurrently,
 *       never on CloudHub's I/O thread. Every request gets an {@code applicationResponse}: {@code
 *       Approved} with the result, or {@code Rejected} with a Kubernetes Status.
 *   <li>Whose rights a request runs with is decided by {@link IdentityResolver} (pod, node or
 *       cloudcore), from cloudcore's configuration and the verified pod token.
 *   <li>Watches become listeners on one shared informer per type ({@link WatchRegistry}); a type
 *       that cannot be watched fails only its own requests. Listeners go away with {@code
 *       watchapp/sync}, when their pod is deleted, when RBAC (or, for a node's own, the pods bound
 *       to it) no longer allows them or the check cannot be made, and when their node stays
 *       disconnected longer than the grace period. A Kedge edge is told when the cloud stops one of
 *       its watches on its own.
 * </ul>
 */
public final class DynamicController implements DynamicControllerModule {
  private static final Logger LOG = LoggerFactory.getLogger(DynamicController.class);

  /**
   * How long a replay watch runs: the apiserver sends its history at once; the rest of the window
   * covers an informer a little ahead of the apiserver's watch cache.
   */
  static final int REPLAY_WINDOW_SECONDS = 1;

  private final DynamicControllerOptions options;
  private final EdgeMessenger messenger;
  private final KubeClients kube;
  private final ExecutorService workers;
  private final ExecutorService dispatch;
  private final ScheduledExecutorService timer;
  private final SharedInformers informers;
  private final boolean ownsInformers;
  private final ApiDiscovery discovery;
  private final ApiTransport transport;
  private final WatchReplay replays;
  private final PodTokenReviewer tokenReviewer;
  private final PodBindings podBindings;
  private final AccessReviewer accessReviewer;
  private final IdentityResolver identities;
  private final WatchRegistry watches;
  private final NodeRequestQueues queues;
  private final DefaultMasterFilter filter;
  private final Map<String, ScheduledFuture<?>> leaving = new ConcurrentHashMap<>();
  private volatile boolean closed;
  private final CloudMetrics metrics;
  private volatile CompletableFuture<Void> started = new CompletableFuture<>();

  /**
   * @param informers cloudcore's shared informers, or null to keep a private set
   */
  public DynamicController(
      DynamicControllerOptions options,
      KubeClients kube,
      EdgeMessenger messenger,
      SharedInformers informers) {
    this(options, kube, messenger, informers, CloudMetrics.detached());
  }

  /**
   * @param informers cloudcore's shared informers, or null to keep a private set
   * @param metrics where requests and watches are counted
   */
  public DynamicController(
      DynamicControllerOptions options,
      KubeClients kube,
      EdgeMessenger messenger,
      SharedInformers informers,
      CloudMetrics metrics) {
    this.options = options;
    this.metrics = metrics;
    this.kube = kube;
    this.messenger = messenger;
    this.workers =
        Executors.newFixedThreadPool(options.workers(), threads("dynamiccontroller-worker"));
    this.dispatch = Executors.newFixedThreadPool(2, threads("dynamiccontroller-events"));
    this.timer = Executors.newSingleThreadScheduledExecutor(threads("dynamiccontroller-timer"));
    this.ownsInformers = informers == null;
    this.informers = informers == null ? new SharedInformers(kube.own(), dispatch) : informers;
    this.discovery = new ApiDiscovery(kube.own(), workers, options.discoveryTtl());
    this.transport = new ApiTransport(kube, options.requestTimeout());
    this.replays = new WatchReplay(transport, REPLAY_WINDOW_SECONDS);
    boolean pod = options.identity() == DynamicControllerOptions.Identity.POD;
    this.tokenReviewer =
        pod ? new PodTokenReviewer(kube.own(), workers, options.tokenReviewTtl()) : null;
    // Followed in node mode too: a node's rights follow the pods bound to it.
    this.podBindings =
        options.identity() == DynamicControllerOptions.Identity.CLOUDCORE
            ? null
            : new PodBindings(this.informers, kube.own(), workers);
    this.accessReviewer =
        options.identity() == DynamicControllerOptions.Identity.CLOUDCORE
            ? null
            : new AccessReviewer(
                kube.own(), this.informers, workers, timer, options.accessReviewTtl());
    this.identities = new IdentityResolver(options, tokenReviewer, pod ? podBindings : null);
    this.filter = new DefaultMasterFilter(options.metaServerAddress(), options.metaServerPort());
    this.watches =
        new WatchRegistry(this.informers, messenger, filter, timer, options.progressInterval());
    this.queues =
        new NodeRequestQueues(
            workers,
            options.maxInFlightPerNode(),
            options.maxQueuedPerNode(),
            options.maxInFlightTotal());
    SharedInformers watched = this.informers;
    metrics.apiserverWatches(() -> watched.active().size());
    metrics.edgeWatches(this::watchCount);
  }

  /**
   * Starts following what identity checks need (pods, RBAC). Returns at once; the future completes
   * when those informers are synced (requests before that are still answered correctly, by asking
   * the apiserver directly).
   */
  public CompletableFuture<Void> start() {
    LOG.info(
        "dynamicController: identity {}, tokenless requests {}",
        options.identity().name().toLowerCase(),
        options.identity() != DynamicControllerOptions.Identity.POD
            ? "as all requests"
            : options.tokenlessIdentity() == DynamicControllerOptions.Tokenless.BY_EXCHANGE
                ? "as cloudcore from edges that speak KubeEdge's exchange (as KubeEdge runs"
                    + " them), as the node from Kedge edges (tokenlessIdentity unset)"
                : options.tokenlessIdentity().name().toLowerCase());
    if (options.allowsCloudCoreIdentity()) {
      LOG.warn(
          "dynamicController: some edge requests run with cloudcore's own ServiceAccount"
              + " (identity {}, tokenlessIdentity {}): edge pods get cloudcore's rights",
          options.identity().name().toLowerCase(),
          options.tokenlessIdentity().name().toLowerCase());
    }
    List<CompletableFuture<Void>> ready = new ArrayList<>();
    if (podBindings != null) {
      podBindings.onPodGone(this::podGone);
      ready.add(podBindings.start());
    }
    if (accessReviewer != null) {
      accessReviewer.onRbacChange(this::recheckWatches);
      ready.add(accessReviewer.start());
    }
    CompletableFuture<Void> all = CompletableFuture.allOf(ready.toArray(CompletableFuture[]::new));
    started = all;
    all.whenComplete(
        (v, t) -> {
          if (t != null) {
            ApiStatusException s = ApiStatusException.from(t, kube.own(), "start");
            LOG.error(
                "dynamicController: cannot follow pods/RBAC ({} {}); check cloudcore's RBAC"
                    + " (deploy/rbac/cloudcore-dynamic.yaml)",
                s.code(),
                s.getMessage());
          } else {
            LOG.info("dynamicController: ready");
          }
        });
    return all;
  }

  // ------------------------------------------------------------------ UpstreamHandler

  @Override
  public void handle(String node, Message msg) {
    if (closed) {
      return;
    }
    long start = System.nanoTime();
    if (ResourcePath.WATCHAPP_SYNC.equals(msg.resource())) {
      String mode = identities.mode(null);
      if (!queues.offer(node, () -> sync(node, msg, start, mode))) {
        LOG.warn("node {}: request queue full, watchapp/sync {} refused with 429", node, msg.id());
        messenger.send(node, Replies.syncResponse(msg, syncRefused(node, msg)));
        metrics.dynamicRequest("sync", 429, mode, start);
      }
      return;
    }
    Application app = parse(node, msg);
    if (app == null) {
      metrics.dynamicRequest(LabelValues.OTHER, 400, identities.mode(null), start);
      return;
    }
    RequestTranslator.Translated t = translated(app);
    Supplier<CompletableFuture<?>> task = () -> process(node, msg, app, t, start);
    if (!(startsOnlyAsyncWork(app, t) ? queues.offerHere(node, task) : queues.offer(node, task))) {
      LOG.warn("node {}: request queue full, {} {} refused with 429", node, app.verb(), app.key());
      messenger.send(
          node, Replies.applicationResponse(msg, Replies.rejected(app, tooMany(node), null)));
      count(app, t, null, start);
    }
  }

  /**
   * Counts one answered request ({@code out} null: refused with 429); a fault here must never cost
   * the request its answer.
   */
  private void count(Application app, RequestTranslator.Translated t, Application out, long start) {
    try {
      int code = out == null ? 429 : codeOf(out);
      metrics.dynamicRequest(verbOf(app, t), code, identities.mode(app), start);
    } catch (RuntimeException e) {
      LOG.warn("dynamiccontroller: counting {} failed: {}", app.key(), e.toString());
    }
  }

  /**
   * The {@code verb} label of a request: the apiserver's verb for it ({@code get}, {@code list},
   * {@code watch}, {@code create}, …). A Kedge edge sends the HTTP method and path; a KubeEdge edge
   * sends the verb.
   */
  static String verbOf(Application app, RequestTranslator.Translated t) {
    if (t == null) {
      return app.verb().toLowerCase(java.util.Locale.ROOT);
    }
    if (t.kubeEdge()) {
      return t.verb().toLowerCase(java.util.Locale.ROOT);
    }
    ApiPath target = t.http().target();
    boolean named = target.resourceRequest() && target.name() != null && !target.name().isEmpty();
    switch (t.verb()) {
      case "GET":
        if (t.watch() != null) {
          return "watch";
        }
        return named || !target.resourceRequest() ? "get" : "list";
      case "POST":
        return "create";
      case "PUT":
        return "update";
      case "PATCH":
        return "patch";
      case "DELETE":
        return named ? "delete" : "deletecollection";
      default:
        return LabelValues.OTHER;
    }
  }

  /** The HTTP code an answer carries (Kedge's field, else the Status of a rejection, else 200). */
  private static int codeOf(Application reply) {
    if (reply.kedge() != null && reply.kedge().code() != 0) {
      return reply.kedge().code();
    }
    if (ApplicationStatus.APPROVED.equals(reply.status())) {
      return 200;
    }
    int code = reply.error() == null ? 0 : reply.error().path("ErrStatus").path("code").asInt(0);
    return code == 0 ? 500 : code;
  }

  /**
   * The failed map of a {@code watchapp/sync} that was not run: 429 for each watch the edge asked
   * for and does not have yet (those it has stay, as nothing was removed either).
   */
  private ObjectNode syncRefused(String node, Message msg) {
    ObjectNode failed = Json.object();
    if (!msg.content().isObject()) {
      return failed;
    }
    Map<String, WatchRegistry.Listener> current = watches.listeners(node);
    for (Map.Entry<String, JsonNode> e : msg.content().properties()) {
      if (current.containsKey(e.getKey())) {
        continue;
      }
      try {
        Application a = Application.fromJson(e.getValue()).withNodename(node).withId(e.getKey());
        failed.set(e.getKey(), Replies.rejected(a, tooMany(node), null).toJson());
      } catch (RuntimeException ex) {
        // not an Application: a sync that runs reports nothing for it either
      }
    }
    return failed;
  }

  private ObjectNode tooMany(String node) {
    ObjectNode s =
        KubeStatus.failure(
            429,
            "TooManyRequests",
            "too many requests from node "
                + node
                + " are waiting (limit "
                + options.maxQueuedPerNode()
                + "); retry later");
    ObjectNode details = Json.object();
    details.put("retryAfterSeconds", 1);
    s.set("details", details);
    return s;
  }

  private Application parse(String node, Message msg) {
    Application app;
    try {
      if (!msg.content().isObject()) {
        throw new IllegalArgumentException("content is not an object");
      }
      app = Application.fromJson(msg.content());
    } catch (RuntimeException e) {
      LOG.warn(
          "node {}: message {} is not an Application ({}); answered 400",
          node,
          msg.id(),
          e.getMessage());
      Application empty =
          new Application(
              null, null, null, node, null, null, null, null, null, null, null, null, null);
      messenger.send(
          node,
          Replies.applicationResponse(
              msg,
              Replies.rejected(
                  empty,
                  KubeStatus.failure(400, "BadRequest", "the request is not an Application"),
                  null)));
      return null;
    }
    // The node is the session's, whatever the Application says.
    return app.withNodename(node);
  }

  // ------------------------------------------------------------------ NodeSessionListener

  @Override
  public void connected(String node) {
    ScheduledFuture<?> f = leaving.remove(node);
    if (f != null) {
      f.cancel(false);
      LOG.debug("node {} is back; its watches stay", node);
    }
  }

  @Override
  public void disconnected(String node) {
    if (closed) {
      return;
    }
    int dropped = queues.drop(node);
    if (dropped > 0) {
      LOG.info("node {} disconnected: {} waiting requests dropped", node, dropped);
    }
    ScheduledFuture<?> f =
        timer.schedule(
            () -> {
              leaving.remove(node);
              if (!messenger.isConnected(node)) {
                int n = watches.removeNode(node);
                kube.forgetNode(node);
                identities.forget(node);
                if (n > 0) {
                  LOG.info(
                      "node {} stayed disconnected for {} s: {} watches removed",
                      node,
                      options.disconnectGrace().toSeconds(),
                      n);
                }
              }
            },
            options.disconnectGrace().toMillis(),
            TimeUnit.MILLISECONDS);
    ScheduledFuture<?> prev = leaving.put(node, f);
    if (prev != null) {
      prev.cancel(false);
    }
  }

  // ------------------------------------------------------------------ requests

  private CompletableFuture<?> process(
      String node, Message msg, Application app, RequestTranslator.Translated t, long start) {
    return bounded(node, app, execute(node, app, t, false))
        .handle(
            (reply, err) -> {
              Application out =
                  err == null ? reply : Replies.rejected(app, status(err, "request failed"));
              count(app, t, out, start);
              if (err != null) {
                ApiStatusException s = status(err, "request failed");
                LOG.info(
                    "node {}: {} {} rejected: {} {}",
                    node,
                    app.kedge() != null ? app.kedge().method() : app.verb(),
                    app.kedge() != null ? app.kedge().path() : app.key(),
                    s.code(),
                    s.getMessage());
              }
              messenger.send(node, Replies.applicationResponse(msg, out));
              return null;
            });
  }

  /**
   * The reply to one Application (Approved, or Rejected with the apiserver's answer).
   *
   * @param known {@code app} translated already, or null: translated here (or refused as it fails)
   */
  private CompletableFuture<Application> execute(
      String node, Application app, RequestTranslator.Translated known, boolean watchOnly) {
    RequestTranslator.Translated t;
    try {
      t = known != null ? known : RequestTranslator.translate(app);
    } catch (ApiStatusException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (watchOnly && t.watch() == null) {
      return CompletableFuture.failedFuture(
          ApiStatusException.of(400, "BadRequest", "watchapp/sync entries must be watches"));
    }
    CompletableFuture<Application> out =
        identities
            .resolve(node, app)
            .thenCompose(
                caller ->
                    t.watch() != null
                        ? watch(node, app, t.watch(), caller)
                        : transport.send(t.http(), caller).thenApply(r -> reply(app, t, r)));
    if (t.watch() == null) {
      return out;
    }
    return out.whenComplete(
        (x, err) -> {
          // Refused (identity, RBAC, discovery): a watch the edge had under this id before goes
          // too, or it would go on with the rights it was last given.
          if (err != null && watches.remove(node, app.id())) {
            LOG.info(
                "node {}: watch {} asked for again and refused; the one it had is removed",
                node,
                app.id());
          }
        });
  }

  private Application reply(Application app, RequestTranslator.Translated t, ApiResponse r) {
    if (!r.successful()) {
      return Replies.rejected(app, Replies.statusOf(r), r);
    }
    byte[] body = r.body();
    if (r.json() && DefaultMasterFilter.concerns(t.http().target())) {
      body = filtered(body);
    }
    if (!t.kubeEdge()) {
      return Replies.approved(app, body, KedgeExchange.response(r.code(), r.contentType()));
    }
    switch (t.verb()) {
      case "delete", "deletecollection":
        return Replies.approved(app, null, null); // as KubeEdge answers
      case "list":
        return Replies.approved(app, withItemKinds(body), null);
      default:
        return Replies.approved(app, body, null);
    }
  }

  private byte[] filtered(byte[] body) {
    try {
      JsonNode n = Json.parse(body);
      if ("Table".equals(n.path("kind").asString(""))) {
        return body;
      }
      JsonNode f = filter.apply(n);
      return f == null ? body : Json.bytes(f);
    } catch (RuntimeException e) {
      return body;
    }
  }

  /** Lists as KubeEdge's dynamic client returns them: every item with apiVersion and kind. */
  static byte[] withItemKinds(byte[] body) {
    try {
      JsonNode n = Json.parse(body);
      JsonNode items = n.path("items");
      String kind = n.path("kind").asString("");
      if (!items.isArray() || !kind.endsWith("List")) {
        return body;
      }
      String itemKind = kind.substring(0, kind.length() - 4);
      String apiVersion = n.path("apiVersion").asString("");
      boolean changed = false;
      for (JsonNode i : items) {
        if (i instanceof ObjectNode o && !o.hasNonNull("kind")) {
          o.put("apiVersion", apiVersion);
          o.put("kind", itemKind);
          changed = true;
        }
      }
      return changed ? Json.bytes(n) : body;
    } catch (RuntimeException e) {
      return body;
    }
  }

  // ------------------------------------------------------------------ watches

  private CompletableFuture<Application> watch(
      String node, Application app, RequestTranslator.WatchSpec w, Caller caller) {
    return discovery
        .resolve(w.group(), w.version(), w.resource())
        .thenCompose(
            res -> {
              if (!res.verbs().isEmpty() && !res.verbs().contains("watch")) {
                throw ApiStatusException.of(
                    405,
                    "MethodNotAllowed",
                    "the server does not allow this method on the requested resource ("
                        + res.groupResource()
                        + ")");
              }
              String ns = res.namespaced() ? w.namespace() : null;
              long from = resumeFrom(app);
              return authorize(caller, res, ns, w.name())
                  .thenCompose(
                      v -> {
                        WatchRegistry.Listener l =
                            new WatchRegistry.Listener(
                                node,
                                app.id(),
                                res,
                                ns,
                                w.name(),
                                w.labels(),
                                w.fields(),
                                caller,
                                app.kedge() != null);
                        CompletableFuture<Long> added =
                            from > 0
                                ? watches.resume(
                                    l,
                                    from,
                                    rv -> {
                                      QueryString q = QueryString.parse(app.kedge().query());
                                      return replays.since(
                                          res,
                                          ns,
                                          w.name(),
                                          q.get("labelSelector"),
                                          q.get("fieldSelector"),
                                          rv,
                                          caller);
                                    },
                                    options.watchSyncTimeout())
                                : watches
                                    .add(l)
                                    .thenApply(x -> 0L)
                                    .orTimeout(
                                        options.watchSyncTimeout().toMillis(),
                                        TimeUnit.MILLISECONDS);
                        return added.whenComplete(
                            (x, err) -> {
                              if (err != null) {
                                watches.remove(node, app.id());
                              }
                            });
                      });
            })
        .thenApply(
            upTo -> {
              if (app.kedge() == null) {
                return Replies.approved(app, null, null);
              }
              byte[] body = null;
              if (upTo > 0) {
                ObjectNode b = Json.object();
                b.put("resourceVersion", Long.toString(upTo));
                body = Json.bytes(b);
              }
              return Replies.approved(app, body, KedgeExchange.response(200, "application/json"));
            });
  }

  /**
   * The resourceVersion a Kedge edge's watch resumes from: its {@code resourceVersion} when it is a
   * positive number, else 0 (start with the current objects). KubeEdge edges always start afresh.
   */
  static long resumeFrom(Application app) {
    if (app.kedge() == null) {
      return 0;
    }
    String rv = QueryString.parse(app.kedge().query()).get("resourceVersion");
    return rv == null ? 0 : Math.max(0, ResourceVersions.parse(rv));
  }

  private CompletableFuture<Void> authorize(
      Caller caller, ApiResource res, String ns, String name) {
    if (caller instanceof Caller.CloudCore) {
      return CompletableFuture.completedFuture(null);
    }
    AccessReviewer.Access a =
        new AccessReviewer.Access(
            "watch", res.group(), res.version(), res.resource(), null, ns, name);
    return accessReviewer
        .review(caller.subject(), a)
        .thenAccept(
            d -> {
              if (!d.allowed()) {
                throw ApiStatusException.of(
                    403,
                    "Forbidden",
                    AccessReviewer.forbiddenMessage(caller.subject(), a, d.reason()));
              }
            });
  }

  /** {@code watchapp/sync}: the edge's complete set of watches; replies with those that failed. */
  private CompletableFuture<?> sync(String node, Message msg, long start, String mode) {
    JsonNode content = msg.content();
    Map<String, WatchRegistry.Listener> current = watches.listeners(node);
    Map<String, Application> wanted = new LinkedHashMap<>();
    ObjectNode failed = Json.object();
    if (content.isObject()) {
      for (Map.Entry<String, JsonNode> e : content.properties()) {
        try {
          wanted.put(e.getKey(), Application.fromJson(e.getValue()).withNodename(node));
        } catch (RuntimeException ex) {
          LOG.warn("node {}: watchapp/sync entry {} is not an Application", node, e.getKey());
        }
      }
    } else if (!content.isNull()) {
      LOG.warn("node {}: watchapp/sync content is not a map; treated as empty", node);
    }
    int removed = 0;
    for (String id : current.keySet()) {
      if (!wanted.containsKey(id) && watches.remove(node, id)) {
        removed++;
      }
    }
    List<CompletableFuture<Void>> adds = new ArrayList<>();
    AtomicInteger failures = new AtomicInteger();
    AtomicInteger resumed = new AtomicInteger();
    for (Map.Entry<String, Application> e : wanted.entrySet()) {
      Application app = e.getValue().withId(e.getKey());
      boolean resume = resumeFrom(app) > 0;
      // A watch the edge resumes is replaced even when kept: the edge missed what the old one
      // sent while it was away.
      if (current.containsKey(e.getKey()) && !resume) {
        continue;
      }
      // A resume is not cut off at the request deadline: attaching is bounded on its own, and the
      // replay after it lasts as long as the edge takes to acknowledge what it missed. Cut off, the
      // edge would start over from the same version with more to replay each time.
      CompletableFuture<Application> work = execute(node, app, null, true);
      adds.add(
          (resume ? work : bounded(node, app, work))
              .handle(
                  (reply, err) -> {
                    synchronized (failed) {
                      if (err != null) {
                        failures.incrementAndGet();
                        failed.set(
                            e.getKey(),
                            Replies.rejected(app, status(err, "watch failed")).toJson());
                      } else if (resume) {
                        // Additive for Kedge edges: where each resumed watch now stands.
                        resumed.incrementAndGet();
                        failed.set(e.getKey(), reply.toJson());
                      }
                    }
                    return null;
                  }));
    }
    int removedCount = removed;
    return CompletableFuture.allOf(adds.toArray(CompletableFuture[]::new))
        .whenComplete(
            (v, t) -> {
              LOG.info(
                  "node {}: watchapp/sync: {} watches kept, {} removed, {} added ({} resumed),"
                      + " {} failed",
                  node,
                  current.size() - removedCount,
                  removedCount,
                  adds.size() - failures.get(),
                  resumed.get(),
                  failures.get());
              messenger.send(node, Replies.syncResponse(msg, failed));
              metrics.dynamicRequest("sync", 200, mode, start);
            });
  }

  /**
   * A pod was deleted: the watches that ran with its token stop (a Kedge edge is told, and carries
   * the scope on another way), and the watches its node holds as itself are checked again, now and
   * once the apiserver's node authorizer has surely seen the deletion.
   */
  private void podGone(String podUid, String node) {
    if (tokenReviewer != null) {
      tokenReviewer.forgetPod(podUid);
    }
    int n =
        watches.stopIf(
            l -> podUid.equals(l.podUid),
            l ->
                KubeStatus.failure(
                    401,
                    "Unauthorized",
                    "the watch ran as "
                        + l.callerDescription
                        + ", whose pod (uid "
                        + podUid
                        + ") is gone"));
    if (n > 0) {
      LOG.info("pod {} is gone: {} of its watches stopped", podUid, n);
    }
    if (node.isEmpty() || accessReviewer == null) {
      return;
    }
    Subject self = Subject.node(node);
    Runnable recheck =
        () -> {
          accessReviewer.forget(self);
          recheck(
              watches.listeners(node).values().stream()
                  .filter(l -> self.equals(l.subject))
                  .toList(),
              "a pod of the node was deleted",
              0);
        };
    recheck.run();
    later(recheck, NODE_GRAPH_SETTLE.toMillis());
  }

  /**
   * How long after a pod's deletion its node's watches are checked a second time: the apiserver's
   * node authorizer learns of the deletion through an informer of its own.
   */
  static final java.time.Duration NODE_GRAPH_SETTLE = java.time.Duration.ofSeconds(3);

  /** Re-checks of a listener that could not be made are tried this often before it is stopped. */
  static final int RECHECK_ATTEMPTS = 3;

  private void later(Runnable r, long millis) {
    try {
      timer.schedule(r, millis, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing
    }
  }

  /** RBAC changed: stop the listeners whose subject may no longer watch. */
  private void recheckWatches() {
    recheck(watches.all(), "an RBAC change", 0);
  }

  /**
   * Asks again whether each of {@code listeners} may watch what it watches, and stops those that
   * may not (a Kedge edge is told). A check that cannot be made is tried again a few times; a
   * listener whose check keeps failing is stopped too: nothing is served that was not allowed.
   */
  private void recheck(List<WatchRegistry.Listener> listeners, String why, int attempt) {
    for (WatchRegistry.Listener l : listeners) {
      if (l.subject == null || !l.active) {
        continue;
      }
      AccessReviewer.Access a =
          new AccessReviewer.Access(
              "watch",
              l.resource.group(),
              l.resource.version(),
              l.resource.resource(),
              null,
              l.namespace,
              l.name);
      accessReviewer
          .review(l.subject, a)
          .whenComplete(
              (d, t) -> {
                if (t == null) {
                  if (!d.allowed()) {
                    watches.stop(
                        l,
                        KubeStatus.failure(
                            403,
                            "Forbidden",
                            AccessReviewer.forbiddenMessage(l.subject, a, d.reason())));
                  }
                  return;
                }
                ApiStatusException s = status(t, "SubjectAccessReview failed");
                if (attempt + 1 < RECHECK_ATTEMPTS && !closed) {
                  LOG.warn(
                      "{}: cannot re-check after {} ({} {}); trying again",
                      l,
                      why,
                      s.code(),
                      s.getMessage());
                  later(() -> recheck(List.of(l), why, attempt + 1), (1000L << attempt) * 2);
                } else {
                  watches.stop(
                      l,
                      KubeStatus.failure(
                          503,
                          "ServiceUnavailable",
                          "whether the watch is still allowed after "
                              + why
                              + " cannot be checked: "
                              + s.getMessage()));
                }
              });
    }
  }

  /**
   * {@code work} cut off at the request deadline, so that a node's slot is never held forever by a
   * review, discovery or informer that does not answer. A watch that gets registered only after its
   * request was answered 504 is removed again: the edge believes it failed.
   */
  private CompletableFuture<Application> bounded(
      String node, Application app, CompletableFuture<Application> work) {
    CompletableFuture<Application> answer =
        Deadlines.within(new CompletableFuture<>(), options.requestDeadline());
    work.whenComplete(
        (reply, err) -> {
          boolean inTime = err == null ? answer.complete(reply) : answer.completeExceptionally(err);
          if (!inTime && err == null && isWatch(app) && watches.remove(node, app.id())) {
            LOG.info("node {}: watch {} registered after its deadline; removed", node, app.id());
          }
        });
    return answer;
  }

  /**
   * Whether all {@code app} does before its answer is start asynchronous work: a pod's token
   * checked from the verdict cache or by a TokenReview on the blocking pool, its pod looked up in
   * the informer (or read on that pool), the call made on {@link ApiserverConnections}' event loop.
   * Such a request may start on the connection's I/O thread instead of waiting for a worker — one
   * hand-over between threads less on every read and write of a pod. Watches (discovery, informers)
   * and calls with cloudcore's own client go to the workers.
   */
  private boolean startsOnlyAsyncWork(Application app, RequestTranslator.Translated t) {
    return options.identity() == DynamicControllerOptions.Identity.POD
        && app.kedge() != null
        && !app.kedge().token().isEmpty()
        && t != null
        && t.watch() == null;
  }

  private static boolean isWatch(Application app) {
    RequestTranslator.Translated t = translated(app);
    return t != null && t.watch() != null;
  }

  /** {@code app} as an apiserver request or watch; null when it cannot be one. */
  private static RequestTranslator.Translated translated(Application app) {
    try {
      return RequestTranslator.translate(app);
    } catch (ApiStatusException e) {
      return null;
    }
  }

  private ApiStatusException status(Throwable t, String what) {
    Throwable c = ApiStatusException.unwrap(t);
    if (c instanceof TimeoutException) {
      return ApiStatusException.of(504, "Timeout", what + ": timed out");
    }
    return ApiStatusException.from(c, kube.own(), what);
  }

  // ------------------------------------------------------------------ for tests and metrics

  @Override
  public CompletableFuture<Void> ready() {
    return started;
  }

  /** Number of watch listeners. */
  public int watchCount() {
    return watches.size();
  }

  /** Watch listener ids of a node. */
  public List<String> watchIds(String node) {
    return new ArrayList<>(watches.listeners(node).keySet());
  }

  /** Resource types with a running informer. */
  public java.util.Set<String> informedTypes() {
    return informers.active();
  }

  @Override
  public void close() {
    closed = true;
    for (ScheduledFuture<?> f : leaving.values()) {
      f.cancel(false);
    }
    watches.close();
    if (podBindings != null) {
      podBindings.close();
    }
    if (accessReviewer != null) {
      accessReviewer.close();
    }
    if (ownsInformers) {
      informers.close();
    }
    timer.shutdownNow();
    workers.shutdownNow();
    dispatch.shutdownNow();
    transport.close();
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
