package io.kedge.edge.metaserver;

import io.kedge.edge.hub.CloudLinkListener;
import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectChange;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.Scope;
import io.kedge.edge.store.ScopeRecord;
import io.kedge.protocol.Json;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.status.KubeStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The scopes (type, namespace) whose objects the edge keeps current, so that informer lists and
 * watches can be answered from the store. Subscribing a scope registers a watch Application at the
 * cloud (which then pushes every change, see {@code MetaManager}) and lists the scope once,
 * reconciling the store with the list. Subscriptions are kept in the store; when the link comes
 * back (or edgecore starts) they are re-registered with one {@code watchapp/sync}, resuming from
 * the version the store holds each at (the cloud replays the apiserver's events since then), or
 * listed again when that version is unknown or too old, so changes missed meanwhile reach the store
 * and every open watch.
 */
public final class Subscriptions implements CloudLinkListener {
  private static final Logger LOG = LoggerFactory.getLogger(Subscriptions.class);

  enum State {
    NEW,
    SYNCED,
    STALE,
    FAILED
  }

  static final class Sub {
    final Scope scope;
    final String applicationId;
    volatile long syncedSince;

    /**
     * The version up to which the store holds every change of the scope: the last list's, or where
     * the cloud said a resumed watch stood. After a reconnect the cloud replays the apiserver's
     * events since then; 0 when unknown (the scope is listed again).
     */
    volatile long resumeRv;

    volatile State state;
    CompletableFuture<Void> inflight; // guarded by this
    ApiException failure; // guarded by this
    long failedAt; // guarded by this

    /**
     * The bearer token of the latest client that needed this scope (memory only, never stored): the
     * cloud lists and watches with that pod's rights and ends the watch with the pod. Empty when no
     * client brought one (the cloud's tokenless identity applies).
     */
    volatile String token = "";

    Sub(Scope scope, String applicationId, long syncedSince, State state) {
      this.scope = scope;
      this.applicationId = applicationId;
      this.syncedSince = syncedSince;
      this.state = state;
    }
  }

  private final ObjectStore store;
  private final CloudApi cloud;
  private final MetaServerSettings settings;
  private final Map<Scope, Sub> subs = new ConcurrentHashMap<>();
  private final AtomicBoolean resyncing = new AtomicBoolean();
  private final AtomicBoolean resyncAgain = new AtomicBoolean();
  private volatile boolean closed;

  public Subscriptions(ObjectStore store, CloudApi cloud, MetaServerSettings settings) {
    this.store = store;
    this.cloud = cloud;
    this.settings = settings;
    for (ScopeRecord r : store.scopes()) {
      Sub s = new Sub(r.scope(), r.applicationId(), r.syncedSince(), State.STALE);
      s.resumeRv = r.resumeRv();
      subs.put(r.scope(), s);
    }
  }

  /** Re-establishes stored subscriptions if the cloud is already reachable. */
  public void start() {
    if (cloud.online()) {
      resyncAll();
    }
  }

  public void close() {
    closed = true;
  }

  /**
   * The cloud says the store holds every change of the scope of watch {@code applicationId} up to
   * {@code resourceVersion} (every change sent for it up to there is acknowledged, so committed): a
   * reconnect resumes from there.
   */
  public void heldUpTo(String applicationId, long resourceVersion) {
    for (Sub s : subs.values()) {
      if (s.applicationId.equals(applicationId)
          && s.state == State.SYNCED
          && resourceVersion > s.resumeRv) {
        s.resumeRv = resourceVersion;
        store.saveScope(record(s));
        LOG.debug("metaserver: {} held up to version {}", s.scope, resourceVersion);
      }
    }
  }

  /** Whether the store is current for {@code scope} (a covering scope is synced and online). */
  public boolean synced(Scope scope) {
    return covering(scope, State.SYNCED) != null;
  }

  /**
   * The highwater from which the event log is complete for {@code scope}: the smallest over the
   * subscriptions covering it; 0 when none ever synced.
   */
  public long syncedSince(Scope scope) {
    long best = 0;
    for (Sub s : subs.values()) {
      if (s.scope.covers(scope) && s.syncedSince > 0 && (best == 0 || s.syncedSince < best)) {
        best = s.syncedSince;
      }
    }
    return best;
  }

  public List<Scope> scopes() {
    return new ArrayList<>(subs.keySet());
  }

  private Sub covering(Scope scope, State state) {
    Sub exact = subs.get(scope);
    if (exact != null && exact.state == state) {
      return exact;
    }
    if (!scope.allNamespaces()) {
      Sub all = subs.get(Scope.all(scope.gvr()));
      if (all != null && all.state == state) {
        return all;
      }
    }
    return null;
  }

  /**
   * Completes when the store is current for {@code scope}; subscribes it first if needed. Fails
   * with {@link CloudApi.Unavailable} when the cloud cannot be reached, or with an {@link
   * ApiException} carrying the cloud's Status (403 when the edge may not watch it, 404 for an
   * unknown type).
   */
  public CompletableFuture<Void> ensure(Scope scope) {
    return ensure(scope, "");
  }

  /** As {@link #ensure(Scope)}, for a client with bearer token {@code token} (may be empty). */
  public CompletableFuture<Void> ensure(Scope scope, String token) {
    if (synced(scope)) {
      return CompletableFuture.completedFuture(null);
    }
    if (!cloud.online()) {
      return CompletableFuture.failedFuture(new CloudApi.Unavailable("offline", null));
    }
    Sub s = subs.computeIfAbsent(scope, k -> new Sub(k, CloudApi.newId(), 0, State.NEW));
    offer(s, token);
    synchronized (s) {
      if (s.state == State.SYNCED) {
        return CompletableFuture.completedFuture(null);
      }
      if (s.inflight != null) {
        return s.inflight;
      }
      if (s.state == State.FAILED
          && System.currentTimeMillis() - s.failedAt
              < settings.retryFailedSubscription().toMillis()) {
        return CompletableFuture.failedFuture(s.failure);
      }
      CompletableFuture<Void> f = sync(s, true);
      s.inflight = f;
      f.whenComplete(
          (v, t) -> {
            synchronized (s) {
              s.inflight = null;
            }
          });
      return f;
    }
  }

  /**
   * A client with {@code token} reads {@code scope}: the subscriptions covering it use the newest
   * token when they are next registered (tokens rotate; the pod that brought the older one may be
   * gone).
   */
  public void offerToken(Scope scope, String token) {
    Sub exact = subs.get(scope);
    if (exact != null) {
      offer(exact, token);
    }
    if (!scope.allNamespaces()) {
      Sub all = subs.get(Scope.all(scope.gvr()));
      if (all != null) {
        offer(all, token);
      }
    }
  }

  private static void offer(Sub s, String token) {
    if (token != null && !token.isEmpty()) {
      s.token = token;
    }
  }

  @Override
  public void connected() {
    resyncAll();
  }

  @Override
  public void disconnected() {
    for (Sub s : subs.values()) {
      if (s.state == State.SYNCED) {
        s.state = State.STALE;
      }
    }
    LOG.info("metaserver: cloud unreachable; {} cached scopes served as they are", subs.size());
  }

  /**
   * Re-registers every subscription with one watchapp/sync. A scope the store holds up to a known
   * version asks the cloud to resume from it: the cloud replays the apiserver's own events since
   * then (the store applies them as they are, so open watches see exactly the apiserver's events)
   * and answers where the scope then stands. The others, and those whose version the apiserver no
   * longer has (410), are listed again and reconciled.
   */
  void resyncAll() {
    if (closed || subs.isEmpty()) {
      return;
    }
    if (!resyncing.compareAndSet(false, true)) {
      resyncAgain.set(true); // the running one may be failing with the old connection
      return;
    }
    resyncAgain.set(false);
    Map<String, Application> watches = new LinkedHashMap<>();
    Map<String, Sub> byId = new LinkedHashMap<>();
    Map<Sub, Long> resumeFrom = new java.util.HashMap<>();
    for (Sub s : subs.values()) {
      if (s.state != State.FAILED) {
        long from = s.syncedSince > 0 ? s.resumeRv : 0;
        watches.put(s.applicationId, watchApplication(s, from));
        byId.put(s.applicationId, s);
        if (from > 0) {
          resumeFrom.put(s, from);
        }
        if (s.state == State.SYNCED) {
          s.state = State.STALE;
        }
      }
    }
    LOG.info(
        "metaserver: re-establishing {} cached scopes with the cloud ({} resuming)",
        watches.size(),
        resumeFrom.size());
    CompletableFuture<Map<String, JsonNode>> answers = cloud.syncWatches(watches);
    CompletableFuture<Void> chain = answers.thenAccept(a -> {});
    for (Sub s : byId.values()) {
      CompletableFuture<Void> mine = new CompletableFuture<>();
      synchronized (s) {
        if (s.inflight == null) {
          s.inflight = mine;
        }
      }
      chain =
          chain.thenCompose(
              v ->
                  afterSync(s, answers.join().get(s.applicationId), resumeFrom.get(s))
                      .handle(
                          (x, t) -> {
                            complete(s, mine, t);
                            return null;
                          }));
    }
    chain.whenComplete(
        (v, t) -> {
          resyncing.set(false);
          if (resyncAgain.getAndSet(false) && cloud.online()) {
            resyncAll();
          }
          if (t != null) {
            LOG.info(
                "metaserver: re-establishing cached scopes stopped: {}",
                CloudApi.unwrap(t).getMessage());
            for (Sub s : byId.values()) {
              synchronized (s) {
                if (s.inflight != null && !s.inflight.isDone()) {
                  CompletableFuture<Void> f = s.inflight;
                  s.inflight = null;
                  f.completeExceptionally(CloudApi.unwrap(t));
                }
              }
            }
          }
        });
  }

  /**
   * What the cloud's watchapp/sync answer says for one scope: nothing (registered afresh: list it),
   * Approved (resumed: current up to the version in the answer), 410 for a resumed scope (its
   * version is too old: register afresh and list), or another refusal.
   *
   * @param from the version the scope asked to resume from, or null
   */
  private CompletableFuture<Void> afterSync(Sub s, JsonNode answer, Long from) {
    if (answer == null) {
      return sync(s, false);
    }
    if ("Approved".equals(answer.path("Status").asString(""))) {
      long upTo = resumedAt(answer);
      if (from == null || upTo <= 0) {
        return sync(s, false);
      }
      s.resumeRv = Math.max(s.resumeRv, upTo);
      return store
          .saveScope(record(s))
          .thenRun(
              () -> {
                if (cloud.online()) {
                  s.state = State.SYNCED;
                  LOG.info(
                      "metaserver: {} resumed from version {}; current up to {}",
                      s.scope,
                      from,
                      s.resumeRv);
                }
              });
    }
    ObjectNode st = KubeStatus.fromErrStatus(answer.path("Error"));
    ApiException a = new ApiException(st != null ? st : KubeStatus.failure(500, "watch failed"));
    if (from != null && a.code() == 410) {
      LOG.info(
          "metaserver: {} cannot resume from version {} ({}); listing it again",
          s.scope,
          from,
          a.getMessage());
      s.resumeRv = 0;
      return sync(s, true);
    }
    fail(s, a);
    return CompletableFuture.failedFuture(a);
  }

  /** The version a resumed watch's answer reports ({@code {"resourceVersion": "N"}}); 0 if none. */
  static long resumedAt(JsonNode answer) {
    try {
      Application a = Application.fromJson(answer);
      if (a.respBody() == null || a.respBody().length == 0) {
        return 0;
      }
      return ObjectChange.parseResourceVersion(
          Json.parse(a.respBody()).path("resourceVersion").asString(""));
    } catch (RuntimeException e) {
      return 0;
    }
  }

  private ScopeRecord record(Sub s) {
    return new ScopeRecord(s.scope, s.applicationId, s.syncedSince, s.resumeRv);
  }

  private static void complete(Sub s, CompletableFuture<Void> mine, Throwable t) {
    synchronized (s) {
      if (s.inflight == mine) {
        s.inflight = null;
      }
    }
    if (t == null) {
      mine.complete(null);
    } else {
      mine.completeExceptionally(CloudApi.unwrap(t));
    }
  }

  private CompletableFuture<Void> sync(Sub s, boolean register) {
    Scope scope = s.scope;
    CompletableFuture<Void> registered =
        register ? register(s) : CompletableFuture.completedFuture(null);
    return registered
        .thenCompose(v -> store.saveScope(record(s)))
        .thenCompose(v -> listAll(scope, s.token))
        .thenCompose(
            list ->
                store
                    .reconcile(scope, list.items(), list.resourceVersion(), o -> true)
                    .thenApply(events -> list.resourceVersion()))
        .thenCompose(
            listRv -> {
              if (s.syncedSince == 0) {
                s.syncedSince = Math.max(1, store.resourceState(scope.gvr()).highwater());
              }
              // The watch was registered before the list: the store now holds every change up
              // to the list's version.
              s.resumeRv = listRv;
              return store.saveScope(record(s));
            })
        .thenRun(
            () -> {
              if (cloud.online()) {
                s.state = State.SYNCED;
                LOG.info("metaserver: {} is cached and current", scope);
              }
            })
        .whenComplete(
            (v, t) -> {
              if (t == null) {
                return;
              }
              Throwable c = CloudApi.unwrap(t);
              if (c instanceof ApiException a) {
                fail(s, a);
              } else if (s.state == State.SYNCED) {
                s.state = State.STALE;
              }
            });
  }

  private void fail(Sub s, ApiException a) {
    synchronized (s) {
      s.state = State.FAILED;
      s.failure = a;
      s.failedAt = System.currentTimeMillis();
    }
    LOG.info(
        "metaserver: the cloud refused to keep {} current: {} {}",
        s.scope,
        a.code(),
        a.getMessage());
    int code = a.code();
    if (code == 403 || code == 404 || code == 405) {
      subs.remove(s.scope, s);
      store.deleteScope(s.scope);
    }
  }

  private CompletableFuture<Void> register(Sub s) {
    return cloud
        .send(watchApplication(s))
        .thenAccept(
            r -> {
              if (!r.successful()) {
                throw new ApiException(statusOf(r));
              }
            });
  }

  Application watchApplication(Sub s) {
    return watchApplication(s, 0);
  }

  /** The scope's watch Application; resuming from {@code from} when it is positive. */
  Application watchApplication(Sub s, long from) {
    RequestInfo info = collection(s.scope, "GET", "watch");
    String query = from > 0 ? "watch=true&resourceVersion=" + from : "watch=true";
    return cloud.application(
        s.applicationId, new CloudApi.Request(info, query, "application/json", "", null, s.token));
  }

  record ListResult(List<ObjectChange> items, long resourceVersion) {}

  /** Lists {@code scope} from the cloud, page by page (all pages at one resourceVersion). */
  CompletableFuture<ListResult> listAll(Scope scope) {
    return listAll(scope, "");
  }

  /** As {@link #listAll(Scope)}, with a client's bearer token (may be empty). */
  CompletableFuture<ListResult> listAll(Scope scope, String token) {
    return page(scope, token, "", new ArrayList<>(), 0, 0);
  }

  private CompletableFuture<ListResult> page(
      Scope scope, String token, String cont, List<ObjectChange> acc, long rv, int restarts) {
    String query =
        "limit=" + settings.listPage() + (cont.isEmpty() ? "" : "&continue=" + urlEncode(cont));
    RequestInfo info = collection(scope, "GET", "list");
    return cloud
        .send(new CloudApi.Request(info, query, "application/json", "", null, token))
        .thenCompose(
            r -> {
              if (r.code() == 410 && !cont.isEmpty() && restarts < 3) {
                // The snapshot expired between pages: start over.
                return page(scope, token, "", new ArrayList<>(), 0, restarts + 1);
              }
              if (!r.successful()) {
                throw new ApiException(statusOf(r));
              }
              JsonNode list = Json.parse(r.body());
              String listKind = list.path("kind").asString("");
              String kind =
                  listKind.endsWith("List") ? listKind.substring(0, listKind.length() - 4) : "";
              Gvr gvr = scope.gvr();
              for (JsonNode item : list.path("items")) {
                try {
                  acc.add(ObjectChange.upsert(gvr, kind, item));
                } catch (IllegalArgumentException e) {
                  LOG.warn(
                      "metaserver: skipping an unusable item in the list of {}: {}",
                      scope,
                      e.getMessage());
                }
              }
              long pageRv =
                  ObjectChange.parseResourceVersion(
                      list.path("metadata").path("resourceVersion").asString(""));
              long listRv = rv == 0 ? pageRv : rv;
              String next = list.path("metadata").path("continue").asString("");
              if (next.isEmpty()) {
                return CompletableFuture.completedFuture(new ListResult(acc, listRv));
              }
              return page(scope, token, next, acc, listRv, restarts);
            });
  }

  static ObjectNode statusOf(CloudApi.Reply r) {
    try {
      JsonNode n = Json.parse(r.body());
      if (n instanceof ObjectNode o && "Status".equals(o.path("kind").asString(""))) {
        return o;
      }
    } catch (RuntimeException e) {
      // not a Status
    }
    return KubeStatus.failure(r.code(), "the cloud answered " + r.code());
  }

  /** The collection path of a scope, as a request to it. */
  static RequestInfo collection(Scope scope, String method, String verb) {
    Gvr g = scope.gvr();
    String base =
        g.group().isEmpty() ? "/api/" + g.version() : "/apis/" + g.group() + "/" + g.version();
    String path =
        base
            + (scope.allNamespaces() ? "" : "/namespaces/" + scope.namespace())
            + "/"
            + g.resource();
    return new RequestInfo(
        true,
        path,
        method,
        verb,
        g.group(),
        g.version(),
        scope.namespace(),
        g.resource(),
        "",
        "",
        List.of());
  }

  private static String urlEncode(String s) {
    return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
  }
}
