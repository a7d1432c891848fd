package io.kedge.keadm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Optional;
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
    assertThatThrownBy(
            () ->
                LocalCloudSettings.of(
                    List.of("cloudCore.highAvailability.leaseDuration=30"), List.of("10.0.0.2")))
        .as("lease timings are the cluster's")
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void streamPortsMonitorAndNameAreTheAddedCloudcoresOwn() {
    assertThat(
            LocalCloudSettings.of(
                List.of(
                    "cloudCore.modules.cloudStream.tunnelPort=10014,"
                        + "cloudCore.modules.cloudStream.streamPort=10013,"
                        + "cloudCore.commonConfig.monitorServer.bindAddress=127.0.0.1:9095,"
                        + "cloudCore.highAvailability.name=cc-2"),
                List.of("10.0.0.2")))
        .containsExactly(
            "modules.cloudHub.advertiseAddress={10.0.0.2}",
            "modules.cloudStream.tunnelPort=10014",
            "modules.cloudStream.streamPort=10013",
            "commonConfig.monitorServer.bindAddress=127.0.0.1:9095",
            "highAvailability.name=cc-2");
  }

  @Test
  void aMonitorPortTakenOnThisMachineMovesToTheNextFreeOne() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      String bind = "127.0.0.1:" + taken.getLocalPort();
      Optional<String> moved =
          LocalCloudSettings.monitorFor(List.of(), bind, LocalCloudSettings::bindable);
      assertThat(moved).isPresent();
      int port = Integer.parseInt(moved.get().substring(moved.get().lastIndexOf(':') + 1));
      assertThat(port).isGreaterThan(taken.getLocalPort()).isNotEqualTo(9092);
      assertThat(moved.get()).startsWith("127.0.0.1:");
      // the operator's own choice stands; a free address is kept
      assertThat(
              LocalCloudSettings.monitorFor(
                  List.of("commonConfig.monitorServer.bindAddress=127.0.0.1:9999"),
                  bind,
                  LocalCloudSettings::bindable))
          .isEmpty();
      assertThat(LocalCloudSettings.monitorFor(List.of(), "", a -> false)).isEmpty();
    }
    assertThat(LocalCloudSettings.monitorFor(List.of(), "127.0.0.1:9091", a -> true)).isEmpty();
    assertThat(LocalCloudSettings.monitorFor(List.of(), "127.0.0.1:9091", a -> a.getPort() > 9092))
        .as("edgecore's default port is skipped")
        .hasValue("127.0.0.1:9093");
  }
}
