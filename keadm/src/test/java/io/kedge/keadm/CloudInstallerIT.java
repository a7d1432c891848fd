package io.kedge.keadm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kedge.cloud.hub.JoinToken;
import io.kedge.controlplane.ControlPlane;
import io.kedge.controlplane.ServiceAccountKubeconfig;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.config.ConfigLoader;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/** The cluster side of keadm init / gettoken / reset against the real control plane. */
@WithControlPlane
class CloudInstallerIT {
  final ControlPlane plane;
  final KubernetesClient admin;

  CloudInstallerIT(ControlPlane plane, KubernetesClient admin) {
    this.plane = plane;
    this.admin = admin;
  }

  CloudInstaller installer() {
    return new CloudInstaller(
        SupervisedServicesTest.env(), admin, KeadmRun.kedgeHome().resolve("deploy"));
  }

  @AfterEach
  void removeInstall() {
    CloudInstaller i = installer();
    i.uninstall(i.manifests(true));
  }

  @Test
  void installsConfigMapAndRbacAndCloudcoreActsAsItsServiceAccount(@TempDir Path dir)
      throws Exception {
    CloudInstaller i = installer();
    var values =
        CloudCoreValues.build(
            List.of(
                "cloudCore.modules.dynamicController.enable=true,"
                    + "cloudCore.featureGates.requireAuthorization=true"),
            List.of("127.0.0.1"),
            InstallLayout.of(dir));
    i.apply(i.manifests(true));
    i.applyConfigMap(i.configMap(values, KubeEdgeVersion.DEFAULT));

    assertThat(admin.serviceAccounts().inNamespace("kubeedge").withName("cloudcore").get())
        .isNotNull();
    assertThat(admin.rbac().clusterRoles().withName("cloudcore").get().getAggregationRule())
        .isNotNull();
    ConfigMap cm = i.existing().orElseThrow();
    assertThat(cm.getMetadata().getAnnotations())
        .containsEntry(CloudInstaller.VERSION_ANNOTATION, "v1.17.0");
    ObjectNode tree = (ObjectNode) ConfigLoader.parseYaml(cm.getData().get(InitCommand.CONFIG_KEY));
    assertThat(tree.path("apiVersion").asString()).isEqualTo(CloudCoreConfig.API_VERSION);
    ObjectNode merged = ConfigLoader.defaults(CloudCoreConfig.DEFAULTS);
    ConfigLoader.merge(merged, tree);
    CloudCoreConfig cfg = ConfigLoader.toRecord(CloudCoreConfig.class, merged, null);
    assertThat(cfg.requireAuthorization()).isTrue();
    assertThat(cfg.modules().dynamicController().enable()).isTrue();

    Path kc = dir.resolve("cloudcore.kubeconfig");
    ServiceAccountKubeconfig.write(
        admin, "kubeedge", "cloudcore", plane.apiserverUrl(), plane.pki().caPem(), kc);
    try (KubernetesClient asCloudcore =
        new KubernetesClientBuilder()
            .withConfig(Config.fromKubeconfig(null, Files.readString(kc), kc.toString()))
            .build()) {
      var probe =
          new io.fabric8.kubernetes.api.model.NamespaceBuilder()
              .withNewMetadata()
              .withName("keadm-rbac-probe")
              .endMetadata()
              .build();
      assertThatThrownBy(() -> asCloudcore.namespaces().resource(probe).create())
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining("system:serviceaccount:kubeedge:cloudcore");
    }
  }

  /**
   * An install whose shared Secrets are gone (here: never written) cannot take another cloudcore:
   * init says so at once instead of starting one that cannot run.
   */
  @Test
  void aSecondInitReportsTheExistingInstall(@TempDir Path dir) {
    CloudInstaller i = installer();
    var values = CloudCoreValues.build(List.of(), List.of("127.0.0.1"), InstallLayout.of(dir));
    i.apply(i.manifests(false));
    i.applyConfigMap(i.configMap(values, KubeEdgeVersion.DEFAULT));
    KeadmRun r =
        KeadmRun.run(
            "init",
            "--kube-config",
            plane.adminKubeconfig().toString(),
            "--advertise-address=127.0.0.1",
            "--root-dir",
            dir.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err())
        .contains("cloudcore is already installed in this cluster")
        .contains("KubeEdge v1.17.0")
        .contains("kubeedge/casecret")
        .contains("--force");
    assertThat(admin.rbac().clusterRoles().withName(CloudInstaller.FEATURE_ROLE).get()).isNull();
  }

  @Test
  void gettokenPrintsOnlyTheToken() {
    KeadmRun missing =
        KeadmRun.run("gettoken", "--kube-config", plane.adminKubeconfig().toString());
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.err()).contains("no join token").contains("keadm init");
    assertThat(missing.out()).isEmpty();

    CloudInstaller i = installer();
    i.apply(i.manifests(false));
    var values = CloudCoreValues.build(List.of(), List.of("127.0.0.1"), InstallLayout.of(null));
    var tls = i.ensureCredentials(values.config());
    String first = i.token().orElseThrow();
    assertThat(first.split("\\.")).hasSize(4);
    assertThat(first.substring(0, 64)).isEqualTo(JoinToken.caHash(tls.ca().certificate()));
    assertThat(admin.secrets().inNamespace("kubeedge").withName("casecret").get()).isNotNull();
    assertThat(admin.secrets().inNamespace("kubeedge").withName("cloudcoresecret").get())
        .isNotNull();
    // A second init keeps the CA, so joined edges stay valid.
    var again = i.ensureCredentials(values.config());
    assertThat(again.ca().certificate()).isEqualTo(tls.ca().certificate());
    String token = i.token().orElseThrow();
    KeadmRun r = KeadmRun.run("gettoken", "--kube-config", plane.adminKubeconfig().toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo(token + "\n");
  }
}
