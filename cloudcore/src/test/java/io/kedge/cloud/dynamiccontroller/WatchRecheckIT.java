package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.testkit.KedgeManifests;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * A watch whose re-check after an RBAC change cannot be made (cloudcore may no longer ask the
 * apiserver's authorizer) is not kept as it was: it is tried again, then stopped, and a Kedge edge
 * is told.
 */
@WithControlPlane
class WatchRecheckIT {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(WatchRecheckIT.class);
  static final String SA = "cloudcore-recheck";

  @TempDir Path tmp;

  @Test
  void aWatchWhoseRecheckCannotBeMadeIsStoppedNotKept(ControlPlane plane, KubernetesClient admin)
      throws Exception {
    ClusterFixture.cloudcore(plane, tmp).close(); // the shipped RBAC is in place
    // cloudcore's rights, with SubjectAccessReviews granted apart so that they can be taken away
    ClusterRole[] shipped = {null};
    Waits.until(
        "ClusterRole cloudcore aggregated",
        Duration.ofSeconds(30),
        () -> {
          shipped[0] = admin.rbac().clusterRoles().withName("cloudcore").get();
          return shipped[0] != null
              && shipped[0].getRules() != null
              && shipped[0].getRules().stream().anyMatch(WatchRecheckIT::sar);
        });
    List<PolicyRule> rest = shipped[0].getRules().stream().filter(r -> !sar(r)).toList();
    try (ClusterFixture fixture = new ClusterFixture(admin)) {
      clusterRole(admin, SA + "-base", rest);
      clusterRole(
          admin,
          SA + "-sar",
          List.of(
              new PolicyRuleBuilder()
                  .withApiGroups("authorization.k8s.io")
                  .withResources("subjectaccessreviews")
                  .withVerbs("create")
                  .build()));
      bind(admin, SA + "-base");
      bind(admin, SA + "-sar");
      Path kc =
          plane.serviceAccountKubeconfig(
              KedgeManifests.NAMESPACE, SA, tmp.resolve("recheck.kubeconfig"));
      String ns = fixture.namespace("recheck");
      fixture.serviceAccount(ns, "app");
      fixture.grant(ns, "app", List.of("configmaps"), List.of("get", "list", "watch"));
      String token = fixture.token(fixture.pod(ns, "app", "app", "edge-r"));
      RecordingMessenger m = new RecordingMessenger();
      try (KubeClients clients =
              KubeClients.create(
                  new CloudCoreConfig.KubeApiConfig(
                      "", kc.toString(), "application/json", 100, 200));
          DynamicController c =
              new DynamicController(DynamicControllerOptions.defaults(), clients, m, null)) {
        c.start().join();
        SimulatedMetaServer e = new SimulatedMetaServer("edge-r", c, m);
        SimulatedMetaServer.Reply[] w = {null};
        Waits.until(
            "the watch allowed",
            Duration.ofSeconds(30),
            () ->
                (w[0] = e.http("GET", "/api/v1/namespaces/" + ns + "/configmaps?watch=true", token))
                    .approved());

        // cloudcore may no longer ask: the re-check this RBAC change brings cannot be made
        admin.rbac().clusterRoleBindings().withName(SA + "-sar").delete();
        Duration d =
            Waits.until(
                "the watch stopped", Duration.ofSeconds(60), () -> c.watchIds("edge-r").isEmpty());
        JsonNode st = DynamicControllerWatchIT.stopped(m, w[0].app().id());
        assertThat(st).as("kedge.watchStopped").isNotNull();
        assertThat(st.path("code").asInt()).isEqualTo(503);
        assertThat(st.path("message").asString()).contains("cannot be checked");
        LOG.info("watch stopped {} ms after its re-check became impossible", d.toMillis());
      } finally {
        for (String n : List.of(SA + "-base", SA + "-sar")) {
          admin.rbac().clusterRoleBindings().withName(n).delete();
          admin.rbac().clusterRoles().withName(n).delete();
        }
      }
    }
  }

  static boolean sar(PolicyRule r) {
    return r.getResources() != null && r.getResources().contains("subjectaccessreviews");
  }

  static void clusterRole(KubernetesClient admin, String name, List<PolicyRule> rules) {
    admin
        .rbac()
        .clusterRoles()
        .resource(
            new ClusterRoleBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withRules(rules)
                .build())
        .serverSideApply();
  }

  static void bind(KubernetesClient admin, String role) {
    admin
        .rbac()
        .clusterRoleBindings()
        .resource(
            new ClusterRoleBindingBuilder()
                .withNewMetadata()
                .withName(role)
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", role)
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(SA)
                .withNamespace(KedgeManifests.NAMESPACE)
                .endSubject()
                .build())
        .serverSideApply();
  }
}
