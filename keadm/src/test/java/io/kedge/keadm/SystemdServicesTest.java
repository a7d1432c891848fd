package io.kedge.keadm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SystemdServicesTest {
  @Test
  void edgecoreUnitRunsEdgecoreWithItsConfigAndRestartsIt() {
    KeadmEnvironment env = SupervisedServicesTest.env();
    ServiceSpec spec = ServiceSpec.edgecore(env, InstallLayout.of(null));
    String unit = SystemdServices.unit(spec, Path.of("/opt/kedge"));
    assertThat(unit)
        .contains("[Service]")
        .contains(
            "ExecStart=" + env.bin("edgecore") + " --config /etc/kubeedge/config/edgecore.yaml")
        .contains("Restart=always")
        .contains("Environment=\"KEDGE_HOME=/opt/kedge\"")
        .contains("WantedBy=multi-user.target");
  }

  @Test
  void systemdIsUsedOnlyForSystemPathsWhereSystemdRuns() {
    KeadmEnvironment env = SupervisedServicesTest.env();
    assertThat(ServiceManager.choose(env, InstallLayout.of(null)))
        .isInstanceOf(SupervisedServices.class);
    assertThat(ServiceManager.choose(env.withSystemd(true), InstallLayout.of(null)))
        .isInstanceOf(SystemdServices.class);
    assertThat(ServiceManager.choose(env.withSystemd(true), InstallLayout.of(Path.of("/tmp/x"))))
        .isInstanceOf(SupervisedServices.class);
  }

  @Test
  void cloudcoreReadsTheConfigMapWithItsOwnCredentials() {
    KeadmEnvironment env = SupervisedServicesTest.env();
    ServiceSpec spec = ServiceSpec.cloudcore(env, InstallLayout.of(Path.of("/tmp/c")));
    assertThat(spec.command())
        .containsSubsequence(
            "--kubeconfig",
            "/tmp/c/etc/kubeedge/config/cloudcore.kubeconfig",
            "--config-from-configmap",
            "kubeedge/cloudcore");
    assertThat(spec.pidFile()).isEqualTo(Path.of("/tmp/c/var/run/kubeedge/cloudcore.pid"));
    assertThat(spec.log()).isEqualTo(Path.of("/tmp/c/var/log/kubeedge/cloudcore.log"));
  }
}
