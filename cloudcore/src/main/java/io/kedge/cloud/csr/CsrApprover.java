package io.kedge.cloud.csr;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestCondition;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kedge.cloud.kube.KeyedWorkQueue;
import io.kedge.cloud.kube.KeyedWorkQueue.Result;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Approves MetaServer serving-certificate CSRs that {@link MetaServerCsrPolicy} accepts and denies,
 * with the reason, those named like one but failing a check. Other CSRs are left alone (pending for
 * whoever approves them). The controller-manager's signer then issues the certificate. Runs only
 * with {@code featureGates.requireAuthorization}, as KubeEdge's approver does.
 */
public final class CsrApprover implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CsrApprover.class);

  public static final String APPROVED_REASON = "AutoApproved";
  public static final String APPROVED_MESSAGE = "Auto approving MetaServer serving certificate.";
  public static final String DENIED_REASON = "MetaServerCsrRejected";

  /**
   * How long a CSR of a node that has not announced its MetaServer IPs (no Node yet, or no {@code
   * metaserver.kedge.io/ips} annotation) waits for them before a failed check denies it.
   */
  static final Duration ANNOUNCE_GRACE = Duration.ofSeconds(20);

  private final KubernetesClient client;
  private final KeyedWorkQueue queue;
  private SharedIndexInformer<CertificateSigningRequest> csrs;

  public CsrApprover(KubernetesClient client) {
    this.client = client;
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
          public void onDelete(CertificateSigningRequest c, boolean unknown) {}
        });
    try {
      csrs.start().toCompletableFuture().get(syncTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("CSR approver: informer did not sync: " + e, e);
    }
    LOG.info("CSR approver started (MetaServer CSRs only)");
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
      return Result.DONE;
    }
    String nodeName = MetaServerCsrPolicy.nodeOf(name);
    Node node = nodeName == null ? null : client.nodes().withName(nodeName).get();
    MetaServerCsrPolicy.Verdict v =
        MetaServerCsrPolicy.judge(c, MetaServerCsrPolicy.expectedIps(node));
    if (v.kind() == MetaServerCsrPolicy.Verdict.Kind.APPROVE && node == null) {
      v =
          new MetaServerCsrPolicy.Verdict(
              MetaServerCsrPolicy.Verdict.Kind.DENY,
              nodeName,
              "node " + nodeName + " does not exist");
    }
    if (v.kind() == MetaServerCsrPolicy.Verdict.Kind.DENY
        && !announcedIps(node)
        && age(c).compareTo(ANNOUNCE_GRACE) < 0
        && MetaServerCsrPolicy.judge(c, MetaServerCsrPolicy.requestedIps(c)).kind()
            == MetaServerCsrPolicy.Verdict.Kind.APPROVE) {
      // An edge requests its certificate while it registers its Node: the Node (or its IPs
      // annotation) may land just after the CSR. Only the IPs are in question (everything else
      // passes), so denying now could refuse a valid request.
      LOG.info(
          "CSR {}: node {} has not announced its MetaServer IPs yet; deciding again shortly",
          name,
          nodeName);
      return Result.RETRY;
    }
    switch (v.kind()) {
      case IGNORE -> LOG.debug("CSR {} left alone: {}", name, v.reason());
      case APPROVE -> {
        client
            .certificates()
            .v1()
            .certificateSigningRequests()
            .withName(name)
            .approve(condition("Approved", APPROVED_REASON, APPROVED_MESSAGE));
        LOG.info("CSR {} approved (MetaServer serving certificate of node {})", name, v.node());
      }
      case DENY -> {
        client
            .certificates()
            .v1()
            .certificateSigningRequests()
            .withName(name)
            .deny(condition("Denied", DENIED_REASON, v.reason()));
        LOG.warn("CSR {} denied: {}", name, v.reason());
      }
    }
    return Result.DONE;
  }

  private static boolean announcedIps(Node node) {
    return node != null
        && node.getMetadata().getAnnotations() != null
        && node.getMetadata().getAnnotations().containsKey(MetaServerCsrPolicy.IPS_ANNOTATION);
  }

  private static Duration age(CertificateSigningRequest c) {
    try {
      return Duration.between(Instant.parse(c.getMetadata().getCreationTimestamp()), Instant.now());
    } catch (RuntimeException e) {
      return ANNOUNCE_GRACE; // no readable creation time: decide now
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
