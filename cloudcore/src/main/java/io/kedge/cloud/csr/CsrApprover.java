package io.kedge.cloud.csr;

import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestCondition;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kedge.cloud.CloudMetrics;
import io.kedge.cloud.csr.MetaServerCsrPolicy.Verdict;
import io.kedge.cloud.ha.Leadership;
import io.kedge.cloud.hub.NodeSessionListener;
import io.kedge.cloud.kube.KeyedWorkQueue;
import io.kedge.cloud.kube.KeyedWorkQueue.Result;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Approves MetaServer serving-certificate CSRs that {@link MetaServerCsrPolicy} accepts and denies,
 * with the reason in the {@code Denied} condition and one warning in the log, those named like one
 * but failing a check. Other CSRs are left alone (pending for whoever approves them). The
 * controller-manager's signer then issues the certificate. Runs only with {@code
 * featureGates.requireAuthorization}, as KubeEdge's approver does.
 *
 * <p>Two things may be missing when a CSR arrives and turn up moments later: the node's Node (an
 * edge requests its certificate while it registers) and, for an IP SAN that only the node's
 * connection can vouch for, that connection. Such a CSR waits (logged once) and is decided again as
 * the work queue backs off, or at once when the node connects; still unconfirmed after {@link
 * #GRACE} it is denied. No CSR stays pending without a log line.
 *
 * <p>With several cloudcores only the leader decides ({@link Leadership}); it takes over what the
 * others left pending when it starts leading. Each decision is written against the version of the
 * CSR it was made on, so that a CSR is never decided twice, even by a leader that was paused and
 * does not know yet that another took over.
 */
public final class CsrApprover implements NodeSessionListener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CsrApprover.class);

  public static final String APPROVED_REASON = "AutoApproved";
  public static final String APPROVED_MESSAGE = "Auto approving MetaServer serving certificate.";
  public static final String DENIED_REASON = "MetaServerCsrRejected";

  /** How long an otherwise valid CSR waits for its Node or its node's connection. */
  static final Duration GRACE = Duration.ofSeconds(20);

  private final KubernetesClient client;
  private final CloudMetrics metrics;
  private final NodeAddresses addresses;
  private final Leadership leadership;
  private final KeyedWorkQueue queue;
  private final Set<String> waiting = ConcurrentHashMap.newKeySet();
  private SharedIndexInformer<CertificateSigningRequest> csrs;

  /**
   * @param addresses what cloudcore itself knows of each node's addresses
   */
  public CsrApprover(KubernetesClient client, NodeAddresses addresses) {
    this(client, addresses, Leadership.ALONE, CloudMetrics.detached());
  }

  /**
   * @param addresses what cloudcore itself knows of each node's addresses
   * @param leadership decides whether this cloudcore approves (the others leave CSRs to it)
   * @param metrics where decisions are counted
   */
  public CsrApprover(
      KubernetesClient client,
      NodeAddresses addresses,
      Leadership leadership,
      CloudMetrics metrics) {
    this.metrics = metrics;
    this.client = client;
    this.addresses = addresses;
    this.leadership = leadership;
    this.queue = new KeyedWorkQueue("csr-approver", this::process);
  }

  public void start(Duration syncTimeout) {
    leadership.addListener(
        () -> {
          if (csrs != null) {
            csrs.getStore().list().forEach(this::offer);
          }
        });
    csrs = client.certificates().v1().certificateSigningRequests().runnableInformer(0);
    csrs.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(CertificateSigningRequest c) {
            offer(c);
          }

          @Override
          public void onUpdate(CertificateSigningRequest o, CertificateSigningRequest c) {
            offer(c);
          }

          @Override
          public void onDelete(CertificateSigningRequest c, boolean unknown) {
            waiting.remove(waitKey(c));
          }
        });
    try {
      csrs.start().toCompletableFuture().get(syncTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("CSR approver: informer did not sync: " + e, e);
    }
    LOG.info("CSR approver started (MetaServer CSRs only)");
  }

  /** A CSR waiting for this node's connection is decided now. */
  @Override
  public void connected(String node) {
    String name = MetaServerCsrPolicy.NAME_PREFIX + node;
    if (csrs != null && csrs.getStore().getByKey(name) != null) {
      queue.add(name);
    }
  }

  private void offer(CertificateSigningRequest c) {
    if (!decided(c) && MetaServerCsrPolicy.nodeOf(c.getMetadata().getName()) != null) {
      queue.add(c.getMetadata().getName());
    }
  }

  private static boolean decided(CertificateSigningRequest c) {
    if (c.getStatus() == null) {
      return false;
    }
    if (c.getStatus().getCertificate() != null && !c.getStatus().getCertificate().isEmpty()) {
      return true;
    }
    if (c.getStatus().getConditions() == null) {
      return false;
    }
    return c.getStatus().getConditions().stream()
        .anyMatch(x -> "Approved".equals(x.getType()) || "Denied".equals(x.getType()));
  }

  private Result process(String name) {
    if (!leadership.isLeader()) {
      return Result.DONE; // the leader decides; when this cloudcore leads, it looks again
    }
    CertificateSigningRequest c = csrs.getStore().getByKey(name);
    if (c == null || decided(c)) {
      if (c != null) {
        waiting.remove(waitKey(c));
      }
      return Result.DONE;
    }
    String nodeName = MetaServerCsrPolicy.nodeOf(name);
    Verdict v = MetaServerCsrPolicy.judge(c, addresses.of(nodeName));
    if (v.kind() == Verdict.Kind.IGNORE) {
      LOG.debug("CSR {} left alone: {}", name, v.reason());
      return Result.DONE;
    }
    if (v.kind() != Verdict.Kind.DENY && client.nodes().withName(nodeName).get() == null) {
      v =
          new Verdict(
              Verdict.Kind.UNCONFIRMED,
              nodeName,
              "node " + nodeName + " does not exist",
              "no-node");
    }
    if (v.kind() == Verdict.Kind.UNCONFIRMED) {
      if (age(c).compareTo(GRACE) < 0) {
        if (waiting.add(waitKey(c))) {
          LOG.info(
              "CSR {} waits (at most {} s from its creation): {}",
              name,
              GRACE.toSeconds(),
              v.reason());
        }
        return Result.RETRY;
      }
      v = v.denied();
    }
    boolean approve = v.kind() == Verdict.Kind.APPROVE;
    CertificateSigningRequestCondition decision =
        approve
            ? condition("Approved", APPROVED_REASON, APPROVED_MESSAGE)
            : condition("Denied", DENIED_REASON, v.reason());
    if (!leadership.isLeader()) {
      return Result.DONE;
    }
    try {
      decide(c, decision);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        // changed since it was read (decided by another cloudcore?): judged again as it is now
        LOG.info("CSR {} changed while it was being decided; looking at it again", name);
        return Result.RETRY;
      }
      throw e;
    }
    if (approve) {
      LOG.info("CSR {} approved (MetaServer serving certificate of node {})", name, v.node());
      metrics.csrDecided(true, v.code());
    } else {
      LOG.warn("CSR {} denied: {}", name, v.reason());
      metrics.csrDecided(false, v.code());
    }
    waiting.remove(waitKey(c));
    return Result.DONE;
  }

  /**
   * Adds {@code decision} to the CSR's conditions through its {@code approval} subresource, as of
   * the version judged: the apiserver refuses the write (409) when the CSR changed since.
   */
  private void decide(
      CertificateSigningRequest judged, CertificateSigningRequestCondition decision) {
    CertificateSigningRequest c = new CertificateSigningRequestBuilder(judged).build();
    if (c.getStatus() == null) {
      c.setStatus(
          new io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestStatus());
    }
    java.util.List<CertificateSigningRequestCondition> conditions =
        new java.util.ArrayList<>(
            c.getStatus().getConditions() == null
                ? java.util.List.of()
                : c.getStatus().getConditions());
    conditions.add(decision);
    c.getStatus().setConditions(conditions);
    client
        .certificates()
        .v1()
        .certificateSigningRequests()
        .resource(c)
        .subresource("approval")
        .update();
  }

  private static String waitKey(CertificateSigningRequest c) {
    return c.getMetadata().getName() + "/" + c.getMetadata().getUid();
  }

  private static Duration age(CertificateSigningRequest c) {
    try {
      return Duration.between(Instant.parse(c.getMetadata().getCreationTimestamp()), Instant.now());
    } catch (RuntimeException e) {
      return GRACE; // no readable creation time: decide now
    }
  }

  private static CertificateSigningRequestCondition condition(
      String type, String reason, String message) {
    return new CertificateSigningRequestConditionBuilder()
        .withType(type)
        .withStatus("True")
        .withReason(reason)
        .withMessage(message)
        .withLastUpdateTime(Instant.now().toString())
        .build();
  }

  @Override
  public void close() {
    queue.close();
    if (csrs != null) {
      csrs.close();
    }
  }
}
