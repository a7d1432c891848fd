package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestCondition;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.kedge.cloud.ha.LeaderLease;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.controlplane.ControlPlane;
import io.kedge.pki.CertificateRequests;
import io.kedge.pki.KeyPairs;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 18, cluster-wide duties: three cloudcore processes with {@code requireAuthorization}; the
 * leader gets {@code kill -9} while 10 MetaServer CSRs and 10 ServiceAccounts with RBAC used by
 * pods on an edge node wait for it. A survivor takes the lead and approves every CSR and writes
 * every ServiceAccountAccess exactly once, within the lease duration plus 10 s.
 */
@WithControlPlane
class HaLeaderDutiesIT {
  private static final Logger LOG = LoggerFactory.getLogger(HaLeaderDutiesIT.class);
  private static final int LEASE = 8;
  private static final int N = 10;
  private static final ResourceDefinitionContext SAA =
      new ResourceDefinitionContext.Builder()
          .withGroup("policy.kubeedge.io")
          .withVersion("v1alpha1")
          .withPlural("serviceaccountaccesses")
          .withKind("ServiceAccountAccess")
          .withNamespaced(true)
          .build();

  @Test
  void theLeaderKilledWithDutiesPendingASurvivorDoesEachExactlyOnce(
      ControlPlane plane, KubernetesClient admin) throws Exception {
    Path dir = RunFiles.runDir("ha-leader-it-");
    LOG.info("files of this run in {}", dir);
    String sfx = Long.toString(System.nanoTime() % 1_000_000, 36);
    // a MetaServer CSR is named after its node (metaserver-csr-<node>): one node per CSR
    List<String> nodes = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      String node = "edge-ha-duties-" + sfx + "-" + i;
      admin
          .nodes()
          .resource(
              new NodeBuilder()
                  .withNewMetadata()
                  .withName(node)
                  .addToLabels("node-role.kubernetes.io/edge", "")
                  .endMetadata()
                  .build())
          .create();
      nodes.add(node);
    }
    String ns = MetaServerFixture.namespace(admin, "ha-duties");

    List<CloudCoreProcess> clouds = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        clouds.add(
            CloudCoreProcess.start(
                plane,
                dir.resolve("cloudcore-" + i),
                "highAvailability.name=duties-" + i,
                "highAvailability.leaseDuration=" + LEASE,
                "highAvailability.renewDeadline=5",
                "highAvailability.retryPeriod=1",
                "featureGates.requireAuthorization=true"));
      }
      Waits.until(
          "a cloudcore leads",
          Duration.ofSeconds(60),
          () -> {
            String h = leader(admin);
            return h != null && h.startsWith("duties-");
          });
      String leaderId = leader(admin);
      int leader = Integer.parseInt(leaderId.substring("duties-".length(), leaderId.indexOf('_')));
      LOG.info("cloudcore {} leads ({})", leader, leaderId);

      // Count every write the cloudcores make to what is pending.
      Map<String, Integer> saaAdded = new ConcurrentHashMap<>();
      Map<String, Integer> saaDeleted = new ConcurrentHashMap<>();
      var saaWatch =
          admin
              .genericKubernetesResources(SAA)
              .inNamespace(ns)
              .watch(
                  new Watcher<GenericKubernetesResource>() {
                    @Override
                    public void eventReceived(Action a, GenericKubernetesResource r) {
                      String k = r.getMetadata().getName();
                      if (a == Action.ADDED) {
                        saaAdded.merge(k, 1, Integer::sum);
                      } else if (a == Action.DELETED) {
                        saaDeleted.merge(k, 1, Integer::sum);
                      }
                    }

                    @Override
                    public void onClose(WatcherException e) {}
                  });

      clouds.get(leader).kill();
      clouds.get(leader).process().waitFor(Duration.ofSeconds(30));
      Instant killed = Instant.now();
      LOG.info("leader cloudcore {} killed", leader);

      KubeClients adminClients =
          KubeClients.of(
              io.fabric8.kubernetes.client.Config.fromKubeconfig(
                  null, Files.readString(plane.adminKubeconfig()), null));
      List<String> csrs = new ArrayList<>();
      for (String node : nodes) {
        String name = "metaserver-csr-" + node;
        adminClients
            .asNode(node)
            .certificates()
            .v1()
            .certificateSigningRequests()
            .resource(csr(name, node))
            .create();
        csrs.add(name);
      }
      for (int i = 0; i < N; i++) {
        String sa = "reader-" + i;
        admin
            .serviceAccounts()
            .inNamespace(ns)
            .resource(
                new ServiceAccountBuilder().withNewMetadata().withName(sa).endMetadata().build())
            .create();
        admin
            .rbac()
            .roles()
            .inNamespace(ns)
            .resource(
                new RoleBuilder()
                    .withNewMetadata()
                    .withName(sa)
                    .endMetadata()
                    .addNewRule()
                    .withApiGroups("")
                    .withResources("configmaps")
                    .withVerbs("get", "list", "watch")
                    .endRule()
                    .build())
            .create();
        admin
            .rbac()
            .roleBindings()
            .inNamespace(ns)
            .resource(
                new RoleBindingBuilder()
                    .withNewMetadata()
                    .withName(sa)
                    .endMetadata()
                    .withNewRoleRef("rbac.authorization.k8s.io", "Role", sa)
                    .addNewSubject()
                    .withKind("ServiceAccount")
                    .withName(sa)
                    .withNamespace(ns)
                    .endSubject()
                    .build())
            .create();
        admin
            .pods()
            .inNamespace(ns)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName("pod-" + i)
                    .endMetadata()
                    .withNewSpec()
                    .withNodeName(nodes.get(i))
                    .withServiceAccountName(sa)
                    .addNewContainer()
                    .withName("c")
                    .withImage("busybox")
                    .endContainer()
                    .endSpec()
                    .build())
            .create();
      }
      LOG.info("{} CSRs and {} ServiceAccounts with RBAC pending", N, N);

      Duration deadline = Duration.ofSeconds(LEASE + 10);
      Duration took =
          Waits.until(
              "every CSR approved and every ServiceAccountAccess written",
              Duration.ofSeconds(120),
              () ->
                  csrs.stream().allMatch(c -> approvals(admin, c) >= 1)
                      && admin
                              .genericKubernetesResources(SAA)
                              .inNamespace(ns)
                              .list()
                              .getItems()
                              .size()
                          == N);
      Duration sinceKill = Duration.between(killed, Instant.now());
      String newLeader = leader(admin);
      LOG.info(
          "all duties done {} ms after the kill (waited {} ms); new leader {}",
          sinceKill.toMillis(),
          took.toMillis(),
          newLeader);
      assertThat(newLeader).isNotEqualTo(leaderId);
      assertThat(sinceKill).isLessThanOrEqualTo(deadline);

      // Give a second cloudcore every chance to do any of it again.
      Thread.sleep(5_000);
      for (String c : csrs) {
        assertThat(approvals(admin, c)).as("Approved conditions of CSR %s", c).isEqualTo(1);
        assertThat(conditions(admin, c))
            .as("conditions of CSR %s", c)
            .noneMatch(x -> "Denied".equals(x.getType()));
      }
      assertThat(saaAdded).hasSize(N);
      assertThat(saaAdded.values()).allMatch(v -> v == 1);
      assertThat(saaDeleted).isEmpty();
      saaWatch.close();
      for (int i = 0; i < clouds.size(); i++) {
        if (i != leader) {
          clouds.get(i).assertNoForbidden();
        }
      }
    } finally {
      clouds.forEach(CloudCoreProcess::close);
      nodes.forEach(n -> admin.nodes().withName(n).delete());
      for (CloudCoreProcess c : clouds) {
        if (!Files.exists(c.logFile())) {
          continue;
        }
        Files.copy(
            c.logFile(),
            dir.resolve(c.dir().getFileName() + ".log"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  private static String leader(KubernetesClient admin) {
    var l = admin.leases().inNamespace("kubeedge").withName(LeaderLease.NAME).get();
    return l == null || l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
  }

  private static List<CertificateSigningRequestCondition> conditions(
      KubernetesClient admin, String name) {
    CertificateSigningRequest c =
        admin.certificates().v1().certificateSigningRequests().withName(name).get();
    return c == null || c.getStatus() == null || c.getStatus().getConditions() == null
        ? List.of()
        : c.getStatus().getConditions();
  }

  private static long approvals(KubernetesClient admin, String name) {
    return conditions(admin, name).stream().filter(x -> "Approved".equals(x.getType())).count();
  }

  private static CertificateSigningRequest csr(String name, String node) {
    String pem =
        CertificateRequests.pem(
            KeyPairs.ecP256(),
            "system:node:" + node,
            List.of("system:nodes"),
            List.of("127.0.0.1", "169.254.30.10"),
            List.of());
    return new CertificateSigningRequestBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withSignerName("kubernetes.io/kubelet-serving")
        .withRequest(Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII)))
        .withUsages("digital signature", "key encipherment", "server auth")
        .endSpec()
        .build();
  }
}
