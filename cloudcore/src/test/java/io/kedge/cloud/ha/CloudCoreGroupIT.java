package io.kedge.cloud.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.cloud.CloudCoreFixture;
import io.kedge.cloud.kube.CloudcoreIdentity;
import io.kedge.controlplane.ControlPlane;
import io.kedge.testkit.Waits;
import io.kedge.testkit.edge.SimulatedEdge;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several cloudcores on the real apiserver, as ServiceAccount kubeedge/cloudcore with the shipped
 * RBAC: one leader at a time, taken over from a dead one once its Lease expired and not before, and
 * an edge connected to two cloudcores is held by the newer session only.
 */
@WithControlPlane
class CloudCoreGroupIT {
  private static final String NS = LeaderLease.NAMESPACE;

  @TempDir Path dir;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
  }

  private static CloudCoreInstance instance(String name) {
    // lease 4 s, renew deadline 3 s, retry 1 s
    return new CloudCoreInstance(
        name,
        name + "_" + Long.toString(System.nanoTime() % 100000, 36),
        Duration.ofSeconds(4),
        Duration.ofSeconds(3),
        Duration.ofSeconds(1));
  }

  @Test
  void aDeadLeaderIsReplacedOnceItsLeaseExpiredAndNeverTwoLeadAtOnce(
      ControlPlane plane, KubernetesClient admin) throws Exception {
    KubernetesClient own = CloudcoreIdentity.clients(plane).own();
    admin.leases().inNamespace(NS).withName(LeaderLease.NAME).delete();
    Waits.until(
        "no leader Lease",
        Duration.ofSeconds(30),
        () -> admin.leases().inNamespace(NS).withName(LeaderLease.NAME).get() == null);
    // A cloudcore that died (kill -9) while leading: its Lease renewed just now, never again.
    Instant renewed = Instant.now().truncatedTo(ChronoUnit.MICROS);
    admin
        .leases()
        .inNamespace(NS)
        .resource(
            new LeaseBuilder()
                .withNewMetadata()
                .withName(LeaderLease.NAME)
                .withNamespace(NS)
                .endMetadata()
                .withNewSpec()
                .withHolderIdentity("dead-cloudcore_zzzzz")
                .withLeaseDurationSeconds(4)
                .withAcquireTime(ZonedDateTime.ofInstant(renewed, ZoneOffset.UTC))
                .withRenewTime(ZonedDateTime.ofInstant(renewed, ZoneOffset.UTC))
                .withLeaseTransitions(0)
                .endSpec()
                .build())
        .create();

    try (CloudCoreGroup a =
            CloudCoreGroup.start(own, instance("ha-a"), "127.0.0.1:1", scheduler, scheduler);
        CloudCoreGroup b =
            CloudCoreGroup.start(own, instance("ha-b"), "127.0.0.1:2", scheduler, scheduler)) {
      AtomicBoolean both = new AtomicBoolean();
      AtomicInteger samples = new AtomicInteger();
      AtomicBoolean sampling = new AtomicBoolean(true);
      Thread sampler =
          new Thread(
              () -> {
                while (sampling.get()) {
                  if (a.leadership().isLeader() && b.leadership().isLeader()) {
                    both.set(true);
                  }
                  samples.incrementAndGet();
                  try {
                    Thread.sleep(5);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              });
      sampler.start();
      try {
        Waits.until(
            "a cloudcore leads",
            Duration.ofSeconds(30),
            () -> a.leadership().isLeader() || b.leadership().isLeader());
        Duration after = Duration.between(renewed, Instant.now());
        // not before the dead leader's Lease expired; within its duration plus a retry or two
        // (the apiserver's clock and ours are the same here)
        assertThat(after).isGreaterThanOrEqualTo(Duration.ofSeconds(4));
        assertThat(after).isLessThan(Duration.ofSeconds(4 + 6));
        Lease l = admin.leases().inNamespace(NS).withName(LeaderLease.NAME).get();
        CloudCoreGroup leader = a.leadership().isLeader() ? a : b;
        CloudCoreGroup follower = leader == a ? b : a;
        assertThat(l.getSpec().getHolderIdentity()).isEqualTo(leader.instance().id());

        // The leader stops (its Lease is given back): the other leads within moments.
        Instant stopped = Instant.now();
        leader.close();
        Waits.until(
            "the other cloudcore leads", Duration.ofSeconds(15), follower.leadership()::isLeader);
        assertThat(Duration.between(stopped, Instant.now())).isLessThan(Duration.ofSeconds(6));
        assertThat(leader.leadership().isLeader()).isFalse();
        Thread.sleep(500);
      } finally {
        sampling.set(false);
        sampler.join();
      }
      assertThat(samples.get()).isGreaterThan(100);
      assertThat(both).as("two cloudcores led at once").isFalse();
    }
  }

  @Test
  void anEdgeConnectedToTwoCloudcoresIsHeldByTheNewerSessionOnly(
      ControlPlane plane, KubernetesClient admin) {
    String node = "ha-twice-" + Long.toString(System.nanoTime() % 100000, 36);
    try (CloudCoreFixture a = new CloudCoreFixture(plane, dir.resolve("a"));
        CloudCoreFixture b = new CloudCoreFixture(plane, dir.resolve("b"))) {
      SimulatedEdge first = a.connect(node);
      Waits.until(
          "the session Lease of the node names cloudcore a",
          Duration.ofSeconds(30),
          () -> holder(admin, node) != null);
      String holderA = holder(admin, node);

      Instant second = Instant.now();
      SimulatedEdge newer = b.connect(node);
      // the older session is closed by its cloudcore within seconds
      assertThat(first.awaitClosed(Duration.ofSeconds(10)))
          .as("cloudcore a closed the older session")
          .isTrue();
      assertThat(Duration.between(second, Instant.now())).isLessThan(Duration.ofSeconds(10));
      Waits.until(
          "the session Lease names cloudcore b",
          Duration.ofSeconds(10),
          () -> {
            String h = holder(admin, node);
            return h != null && !h.equals(holderA);
          });
      assertThat(newer.isOpen()).isTrue();

      // The newer session ends: its record goes with it.
      newer.closeAbruptly();
      Waits.until(
          "the ended session's Lease is removed",
          Duration.ofSeconds(15),
          () -> holder(admin, node) == null);
    }
  }

  private static String holder(KubernetesClient admin, String node) {
    Lease l = admin.leases().inNamespace(NS).withName(NodeSessionLeases.leaseName(node)).get();
    return l == null || l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
  }
}
