package io.kedge.keadm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class LocalCloudSettingsTest {

  @Test
  void theAddedCloudcoreKeepsItsAddressesAndCloudHubSettings() {
    assertThat(
            LocalCloudSettings.of(
                List.of(
                    "cloudCore.modules.cloudHub.websocket.port=10010,"
                        + "cloudCore.modules.cloudHub.https.port=10012"),
                List.of("10.0.0.2")))
        .containsExactly(
            "modules.cloudHub.advertiseAddress={10.0.0.2}",
            "modules.cloudHub.websocket.port=10010",
            "modules.cloudHub.https.port=10012");
  }

  @Test
  void aSettingAllCloudcoresShareIsAUsageErrorPointingAtTheConfigMap() {
    assertThatThrownBy(
            () ->
                LocalCloudSettings.of(
                    List.of("cloudCore.modules.dynamicController.enable=true"),
                    List.of("10.0.0.2")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("kubectl edit cm cloudcore -n kubeedge")
        .hasMessageContaining("cloudCore.modules.cloudHub.*");
  }
}
