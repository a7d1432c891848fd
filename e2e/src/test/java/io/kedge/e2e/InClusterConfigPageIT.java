package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8, must show 1–3: KubeEdge's page "Edge pods use in-cluster config to access
 * Kube-APIServer", run as written with the real keadm, cloudcore and edgecore processes against the
 * local control plane, and a pod whose unchanged python in-cluster client lists ConfigMaps.
 */
@WithControlPlane
class InClusterConfigPageIT {

  /** Must show 1: init with the page's flags (space-separated --set), edits, join, pod works. */
  @Test
  void thePageAsWritten(ControlPlane plane, KubernetesClient admin, @TempDir Path dir) {
    try (PageInstall i = new PageInstall(plane, dir, "page-edge-1")) {
      Keadm.Result init =
          i.init(
              List.of(
                  "--advertise-address=127.0.0.1",
                  "--kubeedge-version=v1.17.0",
                  "--set",
                  "cloudCore.modules.dynamicController.enable=true",
                  "cloudCore.featureGates.requireAuthorization=true"));
      assertThat(init.err()).contains("applying it as another --set");
      assertThat(admin.rbac().clusterRoles().withName("cloudcore-feature").get()).isNotNull();

      // kubectl edit cm cloudcore -nkubeedge: the two keys the page names, then restart.
      i.editCloudcoreConfigMap(
          y -> {
            y.withObject("featureGates").put("requireAuthorization", true);
            y.withObject("modules").withObject("dynamicController").put("enable", true);
          });
      i.restartCloudcore();

      i.join(List.of());
      // vi /etc/kubeedge/config/edgecore.yaml: the gate and the page's metaServer key.
      i.editEdgecoreYaml(
          y -> {
            y.withObject("featureGates").put("requireAuthorization", true);
            y.withObject("modules").withObject("metaServer").put("enable", true);
          });
      i.restartEdgecore();
      i.awaitNodeReady();

      i.demoNamespace("page-demo-1", true);
      PageInstall.Outcome o = i.runClient("page-demo-1", "client").succeeded();
      assertThat(o.output()).contains("read configmaps ['greeting', 'kube-root-ca.crt']");
      assertThat(i.cloudcoreForbidden())
          .as("cloudcore's own calls, under the shipped ClusterRoles")
          .isEmpty();
    }
  }

  /**
   * Must show 2: init without --set, then the ConfigMap edit alone (cloudcore applies it by
   * restarting), kubectl apply of the shipped cloudcore-feature ClusterRole, restart.
   */
  @Test
  void thePagesOtherPath(ControlPlane plane, KubernetesClient admin, @TempDir Path dir)
      throws Exception {
    try (PageInstall i = new PageInstall(plane, dir, "page-edge-2")) {
      i.init(List.of("--advertise-address=127.0.0.1", "--kubeedge-version=v1.17.0"));
      assertThat(admin.rbac().clusterRoles().withName("cloudcore-feature").get()).isNull();
      Path log = i.cloudRoot.resolve("var/log/kubeedge/cloudcore.log");
      long before = Files.readAllLines(log).size();
      i.editCloudcoreConfigMap(
          y -> {
            y.withObject("featureGates").put("requireAuthorization", true);
            y.withObject("modules").withObject("dynamicController").put("enable", true);
          });
      // The edit alone restarts cloudcore with the new configuration.
      Waits.until(
          "cloudcore restarted after the ConfigMap edit",
          Duration.ofMinutes(2),
          () -> {
            List<String> lines = Files.readAllLines(log);
            return lines.subList((int) before, lines.size()).stream()
                .anyMatch(l -> l.contains("[supervise] cloudcore: started"));
          });
      try (InputStream in =
          Files.newInputStream(Keadm.home().resolve("deploy/rbac/cloudcore-feature.yaml"))) {
        // kubectl apply -f: create what is missing, replace what is there
        admin.load(in).items().forEach(o -> admin.resource(o).createOr(r -> r.update()));
      }
      i.restartCloudcore();

      i.join(
          List.of(
              "--set",
              "featureGates.requireAuthorization=true,modules.metaManager.metaServer.enable=true"));
      i.awaitNodeReady();
      i.demoNamespace("page-demo-2", true);
      PageInstall.Outcome o = i.runClient("page-demo-2", "client").succeeded();
      assertThat(o.output()).contains("greeting");
    }
  }

  /** Adds listing Deployments to the Role the demo's RoleBinding grants the pod's account. */
  static void allowListingDeployments(KubernetesClient admin, String ns) {
    admin
        .rbac()
        .roles()
        .inNamespace(ns)
        .withName("configmap-reader")
        .edit(
            r -> {
              r.getRules()
                  .add(
                      new PolicyRuleBuilder()
                          .withApiGroups("apps")
                          .withResources("deployments")
                          .withVerbs("list")
                          .build());
              return r;
            });
  }

  /**
   * Must show 3: the page's note. In {@code cloudcore} identity mode the request fails as {@code
   * system:serviceaccount:kubeedge:cloudcore} until an aggregated ClusterRole grants it; in the
   * default {@code pod} mode the message names the pod's own service account, and a RoleBinding for
   * it resolves it.
   */
  @Test
  void thePagesNote(ControlPlane plane, KubernetesClient admin, @TempDir Path dir) {
    try (PageInstall i = new PageInstall(plane, dir, "page-edge-3")) {
      i.init(
          List.of(
              "--advertise-address=127.0.0.1",
              "--set",
              "cloudCore.modules.dynamicController.enable=true,"
                  + "cloudCore.featureGates.requireAuthorization=true",
              "--set",
              "cloudCore.modules.dynamicController.identity=cloudcore"));
      i.join(
          List.of(
              "--set",
              "featureGates.requireAuthorization=true,modules.metaManager.metaServer.enable=true"));
      i.awaitNodeReady();

      // cloudcore identity: requests run with cloudcore's rights, which do not cover Deployments.
      // The edge still authorizes the pod's own account first (Kedge checks both), so that account
      // may list Deployments here: what is missing is cloudcore's right only.
      i.demoNamespace("page-note", true);
      allowListingDeployments(admin, "page-note");
      PageInstall.Outcome denied = i.runClient("page-note", "as-cloudcore", "deployments");
      assertThat(denied.phase()).isEqualTo("Failed");
      assertThat(denied.output())
          .contains("status 403")
          .contains("User \\\"system:serviceaccount:kubeedge:cloudcore\\\" cannot list resource")
          .contains("deployments");
      String aggregated = "cloudcore-edge-pods-list-deployments";
      try {
        admin
            .rbac()
            .clusterRoles()
            .resource(
                new ClusterRoleBuilder()
                    .withNewMetadata()
                    .withName(aggregated)
                    .withLabels(Map.of("rbac/aggregate-to-cloudcore", "true"))
                    .endMetadata()
                    .withRules(
                        new PolicyRuleBuilder()
                            .withApiGroups("apps")
                            .withResources("deployments")
                            .withVerbs("get", "list", "watch")
                            .build())
                    .build())
            .serverSideApply();
        Waits.until(
            "the aggregated rule reaches ClusterRole cloudcore",
            Duration.ofSeconds(60),
            () ->
                admin.rbac().clusterRoles().withName("cloudcore").get().getRules().stream()
                    .anyMatch(r -> r.getResources().contains("deployments")));
        assertThat(
                i.runClient("page-note", "as-cloudcore-granted", "deployments")
                    .succeeded()
                    .output())
            .contains("read deployments []");
      } finally {
        admin.rbac().clusterRoles().withName(aggregated).delete();
      }

      // pod identity (Kedge's default): the message names the pod's own service account, and a
      // RoleBinding for that account resolves it.
      i.editCloudcoreConfigMap(
          y -> y.withObject("modules").withObject("dynamicController").put("identity", "pod"));
      i.restartCloudcore();
      i.demoNamespace("page-note-pod", true);
      PageInstall.Outcome forbidden = i.runClient("page-note-pod", "as-pod", "deployments");
      assertThat(forbidden.phase()).isEqualTo("Failed");
      assertThat(forbidden.output())
          .contains("status 403")
          .contains("system:serviceaccount:page-note-pod:reader")
          .contains("cannot list resource")
          .contains("deployments");
      allowListingDeployments(admin, "page-note-pod");
      assertThat(i.runClient("page-note-pod", "as-pod-granted", "deployments").succeeded().output())
          .contains("read deployments []");
    }
  }
}
