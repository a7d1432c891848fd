package io.kedge.cloud.ha;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This cloudcore as one of several serving a cluster, all coordinated through Leases in the {@code
 * kubeedge} namespace and nothing else: its presence ({@link CloudCorePresence}), the leader
 * election for the cluster-wide duties ({@link LeaderLease}) and the record of which cloudcore
 * holds each edge's session ({@link NodeSessionLeases}). One cloudcore alone is simply always the
 * leader.
 */
public final class CloudCoreGroup implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CloudCoreGroup.class);

  /** How often the leader sweeps Leases of cloudcores that are gone. */
  static final Duration SWEEP = Duration.ofMinutes(5);

  private final KubernetesClient client;
  private final CloudCoreInstance me;
  private final Executor pool;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final CloudCorePresence presence;
  private final LeaderLease leader;
  private NodeSessionLeases sessions;
  private ScheduledFuture<?> sweep;

  private CloudCoreGroup(
      KubernetesClient client,
      CloudCoreInstance me,
      String address,
      Executor pool,
      ScheduledExecutorService scheduler,
      Clock clock) {
    this.client = client;
    this.me = me;
    this.pool = pool;
    this.scheduler = scheduler;
    this.clock = clock;
    this.presence = new CloudCorePresence(client, me, address, scheduler, clock);
    this.leader = new LeaderLease(client, me, pool, clock);
  }

  /**
   * Announces this cloudcore and starts competing for the lead.
   *
   * @param address where edges reach this cloudcore (shown on its Lease)
   */
  public static CloudCoreGroup start(
      KubernetesClient client,
      CloudCoreInstance me,
      String address,
      Executor pool,
      ScheduledExecutorService scheduler) {
    CloudCoreGroup g = new CloudCoreGroup(client, me, address, pool, scheduler, Clock.systemUTC());
    g.presence.start();
    g.leader.start();
    LOG.info(
        "cloudcore {} (Lease {}/{}) joins the cloudcores of this cluster; the leader holds Lease"
            + " {}/{}",
        me.id(),
        LeaderLease.NAMESPACE,
        CloudCorePresence.leaseName(me.name()),
        LeaderLease.NAMESPACE,
        LeaderLease.NAME);
    return g;
  }

  public CloudCoreInstance instance() {
    return me;
  }

  public Leadership leadership() {
    return leader;
  }

  public CloudCorePresence presence() {
    return presence;
  }

  /**
   * Starts recording the sessions of the edges CloudHub holds (register the result as its session
   * listener).
   */
  public synchronized NodeSessionLeases recordSessions(
      Function<String, Optional<InetAddress>> connectionAddress,
      BiPredicate<String, String> closeSession) {
    sessions =
        new NodeSessionLeases(
            client, me, presence, connectionAddress, closeSession, pool, scheduler, clock);
    sessions.start();
    presence.countEdges(sessions::size);
    sweep =
        scheduler.scheduleWithFixedDelay(
            () -> {
              try {
                if (leader.isLeader()) {
                  sessions.collect(leader);
                }
              } catch (RuntimeException e) {
                LOG.warn("edge sessions: sweep failed: {}", e.toString());
              }
            },
            Duration.ofMinutes(1).toMillis(),
            SWEEP.toMillis(),
            TimeUnit.MILLISECONDS);
    return sessions;
  }

  @Override
  public synchronized void close() {
    if (sweep != null) {
      sweep.cancel(false);
    }
    if (sessions != null) {
      sessions.close();
    }
    leader.close();
    presence.close();
  }
}
