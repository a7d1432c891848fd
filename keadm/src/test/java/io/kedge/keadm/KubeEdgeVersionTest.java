package io.kedge.keadm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class KubeEdgeVersionTest {
  @Test
  void parsesWithAndWithoutV() {
    assertThat(KubeEdgeVersion.parse("v1.17.0")).isEqualTo(new KubeEdgeVersion(1, 17, 0));
    assertThat(KubeEdgeVersion.parse("1.23.1").toString()).isEqualTo("v1.23.1");
  }

  @Test
  void rejectsOtherForms() {
    assertThatThrownBy(() -> KubeEdgeVersion.parse("latest")).hasMessageContaining("v1.17.0");
    assertThatThrownBy(() -> KubeEdgeVersion.parse("v1.17"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> KubeEdgeVersion.parse("v2.1.0")).hasMessageContaining("1.x");
    assertThatThrownBy(() -> KubeEdgeVersion.parse("v1.16.3")).hasMessageContaining("predates");
  }

  @Test
  void protocolLevelFollowsTheRelease() {
    assertThat(KubeEdgeVersion.parse("v1.17.0").clusterScopeToken()).isEqualTo("default");
    assertThat(KubeEdgeVersion.parse("v1.23.0").clusterScopeToken()).isEqualTo("null");
    assertThat(KubeEdgeVersion.parse("v1.17.0").discoveryPassThrough()).isFalse();
    assertThat(KubeEdgeVersion.parse("v1.18.0").discoveryPassThrough()).isTrue();
  }
}
