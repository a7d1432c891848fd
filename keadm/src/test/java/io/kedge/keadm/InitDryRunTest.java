package io.kedge.keadm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@code keadm init --dry-run} with the flags of KubeEdge's page, including its space-separated
 * --set.
 */
class InitDryRunTest {

  @Test
  void thePagesCommandWorksAsWritten() {
    KeadmRun r =
        KeadmRun.run(
            "init",
            "--advertise-address=10.20.30.40",
            "--kubeedge-version=v1.17.0",
            "--set",
            "cloudCore.modules.dynamicController.enable=true",
            "cloudCore.featureGates.requireAuthorization=true",
            "--dry-run");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err())
        .contains(
            "'cloudCore.featureGates.requireAuthorization=true' follows --set without a comma");
    assertThat(r.out())
        .contains("kind: \"ConfigMap\"")
        .contains("cloudcore.yaml")
        .contains("requireAuthorization: true")
        .contains("kedge.io/kubeedge-version: \"v1.17.0\"")
        .contains("10.20.30.40")
        .contains("--config-from-configmap kubeedge/cloudcore");
    assertThat(r.out()).contains("name: \"cloudcore\"");
  }

  @Test
  void withoutTheGateTheFeatureRoleIsLeftOut() {
    KeadmRun r = KeadmRun.run("init", "--advertise-address=10.20.30.40", "--dry-run");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .doesNotContain("name: \"cloudcore-feature\"")
        .contains("requireAuthorization: false");
  }
}
