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
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
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
 *
 * <p>A scope is either current or not served as current. The cloud keeps it current with the token
 * of a pod that read it ({@link ScopeTokens}, kept in the store, so a restart registers every scope
 * with one again), or with none (the cloud's identity for tokenless requests, by default the node).
 * When the cloud stops a scope's watch on its own ({@link #stopped}: the pod is gone, RBAC no
 * longer allows it) or refuses an identity, the scope resumes with the next identity the cloud
 * accepts, getting the events it missed meanwhile; when none is accepted it is no longer current:
 * reads go to the cloud and open watches on it end with 410 Expired, so that their clients list
 * again. A scope that had to be listed again after it was current ends its open watches the same
 * way: what changed meanwhile is known only in sum, and a watch never gets a silent summary.
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

    /** How often the cloud stopped the scope's watch: an attempt begun before a stop is void. */
    long stops; // guarded by this

    /**
     * Whose token keeps the scope current: a {@link ScopeTokens} holder, "" for none (the cloud's
     * tokenless identity), null before the first registration.
     */
    volatile String holder;

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
  private final ScopeTokens tokens;
  private final Map<Scope, Sub> subs = new ConcurrentHashMap<>();
  private final AtomicBoolean resyncing = new AtomicBoolean();
  private final AtomicBoolean resyncAgain = new AtomicBoolean();

  /** Rounds of re-establishing in a row that left a scope behind: the next waits longer. */
  private final AtomicInteger failedRounds = new AtomicInteger();

  private final AtomicBoolean retryPending = new AtomicBoolean();
  private volatile BiConsumer<Scope, ObjectNode> notCurrent = (scope, status) -> {};
  private volatile boolean closed;

  public Subscriptions(ObjectStore store, CloudApi cloud, MetaServerSettings settings) {
    this.store = store;
    this.cloud = cloud;
    this.settings = settings;
    this.tokens = new ScopeTokens(store, Clock.systemUTC());
    store.addListener(tokens);
    for (ScopeRecord r : store.scopes()) {
      Sub s = new Sub(r.scope(), r.applicationId(), r.syncedSince(), State.STALE);
      s.resumeRv = r.resumeRv();
      subs.put(r.scope(), s);
    }
  }

  /**
   * Who hears that a scope is no longer current while the cloud is reachable (with the Status its
   * open watches end with): the watches on it, unless another current scope covers them.
   */
  void onNotCurrent(BiConsumer<Scope, ObjectNode> listener) {
    notCurrent = listener;
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

  /**
   * The cloud stopped the watch {@code applicationId} on its own, for the reason {@code status}
   * gives (401/403: the identity it ran with may no longer watch the scope). The scope is not
   * current until it is registered again with the next identity the cloud accepts, resuming from
   * where the store holds it.
   */
  public void stopped(String applicationId, JsonNode status) {
    Sub s = null;
    for (Sub x : subs.values()) {
      if (x.applicationId.equals(applicationId)) {
        s = x;
      }
    }
    if (s == null) {
      LOG.debug("metaserver: the cloud stopped watch {}, which is not the edge's", applicationId);
      return;
    }
    int code = status.path("code").asInt(0);
    String holder = s.holder;
    LOG.info(
        "metaserver: the cloud stopped keeping {} current as {}: {} {}",
        s.scope,
        who(s.scope, holder),
        code,
        status.path("message").asString(""));
    if ((code == 401 || code == 403) && holder != null && !holder.isEmpty()) {
      tokens.refuse(
          s.scope,
          holder,
          status instanceof ObjectNode o ? o : KubeStatus.failure(code, "the cloud stopped it"));
    }
    synchronized (s) {
      s.stops++;
      if (s.state == State.SYNCED) {
        s.state = State.STALE;
      }
      if (s.inflight != null || closed || !cloud.online()) {
        return; // the attempt under way starts over; a reconnect registers it again
      }
      Set<String> tried = new HashSet<>();
      if (code == 401 || code == 403) {
        tried.add(holder == null ? "" : holder);
      }
      start(s, establish(s, true, resumable(s), tried, null));
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

  /**
   * Whether the objects of {@code scope} reach the store only through the watch that keeps it
   * current (a subscription covering it that has not failed). A version from elsewhere — a
   * consistent read's answer, EdgeController's copy, the SyncController's catch-up — could overtake
   * versions the watch has yet to bring, which the store would then drop as stale: a hole in the
   * scope's event log, a silent merge for every watch on it.
   */
  public boolean fedByWatch(Scope scope) {
    Sub exact = subs.get(scope);
    if (exact != null && exact.state != State.FAILED) {
      return true;
    }
    if (!scope.allNamespaces()) {
      Sub all = subs.get(Scope.all(scope.gvr()));
      return all != null && all.state != State.FAILED;
    }
    return false;
  }

  /** Whether {@link #fedByWatch} holds for {@code scope} or any scope within it. */
  public boolean fedWithin(Scope scope) {
    for (Sub s : subs.values()) {
      if (scope.covers(s.scope) && s.state != State.FAILED) {
        return true;
      }
    }
    return fedByWatch(scope);
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
    boolean newcomer = tokens.offer(scope, token);
    synchronized (s) {
      if (s.state == State.SYNCED) {
        return CompletableFuture.completedFuture(null);
      }
      if (s.inflight != null) {
        return s.inflight;
      }
      if (s.state == State.FAILED
          && !newcomer
          && System.currentTimeMillis() - s.failedAt
              < settings.retryFailedSubscription().toMillis()) {
        return CompletableFuture.failedFuture(s.failure);
      }
      return start(s, establish(s, true, resumable(s), new HashSet<>(), null));
    }
  }

  /** Makes {@code f} the attempt under way for {@code s} until it completes (holding s's lock). */
  private static CompletableFuture<Void> start(Sub s, CompletableFuture<Void> f) {
    s.inflight = f;
    f.whenComplete(
        (v, t) -> {
          synchronized (s) {
            if (s.inflight == f) {
              s.inflight = null;
            }
          }
        });
    return f;
  }

  /**
   * A client with {@code token} reads {@code scope}: if the edge keeps the scope, the token becomes
   * one it may be kept current with (a pod's newest token replaces its older ones).
   */
  /**
   * The Status with which the cloud refused to keep {@code scope} current with {@code token} a
   * moment ago, or null. The edge's own view of RBAC may lag the apiserver's by that moment: such a
   * token is not answered from the store (reads go to the cloud, watches get the refusal).
   */
  public ObjectNode recentRefusal(Scope scope, String token) {
    return tokens.recentRefusal(scope, token);
  }

  /** The cloud answered a read of {@code scope} with {@code token} (RBAC allows it again). */
  public void readAllowed(Scope scope, String token) {
    tokens.allowed(scope, token);
  }

  public void offerToken(Scope scope, String token) {
    if (subs.containsKey(scope)) {
      tokens.offer(scope, token);
    }
  }

  @Override
  public void connected() {
    failedRounds.set(0);
    resyncAll();
  }

  /** The first pause before re-establishing again what a round left behind; doubles per round. */
  static final long RETRY_BASE_MS = 1_000;

  static final long RETRY_MAX_MS = 30_000;

  /**
   * A round of re-establishing left a scope behind although the cloud is reachable (the cloud did
   * not answer in time, or answered that it could not for now): re-establish again after a jittered
   * back-off growing per round, until every scope is current or the link is lost (a reconnect
   * starts over). Without this a scope would stay behind on this connection, and a later one would
   * resume it from a version the apiserver may no longer have.
   */
  private void retryLater() {
    if (closed || !cloud.online() || !retryPending.compareAndSet(false, true)) {
      return;
    }
    int round = failedRounds.getAndIncrement();
    long ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS << Math.min(round, 10));
    long delay = ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
    LOG.info(
        "metaserver: re-establishing cached scopes again in {} ms (round {})", delay, round + 1);
    CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS)
        .execute(
            () -> {
              retryPending.set(false);
              if (!closed && cloud.online()) {
                resyncAll();
              }
            });
  }

  /**
   * How long a round of re-establishing waits for the cloud's answer: a resumed scope is answered
   * once the cloud replayed everything since its version, which takes longer the longer it was
   * behind; each round in a row that did not get there waits twice as long, so that a slow cloud is
   * let finish rather than made to start over.
   */
  private java.time.Duration syncTimeout() {
    return settings.cloudTimeout().multipliedBy(1L << Math.min(failedRounds.get(), 3));
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

  /** Where a re-registration of {@code s} resumes from: its version, if the store has it all. */
  private static long resumable(Sub s) {
    return s.syncedSince > 0 ? s.resumeRv : 0;
  }

  /**
   * Re-registers every subscription with one watchapp/sync. A scope the store holds up to a known
   * version asks the cloud to resume from it: the cloud replays the apiserver's own events since
   * then (the store applies them as they are, so open watches see exactly the apiserver's events)
   * and answers where the scope then stands. The others, and those whose version the apiserver no
   * longer has (410), are listed again and reconciled. Each goes with the token of the identity
   * that keeps it current (a restarted edge takes the newest kept one).
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
    Map<Sub, Long> resumeFrom = new HashMap<>();
    Map<Sub, Long> stopsAt = new HashMap<>();
    for (Sub s : subs.values()) {
      if (s.state != State.FAILED) {
        long from = resumable(s);
        if (from == 0) {
          gap(s, "it cannot be resumed: the version the edge holds it at is unknown");
        }
        String holder = choose(s, Set.of());
        s.holder = holder == null ? "" : holder;
        watches.put(s.applicationId, watchApplication(s, from));
        byId.put(s.applicationId, s);
        synchronized (s) {
          stopsAt.put(s, s.stops);
        }
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
    CompletableFuture<Map<String, JsonNode>> answers = cloud.syncWatches(watches, syncTimeout());
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
                  afterSync(
                          s, answers.join().get(s.applicationId), resumeFrom.get(s), stopsAt.get(s))
                      .handle(
                          (x, t) -> {
                            complete(s, mine, t);
                            return null;
                          }));
    }
    chain.whenComplete(
        (v, t) -> {
          resyncing.set(false);
          boolean again = resyncAgain.getAndSet(false) && cloud.online();
          if (again) {
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
          if (!again) {
            boolean behind = false;
            for (Sub s : byId.values()) {
              if (subs.get(s.scope) == s && s.state != State.SYNCED && s.state != State.FAILED) {
                behind = true;
              }
            }
            if (behind) {
              retryLater();
            } else {
              failedRounds.set(0);
            }
          }
        });
  }

  /**
   * What the cloud's watchapp/sync answer says for one scope: nothing (registered afresh: list it),
   * Approved (resumed: current up to the version in the answer), 410 for a resumed scope (its
   * version is too old: register afresh and list), 401/403 (the identity it went with may not keep
   * it: the next one is tried), or another refusal.
   *
   * @param from the version the scope asked to resume from, or null
   * @param stops the scope's count of stops when it was sent
   */
  private CompletableFuture<Void> afterSync(Sub s, JsonNode answer, Long from, long stops) {
    String holder = s.holder;
    String token = tokenOf(s.scope, holder);
    CompletableFuture<Void> attempt;
    boolean approved = answer != null && "Approved".equals(answer.path("Status").asString(""));
    if (answer == null || approved) {
      long upTo = answer == null ? 0 : resumedAt(answer);
      if (from != null && upTo > 0) {
        attempt = resumed(s, from, upTo, holder);
      } else {
        if (from != null) {
          gap(s, "the cloud did not resume its watch"); // a KubeEdge cloudcore
        }
        attempt = list(s, token, false);
      }
    } else {
      ObjectNode st = KubeStatus.fromErrStatus(answer.path("Error"));
      attempt =
          CompletableFuture.failedFuture(
              new ApiException(st != null ? st : KubeStatus.failure(500, "watch failed")));
    }
    long resumeFrom = from == null ? 0 : from;
    return attempt
        .handle((v, t) -> next(s, stops, holder, new HashSet<>(), resumeFrom, t))
        .thenCompose(f -> f);
  }

  /**
   * Keeps {@code s} current with the first identity the cloud accepts: the tokens that may keep it
   * (the one in use first), then none; those in {@code tried} were refused already. Registers the
   * scope's watch (resuming from {@code from} when positive, listing otherwise) unless {@code
   * register} is false (the cloud registered it already: only list).
   *
   * @param refusal the last refusal, reported when no identity is left
   */
  private CompletableFuture<Void> establish(
      Sub s, boolean register, long from, Set<String> tried, ApiException refusal) {
    long stops;
    synchronized (s) {
      stops = s.stops;
    }
    String holder = choose(s, tried);
    if (holder == null) {
      ApiException a =
          refusal != null
              ? refusal
              : new ApiException(
                  KubeStatus.failure(
                      403,
                      "Forbidden",
                      "no identity the edge has may keep " + s.scope + " current"));
      fail(s, a);
      return CompletableFuture.failedFuture(a);
    }
    s.holder = holder;
    String token = tokenOf(s.scope, holder);
    CompletableFuture<Void> attempt =
        register && from > 0 ? resume(s, token, from, holder) : list(s, token, register);
    return attempt.handle((v, t) -> next(s, stops, holder, tried, from, t)).thenCompose(f -> f);
  }

  /**
   * What follows one attempt to keep {@code s} current as {@code holder} that ended with {@code t}.
   */
  private CompletableFuture<Void> next(
      Sub s, long stops, String holder, Set<String> tried, long from, Throwable t) {
    long now;
    synchronized (s) {
      now = s.stops;
    }
    if (t == null) {
      if (now != stops) {
        // The cloud stopped the watch while it was being set up: set it up again.
        return establish(s, true, resumable(s), new HashSet<>(tried), null);
      }
      if (cloud.online()) {
        s.state = State.SYNCED;
        LOG.info("metaserver: {} is kept current as {}", s.scope, who(s.scope, holder));
      }
      return CompletableFuture.completedFuture(null);
    }
    Throwable c = CloudApi.unwrap(t);
    if (failedForNow(c) && cloud.online()) {
      // Reachable but not answering in time, or not able to for now (a cloudcore that just took
      // the node over and is loaded): not current until a later round gets there. Open watches
      // stay open; that round resumes from where the store holds the scope and replays to them
      // what they missed.
      synchronized (s) {
        if (s.state != State.FAILED) {
          s.state = s.state == State.NEW ? State.NEW : State.STALE;
        }
      }
      LOG.info(
          "metaserver: {} is not current yet ({}); trying again later", s.scope, c.getMessage());
      retryLater();
      return CompletableFuture.failedFuture(
          c instanceof ApiException a
              ? a
              : new ApiException(
                  KubeStatus.failure(
                      503, "ServiceUnavailable", "the cloud did not answer: " + c.getMessage())));
    }
    if (!(c instanceof ApiException a)) {
      if (s.state == State.SYNCED) {
        s.state = State.STALE;
      }
      return CompletableFuture.failedFuture(c);
    }
    if (a.code() == 409) {
      // The cloud replaced this attempt's watch with a newer registration of the same scope from
      // this edge (a resync after a reconnect crossing a client's first read): that one decides.
      LOG.debug("metaserver: {}: a newer registration replaced this one", s.scope);
      return superseded(s, System.nanoTime() + SUPERSEDED_WAIT.toNanos());
    }
    if (a.code() == 410 && from > 0) {
      LOG.info(
          "metaserver: {} cannot resume from version {} ({}); listing it again",
          s.scope,
          from,
          a.getMessage());
      s.resumeRv = 0;
      return establish(s, true, 0, tried, null);
    }
    if (a.code() == 401 || a.code() == 403) {
      LOG.info(
          "metaserver: the cloud refused to keep {} current as {}: {} {}",
          s.scope,
          who(s.scope, holder),
          a.code(),
          a.getMessage());
      tried.add(holder);
      if (!holder.isEmpty()) {
        tokens.refuse(s.scope, holder, a.status());
      }
      return establish(s, true, from, tried, a);
    }
    fail(s, a);
    return CompletableFuture.failedFuture(a);
  }

  private static final java.time.Duration SUPERSEDED_WAIT = java.time.Duration.ofSeconds(60);

  /** Completes as the newer attempt for {@code s} ends: current, or failed with its refusal. */
  private CompletableFuture<Void> superseded(Sub s, long deadline) {
    ApiException failure;
    synchronized (s) {
      if (s.state == State.SYNCED) {
        return CompletableFuture.completedFuture(null);
      }
      failure = s.state == State.FAILED ? s.failure : null;
    }
    if (failure != null) {
      return CompletableFuture.failedFuture(failure);
    }
    if (closed || !cloud.online() || System.nanoTime() - deadline > 0) {
      return CompletableFuture.failedFuture(
          new CloudApi.Unavailable(
              "the newer registration of " + s.scope + " did not settle", null));
    }
    return CompletableFuture.runAsync(
            () -> {}, CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS))
        .thenCompose(x -> superseded(s, deadline));
  }

  /**
   * Whether keeping a scope current failed for now only: the cloud did not answer in time, or
   * answered that it is overloaded or timed out itself (429, 503, 504).
   */
  static boolean failedForNow(Throwable c) {
    if (c instanceof CloudApi.Unavailable && c.getCause() instanceof TimeoutException) {
      return true;
    }
    return c instanceof ApiException a && (a.code() == 429 || a.code() == 503 || a.code() == 504);
  }

  /**
   * The identity to keep {@code s} current with, not among {@code tried}: the token in use if it
   * may still be used, else the newest token that may, else none (""); null when none is left.
   */
  private String choose(Sub s, Set<String> tried) {
    for (ScopeTokens.Holder h : tokens.candidates(s.scope, s.holder)) {
      if (!tried.contains(h.key())) {
        return h.key();
      }
    }
    return tried.contains("") ? null : "";
  }

  private String tokenOf(Scope scope, String holder) {
    if (holder == null || holder.isEmpty()) {
      return "";
    }
    ScopeTokens.Holder h = tokens.get(scope, holder);
    return h == null ? "" : h.token();
  }

  /** For logs: who {@code holder} is (never the token). */
  private String who(Scope scope, String holder) {
    if (holder == null || holder.isEmpty()) {
      return "no token (the cloud's identity for requests without one, by default the node)";
    }
    ScopeTokens.Holder h = tokens.get(scope, holder);
    return h == null ? "a token no longer kept" : h.who();
  }

  /** Registers the scope's watch resuming from {@code from}: the cloud replays what came since. */
  private CompletableFuture<Void> resume(Sub s, String token, long from, String holder) {
    return cloud
        .send(watchApplication(s, from, token))
        .thenCompose(
            r -> {
              if (!r.successful()) {
                throw new ApiException(statusOf(r));
              }
              long upTo = resumedAt(r.body());
              if (upTo <= 0) {
                gap(s, "the cloud did not resume its watch"); // a KubeEdge cloudcore
                return list(s, token, false);
              }
              return resumed(s, from, upTo, holder);
            });
  }

  /** The cloud resumed {@code s} from {@code from}: the store holds it up to {@code upTo}. */
  private CompletableFuture<Void> resumed(Sub s, long from, long upTo, String holder) {
    s.resumeRv = Math.max(s.resumeRv, upTo);
    if (s.syncedSince == GAP) {
      s.syncedSince = Math.max(1, upTo); // it lost track before: complete from here on
    }
    return store
        .saveScope(record(s))
        .thenRun(
            () ->
                LOG.info(
                    "metaserver: {} resumed from version {} as {}; current up to {}",
                    s.scope,
                    from,
                    who(s.scope, holder),
                    s.resumeRv));
  }

  /** The version a resumed watch's answer reports ({@code {"resourceVersion": "N"}}); 0 if none. */
  static long resumedAt(JsonNode answer) {
    try {
      Application a = Application.fromJson(answer);
      return resumedAt(a.respBody());
    } catch (RuntimeException e) {
      return 0;
    }
  }

  static long resumedAt(byte[] body) {
    try {
      if (body == null || body.length == 0) {
        return 0;
      }
      return ObjectChange.parseResourceVersion(
          Json.parse(body).path("resourceVersion").asString(""));
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

  /**
   * Lists the scope and reconciles the store with the list, after registering its watch when {@code
   * register}. A scope that was current before lost track of what changed in between: its open
   * watches end first, and the log counts as complete only from the list's version on.
   */
  private CompletableFuture<Void> list(Sub s, String token, boolean register) {
    Scope scope = s.scope;
    if (register) {
      gap(s, "its watch is registered afresh");
    }
    CompletableFuture<Void> registered =
        register ? register(s, token) : CompletableFuture.completedFuture(null);
    return registered
        .thenCompose(v -> store.saveScope(record(s)))
        .thenCompose(v -> listAll(scope, token))
        .thenCompose(
            list ->
                store
                    .reconcile(scope, list.items(), list.resourceVersion(), o -> true)
                    .thenApply(events -> list.resourceVersion()))
        .thenCompose(
            listRv -> {
              if (s.syncedSince == 0) {
                s.syncedSince = Math.max(1, store.resourceState(scope.gvr()).highwater());
              } else if (s.syncedSince == GAP) {
                // From the list on the log is complete again; what it brought before is a sum.
                s.syncedSince = Math.max(1, listRv);
              }
              // The watch was registered before the list: the store now holds every change up
              // to the list's version.
              s.resumeRv = listRv;
              return store.saveScope(record(s));
            });
  }

  /**
   * {@code s} had been current and is listed afresh: what changed meanwhile reaches the store only
   * in sum (a list, and the objects a fresh watch starts with). Its open watches end (their clients
   * list again), and until the list is in no watch resumes from the log of the scope.
   */
  private void gap(Sub s, String why) {
    if (s.syncedSince <= 0 || s.syncedSince == GAP) {
      return; // never current (nothing relies on its log), or already marked
    }
    s.syncedSince = GAP;
    notCurrent.accept(
        s.scope,
        KubeStatus.failure(
            410,
            "Expired",
            "the edge lost track of the changes of " + s.scope + " (" + why + "); list again"));
  }

  /**
   * {@link Sub#syncedSince} of a scope that lost track of its changes and is being listed again: no
   * watch version is recent enough to resume from its log.
   */
  static final long GAP = Long.MAX_VALUE;

  /**
   * The cloud will not keep {@code s} current: it is not served as current (reads go to the cloud,
   * open watches end); a refusal that will not change by itself removes it.
   */
  private void fail(Sub s, ApiException a) {
    synchronized (s) {
      s.state = State.FAILED;
      s.failure = a;
      s.failedAt = System.currentTimeMillis();
    }
    LOG.info(
        "metaserver: the cloud refused to keep {} current: {} {}; it is not served as current",
        s.scope,
        a.code(),
        a.getMessage());
    notCurrent.accept(
        s.scope,
        KubeStatus.failure(
            410,
            "Expired",
            "the edge can no longer keep " + s.scope + " current (" + a.getMessage() + ")"));
    int code = a.code();
    if (code == 401 || code == 403 || code == 404 || code == 405) {
      subs.remove(s.scope, s);
      store.deleteScope(s.scope);
      tokens.forgetScope(s.scope);
    }
  }

  private CompletableFuture<Void> register(Sub s, String token) {
    return cloud
        .send(watchApplication(s, 0, token))
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
    return watchApplication(s, from, tokenOf(s.scope, s.holder));
  }

  private Application watchApplication(Sub s, long from, String token) {
    RequestInfo info = collection(s.scope, "GET", "watch");
    String query = from > 0 ? "watch=true&resourceVersion=" + from : "watch=true";
    return cloud.application(
        s.applicationId, new CloudApi.Request(info, query, "application/json", "", null, token));
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
