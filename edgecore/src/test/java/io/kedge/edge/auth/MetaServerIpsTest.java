package io.kedge.edge.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.config.EdgeCoreConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetaServerIpsTest {

  private static EdgeCoreConfig.MetaServerConfig listening(String server, String dummy) {
    return new EdgeCoreConfig.MetaServerConfig(
        true, server, null, null, null, List.of(), List.of(), List.of(), dummy, 0, 0, 0, null);
  }

  @Test
  void theListenAddressesAreTheSans() {
    assertThat(EdgeAuth.metaServerIps(listening("127.0.0.1:10550", "169.254.30.10:10550")))
        .containsExactly("127.0.0.1", "169.254.30.10");
  }

  @Test
  void listeningEverywhereAsksForLoopbackNotTheUnspecifiedAddress() {
    // The cloud denies a SAN it cannot place; 0.0.0.0 is one no client dials.
    assertThat(EdgeAuth.metaServerIps(listening("0.0.0.0:10550", "169.254.30.10:10550")))
        .containsExactly("127.0.0.1", "169.254.30.10");
    assertThat(EdgeAuth.metaServerIps(listening("[::]:10550", "169.254.30.10:10550")))
        .containsExactly("::1", "169.254.30.10");
  }

  @Test
  void defaultsWhenUnset() {
    assertThat(EdgeAuth.metaServerIps(listening(null, null)))
        .containsExactly("127.0.0.1", "169.254.30.10");
  }
}
