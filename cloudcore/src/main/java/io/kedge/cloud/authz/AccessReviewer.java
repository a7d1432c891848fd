package io.kedge.cloud.authz;

import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.cloud.kube.ApiResource;
import io.kedge.cloud.kube.ApiStatusException;
import io.kedge.cloud.kube.SharedInformers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SubjectAccessReviews (with cloudcore's identity) for watches cloudcore serves from its own
 * informers on someone else's behalf. Verdicts are cached briefly and dropped as soon as any Role,
 * ClusterRole or binding changes; change listeners are then told (once per burst of changes) so
 * that they can re-check what they granted.
 *
 * <p>The apiserver's authorizer follows RBAC through an informer of its own, which can be behind
 * ours: a review asked right after a change may still get the old verdict. So listeners are told
 * twice: shortly after a burst, and again once RBAC has been quiet for {@code settle}, with every
 * verdict dropped before each time.
 */
public final class AccessReviewer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AccessReviewer.class);
  private static final String RBAC = "rbac.authorization.k8s.io";
  private static final Duration DEBOUNCE = Duration.ofMillis(300);
  private static final Duration SETTLE = Duration.ofSeconds(3);

  static final List<ApiResource> RBAC_TYPES =
      List.of(
          new ApiResource(RBAC, "v1", "roles", "Role", true, List.of()),
          new ApiResource(RBAC, "v1", "rolebindings", "RoleBinding", true, List.of()),
          new ApiResource(RBAC, "v1", "clusterroles", "ClusterRole", false, List.of()),
          new ApiResource(
              RBAC, "v1", "clusterrolebindings", "ClusterRoleBinding", false, List.of()));

  /**
   * What is asked: {@code verb} on {@code group/resource[/subresource]} in {@code namespace} (null:
   * cluster scope or all namespaces), optionally one object {@code name}.
   */
  public record Access(
      String verb,
      String group,
      String version,
      String resource,
      String subresource,
      String namespace,
      String name) {}

  /** The verdict; {@code reason} is the authorizer's explanation, possibly empty. */
  public record Decision(boolean allowed, String reason) {}

  private record Key(Subject subject, Access access) {}

  /** Asks the authorizer; the production one posts a SubjectAccessReview. */
  interface Authorizer {
    Decision decide(Subject subject, Access access);
  }

  private record Entry(CompletableFuture<Decision> decision, long expiresAt, long generation) {}

  private final KubernetesClient client;
  private final SharedInformers informers;
  private final Executor blocking;
  private final ScheduledExecutorService timer;
  private final long ttlNanos;
  private final long debounceNanos;
  private final long settleNanos;
  private final Authorizer authorizer;
  private final LongSupplier clock;
  private final Map<Key, Entry> cache = new ConcurrentHashMap<>();
  private final AtomicLong nextSweep = new AtomicLong();
  private final AtomicLong generation = new AtomicLong();
  private final AtomicBoolean notifyPending = new AtomicBoolean();
  private final AtomicBoolean settlePending = new AtomicBoolean();
  private final AtomicLong lastChange = new AtomicLong();
  private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();
  private final List<SharedInformers.Handle> handles = new ArrayList<>();

  public AccessReviewer(
      KubernetesClient client,
      SharedInformers informers,
      Executor blocking,
      ScheduledExecutorService timer,
      Duration ttl) {
    this(client, informers, blocking, timer, ttl, DEBOUNCE, SETTLE, null);
  }

  /** {@code authorizer} null: SubjectAccessReviews through {@code client}. */
  AccessReviewer(
      KubernetesClient client,
      SharedInformers informers,
      Executor blocking,
      ScheduledExecutorService timer,
      Duration ttl,
      Duration debounce,
      Duration settle,
      Authorizer authorizer) {
    this.client = client;
    this.informers = informers;
    this.blocking = blocking;
    this.timer = timer;
    this.ttlNanos = ttl.toNanos();
    this.debounceNanos = debounce.toNanos();
    this.settleNanos = settle.toNanos();
    this.authorizer = authorizer == null ? this::call : authorizer;
    this.clock = System::nanoTime;
  }

  /** Follows RBAC objects; the future completes once all four types are listed. */
  public CompletableFuture<Void> start() {
    List<CompletableFuture<Void>> synced = new ArrayList<>();
    for (ApiResource r : RBAC_TYPES) {
      SharedInformers.Handle h = informers.acquire(r);
      h.subscribe((type, old, obj) -> rbacChanged());
      synchronized (handles) {
        handles.add(h);
      }
      synced.add(h.synced());
    }
    return CompletableFuture.allOf(synced.toArray(CompletableFuture[]::new));
  }

  public void onRbacChange(Runnable listener) {
    changeListeners.add(listener);
  }

  /** Whether {@code subject} may do {@code access}; fails only when the review cannot be made. */
  public CompletableFuture<Decision> review(Subject subject, Access access) {
    Key key = new Key(subject, access);
    long now = clock.getAsLong();
    long gen = generation.get();
    @SuppressWarnings("unchecked")
    CompletableFuture<Decision>[] mine = new CompletableFuture[1];
    Entry entry =
        cache.compute(
            key,
            (k, cur) -> {
              if (cur != null && cur.generation == gen && now - cur.expiresAt < 0) {
                return cur;
              }
              mine[0] = new CompletableFuture<>();
              return new Entry(mine[0], now + ttlNanos, gen);
            });
    if (mine[0] == null) {
      return entry.decision;
    }
    long due = nextSweep.get();
    if (now - due >= 0 && nextSweep.compareAndSet(due, now + ttlNanos)) {
      cache.values().removeIf(e -> now - e.expiresAt >= 0); // nothing else drops stale verdicts
    }
    CompletableFuture<Decision> f = mine[0];
    blocking.execute(
        () -> {
          try {
            f.complete(authorizer.decide(subject, access));
          } catch (RuntimeException e) {
            cache.remove(key, entry);
            f.completeExceptionally(
                ApiStatusException.from(e, client, "SubjectAccessReview failed"));
          }
        });
    return f;
  }

  /**
   * Drops the cached verdicts of {@code subject}: what it may do changed in a way RBAC objects do
   * not show (a node's rights follow the pods bound to it).
   */
  public void forget(Subject subject) {
    cache.keySet().removeIf(k -> k.subject().equals(subject));
  }

  private Decision call(Subject subject, Access a) {
    SubjectAccessReview sar =
        new SubjectAccessReviewBuilder()
            .withNewSpec()
            .withUser(subject.user())
            .withGroups(subject.groups())
            .withUid(subject.uid().isEmpty() ? null : subject.uid())
            .withExtra(subject.extra().isEmpty() ? null : subject.extra())
            .withNewResourceAttributes()
            .withVerb(a.verb())
            .withGroup(a.group())
            .withVersion(a.version())
            .withResource(a.resource())
            .withSubresource(a.subresource())
            .withNamespace(a.namespace())
            .withName(a.name())
            .endResourceAttributes()
            .endSpec()
            .build();
    SubjectAccessReview out = client.authorization().v1().subjectAccessReview().create(sar);
    var st = out.getStatus();
    boolean allowed = st != null && Boolean.TRUE.equals(st.getAllowed());
    boolean denied = st != null && Boolean.TRUE.equals(st.getDenied());
    String reason = st == null || st.getReason() == null ? "" : st.getReason();
    if (st != null && st.getEvaluationError() != null && !st.getEvaluationError().isEmpty()) {
      LOG.debug(
          "SubjectAccessReview for {}: evaluation error {}",
          subject.user(),
          st.getEvaluationError());
    }
    return new Decision(allowed && !denied, reason);
  }

  void rbacChanged() {
    lastChange.set(clock.getAsLong());
    forgetVerdicts();
    if (notifyPending.compareAndSet(false, true)) {
      timer.schedule(
          () -> {
            notifyPending.set(false);
            notifyListeners();
          },
          debounceNanos,
          TimeUnit.NANOSECONDS);
    }
    if (settlePending.compareAndSet(false, true)) {
      timer.schedule(this::settled, settleNanos, TimeUnit.NANOSECONDS);
    }
  }

  /** The second telling, once RBAC has been quiet for {@code settle}; waits on while it is not. */
  private void settled() {
    settlePending.set(false);
    long quiet = clock.getAsLong() - lastChange.get();
    if (quiet < settleNanos) {
      if (settlePending.compareAndSet(false, true)) {
        timer.schedule(this::settled, settleNanos - quiet, TimeUnit.NANOSECONDS);
      }
      return;
    }
    forgetVerdicts();
    notifyListeners();
  }

  private void forgetVerdicts() {
    generation.incrementAndGet();
    cache.clear();
  }

  private void notifyListeners() {
    for (Runnable l : changeListeners) {
      try {
        l.run();
      } catch (RuntimeException e) {
        LOG.error("RBAC change listener failed", e);
      }
    }
  }

  /**
   * The apiserver's wording of a denial, e.g. {@code configmaps is forbidden: User "u" cannot list
   * resource "configmaps" in API group "" in the namespace "demo"}.
   */
  public static String forbiddenMessage(Subject s, Access a, String reason) {
    String res =
        a.subresource() == null || a.subresource().isEmpty()
            ? a.resource()
            : a.resource() + "/" + a.subresource();
    String what = a.group().isEmpty() ? a.resource() : a.resource() + "." + a.group();
    StringBuilder b = new StringBuilder(what);
    if (a.name() != null && !a.name().isEmpty()) {
      b.append(" \"").append(a.name()).append('"');
    }
    b.append(" is forbidden: User \"")
        .append(s.user())
        .append("\" cannot ")
        .append(a.verb())
        .append(" resource \"")
        .append(res)
        .append("\" in API group \"")
        .append(a.group())
        .append('"');
    if (a.namespace() == null || a.namespace().isEmpty()) {
      b.append(" at the cluster scope");
    } else {
      b.append(" in the namespace \"").append(a.namespace()).append('"');
    }
    if (reason != null && !reason.isEmpty()) {
      b.append(": ").append(reason);
    }
    return b.toString();
  }

  @Override
  public void close() {
    synchronized (handles) {
      for (SharedInformers.Handle h : handles) {
        h.close();
      }
      handles.clear();
    }
  }
}
