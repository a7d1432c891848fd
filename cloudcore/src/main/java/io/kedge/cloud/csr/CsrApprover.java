package io.kedge.cloud.csr;

import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestCondition;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kedge.cloud.CloudMetrics;
import io.kedge.cloud.csr.MetaServerCsrPolicy.Verdict;
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
  private final KeyedWorkQueue queue;
  private final Set<String> waiting = ConcurrentHashMap.newKeySet();
  private SharedIndexInformer<CertificateSigningRequest> csrs;

  /**
   * @param addresses what cloudcore itself knows of each node's addresses
   */
  public CsrApprover(KubernetesClient client, NodeAddresses addresses) {
    this(client, addresses, CloudMetrics.detached());
  }

  /**
   * @param addresses what cloudcore itself knows of each node's addresses
   * @param metrics where decisions are counted
   */
  public CsrApprover(KubernetesClient client, NodeAddresses addresses, CloudMetrics metrics) {
    this.metrics = metrics;
    this.client = client;
    this.addresses = addresses;
    this.queue = new KeyedWorkQueue("csr-approver", this::process);
  }

  public void start(Duration syncTimeout) {
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
    if (v.kind() == Verdict.Kind.APPROVE) {
      client
          .certificates()
          .v1()
          .certificateSigningRequests()
          .withName(name)
          .approve(condition("Approved", APPROVED_REASON, APPROVED_MESSAGE));
      LOG.info("CSR {} approved (MetaServer serving certificate of node {})", name, v.node());
      metrics.csrDecided(true, v.code());
    } else {
      client
          .certificates()
          .v1()
          .certificateSigningRequests()
          .withName(name)
          .deny(condition("Denied", DENIED_REASON, v.reason()));
      LOG.warn("CSR {} denied: {}", name, v.reason());
      metrics.csrDecided(false, v.code());
    }
    waiting.remove(waitKey(c));
    return Result.DONE;
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
