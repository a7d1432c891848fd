package io.kedge.protocol.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

class CloudAddressesTest {

  @Test
  void oneAddressAsKubeEdgeWritesIt() {
    assertThat(CloudAddresses.servers("192.168.1.10:10000", "k"))
        .containsExactly(new CloudAddresses.HostPort("192.168.1.10", 10000));
  }

  @Test
  void severalAddressesCommaSeparatedDuplicatesOnceBlanksIgnored() {
    List<CloudAddresses.HostPort> s =
        CloudAddresses.servers(
            " a.example:10000, [fd00::1]:10010,,a.example:10000, 10.0.0.2:1 ,", "k");
    assertThat(s)
        .containsExactly(
            new CloudAddresses.HostPort("a.example", 10000),
            new CloudAddresses.HostPort("fd00::1", 10010),
            new CloudAddresses.HostPort("10.0.0.2", 1));
    assertThat(CloudAddresses.format(s)).isEqualTo("a.example:10000,[fd00::1]:10010,10.0.0.2:1");
  }

  @Test
  void badEntriesNameTheSetting() {
    assertThatThrownBy(() -> CloudAddresses.servers("a:1,b", "modules.edgeHub.websocket.server"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("modules.edgeHub.websocket.server")
        .hasMessageContaining("'b'");
    assertThatThrownBy(() -> CloudAddresses.servers("fd00::1:10000", "k"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("brackets");
    assertThatThrownBy(() -> CloudAddresses.servers("a:70000", "k"))
        .isInstanceOf(ConfigException.class);
    assertThatThrownBy(() -> CloudAddresses.servers("a:x", "k"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("no port");
  }

  @Test
  void certificateServersTakeHttpsOnly() {
    assertThat(CloudAddresses.httpsServers("https://a:10002,b:10012", "k"))
        .containsExactly(URI.create("https://a:10002"), URI.create("https://b:10012"));
    assertThat(CloudAddresses.httpsServers("", "k")).isEmpty();
    assertThatThrownBy(() -> CloudAddresses.httpsServers("http://a:10002", "k"))
        .isInstanceOf(ConfigException.class);
  }
}
