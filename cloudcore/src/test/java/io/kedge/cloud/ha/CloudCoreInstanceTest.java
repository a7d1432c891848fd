package io.kedge.cloud.ha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.protocol.config.CloudCoreConfig;
import org.junit.jupiter.api.Test;

class CloudCoreInstanceTest {

  @Test
  void theNameIsTheHostAndPortInLeaseCharactersAndEachRunHasItsOwnId() {
    assertThat(CloudCoreInstance.defaultName("Cloud_1.example.com", "10000"))
        .isEqualTo("cloud-1-10000");
    assertThat(CloudCoreInstance.defaultName("-", "10000")).isEqualTo("cloudcore-10000");
    String longHost = "a".repeat(80);
    assertThat(CloudCoreInstance.defaultName(longHost, "10000"))
        .hasSize(CloudCoreInstance.MAX_NAME);

    var ha = new CloudCoreConfig.HighAvailability("cc-a", 15, 10, 2);
    CloudCoreInstance one = CloudCoreInstance.of(ha, 10000);
    CloudCoreInstance two = CloudCoreInstance.of(ha, 10000);
    assertThat(one.name()).isEqualTo("cc-a").isEqualTo(two.name());
    assertThat(one.id()).startsWith("cc-a_").isNotEqualTo(two.id());
    assertThat(CloudCoreInstance.nameOf(one.id())).isEqualTo("cc-a");
    assertThat(CloudCoreInstance.nameOf("no-underscore")).isNull();
  }

  @Test
  void timersMustLetALeaderStopBeforeAnotherMayStart() {
    assertThatThrownBy(() -> new CloudCoreConfig.HighAvailability("", 10, 10, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("renewDeadline < leaseDuration");
    assertThatThrownBy(() -> new CloudCoreConfig.HighAvailability("Bad_Name", 15, 10, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("highAvailability.name");
  }
}
