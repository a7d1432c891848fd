package io.kedge.cloud.ha;

import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kedge.cloud.csr.NodeAddresses;
import io.kedge.cloud.hub.NodeSessionListener;
import io.kedge.cloud.kube.SerialExecutor;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Lease per edge node, {@code kubeedge/edge-session-<node>}: which cloudcore holds the node's
 * session ({@code holderIdentity}), since when ({@code acquireTime}, the session's start) and the
 * address the node connects from as that cloudcore sees it (annotation {@code kedge.io/address}).
 * Nodes have no rights in the {@code kubeedge} namespace, so the record is cloudcore's word; it is
 * written when a session starts and deleted when it ends, never renewed (with tens of thousands of
 * edges renewals would be the apiserver's main load): it counts while its holder's presence Lease
 * is current ({@link CloudCorePresence}).
 *
 * <p>A node holds one session at a time. When two cloudcores both think they hold it (the edge left
 * one without a word and connected to another: a network split, a half-open connection), the newer
 * session wins: the cloudcore whose Lease record is overwritten by a newer session watches its own
 * records (label {@code kedge.io/cloudcore=<name>}), sees it, and closes its older session within
 * moments. An older session never overwrites a newer one.
 *
 * <p>As {@link NodeAddresses}: the address of the node's session here, or, when another living
 * cloudcore holds it, the address that cloudcore recorded. The elected CSR approver therefore
 * approves the node's connection address wherever the node is connected.
 */
public final class NodeSessionLeases implements NodeSessionListener, NodeAddresses, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeSessionLeases.class);

  public static final String PREFIX = "edge-session-";
  public static final String KIND = "edge-session";
  public static final String CLOUDCORE_LABEL = "kedge.io/cloudcore";
  public static final String ADDRESS_ANNOTATION = "kedge.io/address";

  /** Presence Leases are deleted this long after they expired (a cloudcore removed for good). */
  static final Duration FORGET_CLOUDCORES = Duration.ofHours(1);

  private record Held(Instant started, String address) {}

  private final KubernetesClient client;
  private final CloudCoreInstance me;
  private final CloudCorePresence presence;
  private final Function<String, Optional<InetAddress>> connectionAddress;
  private final BiPredicate<String, String> closeSession;
  private final Executor pool;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final Map<String, Held> held = new ConcurrentHashMap<>();
  private final Map<String, SerialExecutor> perNode = new ConcurrentHashMap<>();
  private SharedIndexInformer<Lease> mine;
  private volatile boolean closed;

  /**
   * @param connectionAddress the address of this cloudcore's session of a node (CloudHub)
   * @param closeSession ends this cloudcore's session of a node, with a reason (CloudHub)
   */
  public NodeSessionLeases(
      KubernetesClient client,
      CloudCoreInstance me,
      CloudCorePresence presence,
      Function<String, Optional<InetAddress>> connectionAddress,
      BiPredicate<String, String> closeSession,
      Executor pool,
      ScheduledExecutorService scheduler,
      Clock clock) {
    this.client = client;
    this.me = me;
    this.presence = presence;
    this.connectionAddress = connectionAddress;
    this.closeSession = closeSession;
    this.pool = pool;
    this.scheduler = scheduler;
    this.clock = clock;
  }

  public static String leaseName(String node) {
    return PREFIX + node;
  }

  /** Watches this cloudcore's own records for another cloudcore taking them over. */
  public void start() {
    mine =
        client
            .leases()
            .inNamespace(LeaderLease.NAMESPACE)
            .withLabel(CLOUDCORE_LABEL, me.name())
            .runnableInformer(0);
    mine.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(Lease l) {
            changed(l);
          }

          @Override
          public void onUpdate(Lease old, Lease l) {
            changed(l);
          }

          @Override
          public void onDelete(Lease l, boolean unknown) {
            // deleted, or no longer this cloudcore's (the apiserver reports a record leaving the
            // selection as a deletion, with its old content)
            String node = nodeOf(l);
            if (node != null && held.containsKey(node)) {
              serial(node).execute(() -> check(node));
            }
          }
        });
    try {
      mine.start().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("edge sessions: own Leases not listed yet: {}", e.toString());
    }
  }

  private void changed(Lease l) {
    String node = nodeOf(l);
    if (node != null && held.containsKey(node) && !me.id().equals(holder(l))) {
      serial(node).execute(() -> check(node));
    }
  }

  private static String nodeOf(Lease l) {
    String n = l.getMetadata().getName();
    return n != null && n.startsWith(PREFIX) ? n.substring(PREFIX.length()) : null;
  }

  private static String holder(Lease l) {
    return CloudCorePresence.holder(l);
  }

  private SerialExecutor serial(String node) {
    return perNode.computeIfAbsent(node, n -> new SerialExecutor(pool, "edge session " + n));
  }

  // ---------------------------------------------------------------- sessions

  @Override
  public void connected(String node) {
    String address = connectionAddress.apply(node).map(InetAddress::getHostAddress).orElse("");
    // MicroTime: what the Lease keeps, so that a record read back compares equal
    Held h = new Held(clock.instant().truncatedTo(ChronoUnit.MICROS), address);
    held.put(node, h);
    serial(node).execute(() -> claim(node, h, 0));
  }

  @Override
  public void disconnected(String node) {
    Held h = held.remove(node);
    if (h != null) {
      serial(node).execute(() -> release(node, h));
    }
  }

  /** Records this cloudcore's session of {@code node}, unless a newer one is held elsewhere. */
  private void claim(String node, Held h, int failures) {
    if (closed || held.get(node) != h) {
      return;
    }
    var leases = client.leases().inNamespace(LeaderLease.NAMESPACE);
    for (int attempt = 0; attempt < 5; attempt++) {
      try {
        Lease cur = leases.withName(leaseName(node)).get();
        if (cur != null && newerElsewhere(cur, h)) {
          yieldTo(node, h, cur);
          return;
        }
        ZonedDateTime started = ZonedDateTime.ofInstant(h.started(), ZoneOffset.UTC);
        Map<String, String> labels = new HashMap<>();
        labels.put(CloudCorePresence.KIND_LABEL, KIND);
        labels.put(CLOUDCORE_LABEL, me.name());
        Map<String, String> notes = Map.of(ADDRESS_ANNOTATION, h.address());
        if (cur == null) {
          leases
              .resource(
                  new LeaseBuilder()
                      .withMetadata(
                          new ObjectMetaBuilder()
                              .withName(leaseName(node))
                              .withNamespace(LeaderLease.NAMESPACE)
                              .withLabels(labels)
                              .withAnnotations(notes)
                              .build())
                      .withNewSpec()
                      .withHolderIdentity(me.id())
                      .withAcquireTime(started)
                      .withRenewTime(started)
                      .withLeaseTransitions(0)
                      .endSpec()
                      .build())
              .create();
        } else {
          boolean taken = !me.id().equals(holder(cur));
          cur.getMetadata().setLabels(labels);
          cur.getMetadata().setAnnotations(notes);
          cur.getSpec().setHolderIdentity(me.id());
          cur.getSpec().setAcquireTime(started);
          cur.getSpec().setRenewTime(started);
          cur.getSpec().setLeaseDurationSeconds(null);
          if (taken) {
            Integer t = cur.getSpec().getLeaseTransitions();
            cur.getSpec().setLeaseTransitions((t == null ? 0 : t) + 1);
          }
          leases.resource(cur).update();
        }
        LOG.debug("edge sessions: node {} held here since {}", node, h.started());
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() == 409) {
          continue; // written meanwhile: read it again
        }
        retry(node, h, failures, e);
        return;
      }
    }
    retry(node, h, failures, null);
  }

  private void retry(String node, Held h, int failures, KubernetesClientException e) {
    if (failures == 0) {
      LOG.warn(
          "edge sessions: cannot record the session of node {}: {} (retrying)",
          node,
          e == null ? "the Lease keeps changing" : e.getMessage());
    }
    long delay = Math.min(30_000, me.retryPeriod().toMillis() << Math.min(failures, 4));
    scheduler.schedule(
        () -> serial(node).execute(() -> claim(node, h, failures + 1)),
        delay,
        TimeUnit.MILLISECONDS);
  }

  /**
   * Whether {@code cur} records a session of another living cloudcore that started after ours (the
   * identities decide a tie).
   */
  private boolean newerElsewhere(Lease cur, Held h) {
    String other = holder(cur);
    if (other == null || me.id().equals(other) || !presence.isAlive(other)) {
      return false;
    }
    ZonedDateTime at = cur.getSpec().getAcquireTime();
    if (at == null) {
      return false;
    }
    int c = at.toInstant().compareTo(h.started());
    return c > 0 || (c == 0 && other.compareTo(me.id()) > 0);
  }

  private void yieldTo(String node, Held h, Lease cur) {
    if (held.get(node) != h) {
      return;
    }
    String why =
        "node "
            + node
            + " has a newer session on cloudcore "
            + holder(cur)
            + " (since "
            + cur.getSpec().getAcquireTime()
            + ")";
    LOG.info("edge sessions: {}; closing the one held here since {}", why, h.started());
    closeSession.test(node, why);
  }

  /** Another cloudcore changed or removed this cloudcore's record of a session it still holds. */
  private void check(String node) {
    Held h = held.get(node);
    if (h == null || closed) {
      return;
    }
    try {
      Lease cur =
          client.leases().inNamespace(LeaderLease.NAMESPACE).withName(leaseName(node)).get();
      if (cur != null && me.id().equals(holder(cur))) {
        return;
      }
      if (cur != null && newerElsewhere(cur, h)) {
        yieldTo(node, h, cur);
      } else {
        claim(node, h, 0); // removed, or overwritten by an older session or a dead cloudcore
      }
    } catch (KubernetesClientException e) {
      retry(node, h, 0, e);
    }
  }

  /** Deletes the record of an ended session, unless it is another's by now. */
  private void release(String node, Held h) {
    if (held.containsKey(node)) {
      return; // a new session of the node here: its claim updates the record
    }
    try {
      var lease = client.leases().inNamespace(LeaderLease.NAMESPACE).withName(leaseName(node));
      Lease cur = lease.get();
      if (cur != null
          && me.id().equals(holder(cur))
          && cur.getSpec().getAcquireTime() != null
          && cur.getSpec().getAcquireTime().toInstant().equals(h.started())) {
        lease.lockResourceVersion(cur.getMetadata().getResourceVersion()).delete();
      }
    } catch (KubernetesClientException e) {
      // 404/409: gone or taken over meanwhile; else the record stays and counts only while this
      // cloudcore lives, and the leader removes it once it does not
      LOG.debug("edge sessions: record of node {} not removed: {}", node, e.getMessage());
    }
    perNode.computeIfPresent(node, (n, s) -> held.containsKey(n) ? s : null);
  }

  // ---------------------------------------------------------------- NodeAddresses

  @Override
  public Set<InetAddress> of(String node) {
    Optional<InetAddress> here = connectionAddress.apply(node);
    if (here.isPresent()) {
      return Set.of(here.get());
    }
    try {
      Lease l = client.leases().inNamespace(LeaderLease.NAMESPACE).withName(leaseName(node)).get();
      if (l == null || l.getSpec() == null || !presence.isAlive(holder(l))) {
        return Set.of();
      }
      String a =
          l.getMetadata().getAnnotations() == null
              ? null
              : l.getMetadata().getAnnotations().get(ADDRESS_ANNOTATION);
      if (a == null || a.isEmpty() || !literal(a)) {
        return Set.of();
      }
      return Set.of(InetAddress.getByName(a));
    } catch (KubernetesClientException | java.net.UnknownHostException e) {
      LOG.info("edge sessions: address of node {} unknown: {}", node, e.getMessage());
      return Set.of();
    }
  }

  /** Only an IP literal is resolved: never a name lookup for what a Lease says. */
  private static boolean literal(String a) {
    return a.matches("[0-9.]+") || a.matches("[0-9a-fA-F:.]+") && a.contains(":");
  }

  // ---------------------------------------------------------------- garbage collection

  /**
   * The leader's sweep: deletes session records whose holder is no longer alive (the edge
   * reconnects and is recorded anew; until then nothing may take the dead record as current) and
   * presence Leases of cloudcores gone for over an hour. Each deletion is conditional on the
   * version read, so that a record claimed meanwhile stays.
   *
   * @return how many Leases were deleted
   */
  public int collect(Leadership leadership) {
    int deleted = 0;
    var leases = client.leases().inNamespace(LeaderLease.NAMESPACE);
    String cont = null;
    Instant now = clock.instant();
    do {
      if (!leadership.isLeader() || closed) {
        return deleted;
      }
      LeaseList page =
          leases
              .withLabel(CloudCorePresence.KIND_LABEL)
              .list(new ListOptionsBuilder().withLimit(500L).withContinue(cont).build());
      for (Lease l : page.getItems()) {
        String kind = l.getMetadata().getLabels().get(CloudCorePresence.KIND_LABEL);
        boolean stale =
            KIND.equals(kind)
                ? !presence.isAlive(holder(l))
                : CloudCorePresence.KIND.equals(kind)
                    && CloudCorePresence.expiry(l).plus(FORGET_CLOUDCORES).isBefore(now);
        if (!stale || !leadership.isLeader()) {
          continue;
        }
        try {
          leases
              .withName(l.getMetadata().getName())
              .lockResourceVersion(l.getMetadata().getResourceVersion())
              .delete();
          deleted++;
        } catch (KubernetesClientException e) {
          LOG.debug(
              "edge sessions: {} not collected: {}", l.getMetadata().getName(), e.getMessage());
        }
      }
      cont = page.getMetadata() == null ? null : page.getMetadata().getContinue();
    } while (cont != null && !cont.isEmpty());
    if (deleted > 0) {
      LOG.info("edge sessions: removed {} Leases of cloudcores that are gone", deleted);
    }
    return deleted;
  }

  /** How many sessions this cloudcore holds. */
  public int size() {
    return held.size();
  }

  @Override
  public void close() {
    closed = true;
    if (mine != null) {
      mine.close();
    }
  }
}
