package io.kedge.cloud.ha;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each cloudcore's own Lease {@code kubeedge/cloudcore-<name>}, renewed every third of {@code
 * leaseDuration} while it runs and deleted when it stops: what tells the others (and an operator,
 * {@code kubectl get leases -n kubeedge}) that it is alive, and how many edges it holds. A session
 * Lease of an edge counts only while the cloudcore that holds it is alive by this record, so that
 * nothing a dead cloudcore wrote is taken as current.
 */
public final class CloudCorePresence implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CloudCorePresence.class);

  public static final String PREFIX = "cloudcore-";

  /** Label of the presence Leases ({@code kedge.io/lease: cloudcore}). */
  public static final String KIND_LABEL = "kedge.io/lease";

  public static final String KIND = "cloudcore";
  public static final String EDGES_ANNOTATION = "kedge.io/edges";
  public static final String ADDRESS_ANNOTATION = "kedge.io/websocket";

  private final KubernetesClient client;
  private final CloudCoreInstance me;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final String address;
  private volatile IntSupplier edges = () -> 0;
  private SharedIndexInformer<Lease> informer;
  private ScheduledFuture<?> renewal;
  private boolean warnedTwin;
  private boolean failing;

  public CloudCorePresence(
      KubernetesClient client,
      CloudCoreInstance me,
      String address,
      ScheduledExecutorService scheduler,
      Clock clock) {
    this.client = client;
    this.me = me;
    this.address = address;
    this.scheduler = scheduler;
    this.clock = clock;
  }

  /** How many edges this cloudcore holds, shown on its Lease. */
  public void countEdges(IntSupplier edges) {
    this.edges = edges;
  }

  public static String leaseName(String name) {
    return PREFIX + name;
  }

  /** Writes the Lease now, watches the others', and keeps renewing. */
  public void start() {
    informer =
        client
            .leases()
            .inNamespace(LeaderLease.NAMESPACE)
            .withLabel(KIND_LABEL, KIND)
            .runnableInformer(0);
    try {
      informer.start().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("cloudcore presence: Leases not listed yet: {}", e.toString());
    }
    renew();
    long period = Math.max(1000, me.leaseDuration().toMillis() / 3);
    renewal = scheduler.scheduleWithFixedDelay(this::renew, period, period, TimeUnit.MILLISECONDS);
  }

  /** Whether the cloudcore run with holder identity {@code id} is alive. */
  public boolean isAlive(String id) {
    if (me.id().equals(id)) {
      return true;
    }
    String name = CloudCoreInstance.nameOf(id);
    if (name == null || informer == null) {
      return false;
    }
    Lease l = informer.getStore().getByKey(LeaderLease.NAMESPACE + "/" + leaseName(name));
    return l != null && id.equals(holder(l)) && current(l, clock.instant());
  }

  /** The cloudcores alive now (their holder identities). */
  public List<String> alive() {
    Instant now = clock.instant();
    return informer == null
        ? List.of(me.id())
        : informer.getStore().list().stream()
            .filter(l -> current(l, now))
            .map(CloudCorePresence::holder)
            .filter(h -> h != null)
            .sorted()
            .toList();
  }

  /**
   * The cloudcores of the cluster alive now, as their presence Leases show: holder identity to the
   * address edges reach it at (for keadm, which has no informer).
   */
  public static Map<String, String> running(KubernetesClient client) {
    Map<String, String> out = new java.util.TreeMap<>();
    Instant now = Instant.now();
    for (Lease l :
        client
            .leases()
            .inNamespace(LeaderLease.NAMESPACE)
            .withLabel(KIND_LABEL, KIND)
            .list()
            .getItems()) {
      if (current(l, now) && holder(l) != null) {
        String a =
            l.getMetadata().getAnnotations() == null
                ? ""
                : l.getMetadata().getAnnotations().getOrDefault(ADDRESS_ANNOTATION, "");
        out.put(holder(l), a);
      }
    }
    return out;
  }

  static String holder(Lease l) {
    return l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
  }

  /** Renewed within its duration. */
  static boolean current(Lease l, Instant now) {
    if (l.getSpec() == null || l.getSpec().getRenewTime() == null) {
      return false;
    }
    int seconds =
        l.getSpec().getLeaseDurationSeconds() == null ? 0 : l.getSpec().getLeaseDurationSeconds();
    return l.getSpec().getRenewTime().toInstant().plusSeconds(seconds).isAfter(now);
  }

  /** When the Lease stopped being current (its renewal plus duration). */
  static Instant expiry(Lease l) {
    if (l.getSpec() == null || l.getSpec().getRenewTime() == null) {
      return Instant.EPOCH;
    }
    int seconds =
        l.getSpec().getLeaseDurationSeconds() == null ? 0 : l.getSpec().getLeaseDurationSeconds();
    return l.getSpec().getRenewTime().toInstant().plusSeconds(seconds);
  }

  private synchronized void renew() {
    var leases = client.leases().inNamespace(LeaderLease.NAMESPACE);
    String name = leaseName(me.name());
    ZonedDateTime now = ZonedDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
    Map<String, String> notes =
        Map.of(EDGES_ANNOTATION, Integer.toString(edges.getAsInt()), ADDRESS_ANNOTATION, address);
    try {
      Lease cur = leases.withName(name).get();
      if (cur == null) {
        leases
            .resource(
                new LeaseBuilder()
                    .withMetadata(
                        new ObjectMetaBuilder()
                            .withName(name)
                            .withNamespace(LeaderLease.NAMESPACE)
                            .withLabels(Map.of(KIND_LABEL, KIND))
                            .withAnnotations(notes)
                            .build())
                    .withNewSpec()
                    .withHolderIdentity(me.id())
                    .withLeaseDurationSeconds((int) me.leaseDuration().toSeconds())
                    .withAcquireTime(now)
                    .withRenewTime(now)
                    .withLeaseTransitions(0)
                    .endSpec()
                    .build())
            .create();
      } else {
        String other = holder(cur);
        boolean mine = me.id().equals(other);
        if (!mine && other != null && current(cur, clock.instant()) && !warnedTwin) {
          warnedTwin = true;
          LOG.warn(
              "Lease {}/{} is held by {}, renewed {}: a cloudcore that has just died, or another"
                  + " cloudcore with the same name (give each its own highAvailability.name)",
              LeaderLease.NAMESPACE,
              name,
              other,
              cur.getSpec().getRenewTime());
        }
        cur.getMetadata().setLabels(Map.of(KIND_LABEL, KIND));
        cur.getMetadata().setAnnotations(notes);
        cur.getSpec().setHolderIdentity(me.id());
        cur.getSpec().setLeaseDurationSeconds((int) me.leaseDuration().toSeconds());
        cur.getSpec().setRenewTime(now);
        if (!mine) {
          cur.getSpec().setAcquireTime(now);
          cur.getSpec()
              .setLeaseTransitions(
                  (cur.getSpec().getLeaseTransitions() == null
                          ? 0
                          : cur.getSpec().getLeaseTransitions())
                      + 1);
        }
        leases.resource(cur).update();
      }
      if (failing) {
        LOG.info("cloudcore presence: Lease {}/{} renewed again", LeaderLease.NAMESPACE, name);
        failing = false;
      }
    } catch (KubernetesClientException e) {
      if (!failing) {
        LOG.warn(
            "cloudcore presence: cannot renew Lease {}/{}: {} (retrying)",
            LeaderLease.NAMESPACE,
            name,
            e.getMessage());
        failing = true;
      }
    }
  }

  /** How long this cloudcore's Lease lasts without renewal. */
  public Duration leaseDuration() {
    return me.leaseDuration();
  }

  @Override
  public synchronized void close() {
    if (renewal != null) {
      renewal.cancel(false);
    }
    try {
      var lease = client.leases().inNamespace(LeaderLease.NAMESPACE).withName(leaseName(me.name()));
      Lease cur = lease.get();
      if (cur != null && me.id().equals(holder(cur))) {
        lease.lockResourceVersion(cur.getMetadata().getResourceVersion()).delete();
      }
    } catch (KubernetesClientException e) {
      LOG.info("cloudcore presence: Lease not removed: {}", e.getMessage());
    }
    if (informer != null) {
      informer.close();
    }
  }
}
