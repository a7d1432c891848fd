package io.kedge.cloud;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.config.ConfigException;
import io.kedge.testkit.KedgeManifests;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cloudcore reading cloudcore.yaml from ConfigMap kubeedge/cloudcore with the shipped RBAC. */
@WithControlPlane
class ConfigMapConfigIT {
  static final String YAML =
      "apiVersion: cloudcore.config.kubeedge.io/v1alpha2\n"
          + "kind: CloudCore\n"
          + "kubeAPIConfig: {kubeConfig: \"\", master: \"\"}\n"
          + "featureGates: {requireAuthorization: false}\n"
          + "modules:\n"
          + "  cloudHub: {advertiseAddress: [127.0.0.1]}\n"
          + "  dynamicController: {enable: false}\n";

  @Test
  void readsTheConfigMapAsCloudcoreAndReportsEdits(
      ControlPlane plane, KubernetesClient admin, @TempDir Path dir) {
    Path kc =
        KedgeManifests.cloudcoreKubeconfig(plane, home(), dir.resolve("cloudcore.kubeconfig"));
    var cms = admin.configMaps().inNamespace("kubeedge");
    cms.resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("cloudcore")
                .withNamespace("kubeedge")
                .endMetadata()
                .withData(Map.of("cloudcore.yaml", YAML))
                .build())
        .create();
    try (ConfigMapConfig source = ConfigMapConfig.open(kc, "kubeedge/cloudcore")) {
      var loaded = source.load(List.of("modules.cloudHub.websocket.port=20000"));
      assertThat(loaded.config().requireAuthorization()).isFalse();
      assertThat(loaded.config().modules().cloudHub().advertiseAddress())
          .containsExactly("127.0.0.1");
      assertThat(loaded.config().modules().cloudHub().websocket().port()).isEqualTo(20000);
      // In-cluster in the ConfigMap; outside the cluster cloudcore keeps its own credentials.
      assertThat(loaded.config().kubeAPIConfig().kubeConfig())
          .isEqualTo(kc.toAbsolutePath().toString());

      List<String> changes = new CopyOnWriteArrayList<>();
      source.onChange(changes::add);
      cms.withName("cloudcore")
          .edit(
              c -> {
                c.getMetadata().setLabels(Map.of("touched", "yes"));
                return c;
              });
      cms.withName("cloudcore")
          .edit(
              c -> {
                c.getData()
                    .put(
                        "cloudcore.yaml",
                        YAML.replace("requireAuthorization: false", "requireAuthorization: true"));
                return c;
              });
      Waits.until("the edit is reported", Duration.ofSeconds(30), () -> !changes.isEmpty());
      assertThat(changes)
          .singleElement()
          .asString()
          .contains("ConfigMap kubeedge/cloudcore changed");
      assertThat(source.load(List.of()).config().requireAuthorization()).isTrue();
    } finally {
      cms.withName("cloudcore").delete();
    }
  }

  @Test
  void aMissingConfigMapIsAClearError(ControlPlane plane, @TempDir Path dir) {
    Path kc =
        KedgeManifests.cloudcoreKubeconfig(plane, home(), dir.resolve("cloudcore.kubeconfig"));
    try (ConfigMapConfig source = ConfigMapConfig.open(kc, "kubeedge/cloudcore")) {
      assertThatThrownBy(() -> source.load(List.of()))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("ConfigMap kubeedge/cloudcore does not exist");
    }
    assertThatThrownBy(() -> ConfigMapConfig.open(kc, "cloudcore"))
        .hasMessageContaining("NAMESPACE/NAME");
  }

  static Path home() {
    return Path.of(System.getProperty("kedge.home"));
  }
}
