package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.ControlPlane;
import io.kedge.testkit.EdgeCoreProcess;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real processes on the real control plane: cloudcore (as ServiceAccount kubeedge/cloudcore, with
 * the shipped RBAC) and three edgecores that join with the token from Secret kubeedge/tokensecret,
 * become Ready with the edge label, keep renewing their Leases, and survive {@code kill -9} of
 * cloudcore and its restart.
 */
@WithControlPlane
class EdgeJoinIT {
  private static final Logger LOG = LoggerFactory.getLogger(EdgeJoinIT.class);
  private static final Duration WAIT = Duration.ofSeconds(120);
  private static final String EDGE_LABEL = "node-role.kubernetes.io/edge";

  @TempDir Path dir;

  private static boolean ready(KubernetesClient admin, String node) {
    Node n = admin.nodes().withName(node).get();
    if (n == null || n.getStatus() == null || n.getStatus().getConditions() == null) {
      return false;
    }
    return n.getStatus().getConditions().stream()
        .filter(c -> "Ready".equals(c.getType()))
        .map(NodeCondition::getStatus)
        .anyMatch("True"::equals);
  }

  private static ZonedDateTime renewTime(KubernetesClient admin, String node) {
    Lease l = admin.leases().inNamespace("kube-node-lease").withName(node).get();
    return l == null || l.getSpec() == null || l.getSpec().getRenewTime() == null
        ? null
        : l.getSpec().getRenewTime();
  }

  private static void awaitRenewal(KubernetesClient admin, String node) {
    ZonedDateTime before = renewTime(admin, node);
    Waits.until(
        "lease of " + node + " renewed",
        WAIT,
        () -> {
          ZonedDateTime now = renewTime(admin, node);
          return now != null && (before == null || now.isAfter(before));
        });
  }

  @Test
  void edgesJoinStayReadyAndSurviveACloudcoreCrash(ControlPlane plane, KubernetesClient admin)
      throws Exception {
    List<String> nodes = List.of("edge-join-1", "edge-join-2", "edge-join-3");
    List<EdgeCoreProcess> edges = new ArrayList<>();
    try (CloudCoreProcess cloud = CloudCoreProcess.start(plane, dir.resolve("cloudcore"))) {
      String token = cloud.token();
      try {
        for (String n : nodes) {
          edges.add(
              EdgeCoreProcess.start(
                  dir.resolve(n), n, cloud.hubUri(), cloud.bootstrapUri(), token));
        }
        for (String n : nodes) {
          Waits.until(n + " Ready", WAIT, () -> ready(admin, n));
          Node node = admin.nodes().withName(n).get();
          assertThat(node.getMetadata().getLabels()).containsKey(EDGE_LABEL);
          assertThat(node.getStatus().getAddresses())
              .anyMatch(
                  a -> "InternalIP".equals(a.getType()) && "127.0.0.1".equals(a.getAddress()));
          Lease lease = admin.leases().inNamespace("kube-node-lease").withName(n).get();
          assertThat(lease).as("lease of " + n).isNotNull();
          assertThat(lease.getMetadata().getOwnerReferences())
              .anyMatch(
                  o ->
                      "Node".equals(o.getKind()) && node.getMetadata().getUid().equals(o.getUid()));
        }
        for (String n : nodes) {
          awaitRenewal(admin, n);
        }

        cloud.kill();
        LOG.info("cloudcore killed");
        cloud.startProcess();
        for (EdgeCoreProcess e : edges) {
          e.awaitConnections(2, WAIT);
        }
        for (String n : nodes) {
          awaitRenewal(admin, n);
          assertThat(ready(admin, n)).as(n + " still Ready after the restart").isTrue();
        }
        assertThat(cloud.forbiddenLines()).as("cloudcore refused by RBAC").isEmpty();
        for (EdgeCoreProcess e : edges) {
          assertThat(e.process().isAlive()).isTrue();
          assertThat(e.log()).doesNotContain("Exception in thread");
        }
      } finally {
        for (EdgeCoreProcess e : edges) {
          e.close();
        }
      }
    }
  }
}
