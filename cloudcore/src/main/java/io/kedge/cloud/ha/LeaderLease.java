package io.kedge.cloud.ha;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectorBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.Lock;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader Lease {@code kubeedge/cloudcore}, held through fabric8's leader election: one
 * cloudcore holds it and renews it every {@code retryPeriod}; the others try to take it as soon as
 * it has not been renewed for {@code leaseDuration}. A leader that cannot renew for {@code
 * renewDeadline} stops leading, and a cloudcore that stops cleanly gives the Lease back at once.
 *
 * <p>{@link #isLeader()} does not rely on the election's callbacks alone (a callback can come late
 * when the apiserver is slow): it is also false once {@code renewDeadline} has passed since the
 * renewal that last succeeded, which is before any other cloudcore may take the Lease (after {@code
 * leaseDuration}).
 */
public final class LeaderLease implements Leadership, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderLease.class);

  public static final String NAMESPACE = "kubeedge";
  public static final String NAME = "cloudcore";

  private final KubernetesClient client;
  private final CloudCoreInstance me;
  private final Executor notify;
  private final Clock clock;
  private final ExecutorService electing;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private volatile boolean leading;
  private volatile long validUntilMillis;
  private volatile String leader = "";
  private volatile CompletableFuture<?> running;
  private volatile boolean closed;

  /**
   * @param notify where listeners are told (not the election's own thread, which must keep
   *     renewing)
   */
  public LeaderLease(KubernetesClient client, CloudCoreInstance me, Executor notify, Clock clock) {
    this.client = client;
    this.me = me;
    this.notify = notify;
    this.clock = clock;
    this.electing =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "cloudcore-leader-election");
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts competing for the Lease (returns at once). */
  public void start() {
    elect();
  }

  private void elect() {
    if (closed) {
      return;
    }
    var config =
        new LeaderElectionConfigBuilder()
            .withName("cloudcore")
            .withLock(new RenewalClock(new LeaseLock(NAMESPACE, NAME, me.id())))
            .withLeaseDuration(me.leaseDuration())
            .withRenewDeadline(me.renewDeadline())
            .withRetryPeriod(me.retryPeriod())
            .withReleaseOnCancel(true)
            .withLeaderCallbacks(
                new LeaderCallbacks(this::startedLeading, this::stoppedLeading, this::newLeader))
            .build();
    CompletableFuture<?> f =
        new LeaderElectorBuilder(client, electing).withConfig(config).build().start();
    running = f;
    f.whenComplete(
        (v, err) -> {
          // The election ends when this cloudcore loses the Lease (or is closed): compete again.
          if (leading) {
            stoppedLeading();
          }
          if (!closed) {
            CompletableFuture.delayedExecutor(me.retryPeriod().toMillis(), TimeUnit.MILLISECONDS)
                .execute(this::elect);
          }
        });
  }

  private void startedLeading() {
    leading = true;
    LOG.info(
        "cloudcore {} leads: cluster-wide duties (CSR approval, ServiceAccountAccess objects, join"
            + " token, garbage collection) run here (Lease {}/{})",
        me.id(),
        NAMESPACE,
        NAME);
    for (Listener l : listeners) {
      notify.execute(
          () -> {
            try {
              l.startedLeading();
            } catch (RuntimeException e) {
              LOG.warn("leadership listener failed: {}", e.toString());
            }
          });
    }
  }

  private synchronized void stoppedLeading() {
    if (!leading) {
      return;
    }
    leading = false;
    validUntilMillis = 0;
    LOG.warn("cloudcore {} no longer leads (Lease {}/{})", me.id(), NAMESPACE, NAME);
    for (Listener l : listeners) {
      notify.execute(
          () -> {
            try {
              l.stoppedLeading();
            } catch (RuntimeException e) {
              LOG.warn("leadership listener failed: {}", e.toString());
            }
          });
    }
  }

  private void newLeader(String id) {
    String before = leader;
    leader = id == null ? "" : id;
    if (!Objects.equals(before, leader) && !me.id().equals(leader) && !leader.isEmpty()) {
      LOG.info("cluster-wide duties run on cloudcore {}", leader);
    }
  }

  @Override
  public boolean isLeader() {
    return leading && clock.millis() < validUntilMillis;
  }

  /** The holder of the Lease as last seen (empty when none). */
  public String leader() {
    return leader;
  }

  @Override
  public void addListener(Listener l) {
    listeners.add(l);
  }

  @Override
  public void close() {
    closed = true;
    CompletableFuture<?> f = running;
    if (f != null) {
      // releases the Lease when this cloudcore holds it (releaseOnCancel)
      f.cancel(true);
    }
    electing.shutdown();
    try {
      electing.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The Lease lock, noting when a renewal of this cloudcore's own record succeeds: it is sure to
   * lead until {@code renewTime + renewDeadline} (by then the election gives up renewing; others
   * may take the Lease only at {@code renewTime + leaseDuration}).
   */
  private final class RenewalClock implements Lock {
    private final Lock lock;

    RenewalClock(Lock lock) {
      this.lock = lock;
    }

    @Override
    public LeaderElectionRecord get(KubernetesClient c) {
      return lock.get(c);
    }

    @Override
    public void create(KubernetesClient c, LeaderElectionRecord r) {
      lock.create(c, r);
      renewed(r);
    }

    @Override
    public void update(KubernetesClient c, LeaderElectionRecord r) {
      lock.update(c, r);
      renewed(r);
    }

    private void renewed(LeaderElectionRecord r) {
      if (me.id().equals(r.getHolderIdentity()) && r.getRenewTime() != null) {
        long from = Math.min(r.getRenewTime().toInstant().toEpochMilli(), clock.millis());
        validUntilMillis = from + me.renewDeadline().toMillis();
      }
    }

    @Override
    public String identity() {
      return lock.identity();
    }

    @Override
    public String describe() {
      return lock.describe();
    }
  }
}
