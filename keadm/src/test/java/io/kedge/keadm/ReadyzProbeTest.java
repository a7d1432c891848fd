package io.kedge.keadm;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.monitor.HealthChecks;
import io.kedge.monitor.MonitorServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ReadyzProbeTest {

  @Test
  void aNotReadyProcessIsReportedByTheNamesOfItsFailingChecks() {
    AtomicReference<String> cert = new AtomicReference<>("no serving certificate issued yet");
    HealthChecks checks =
        new HealthChecks().add("store-open", () -> null).add("metaserver-certificate", cert::get);
    try (MonitorServer m = new MonitorServer("edgecore", new PrometheusRegistry(), checks)) {
      InetSocketAddress a = m.start("127.0.0.1:0");
      ReadyzProbe probe = new ReadyzProbe("edgecore", "0.0.0.0:" + a.getPort());
      assertThat(probe.url()).isEqualTo("http://127.0.0.1:" + a.getPort() + "/readyz?verbose");

      ReadyzProbe.Answer notReady = probe.await(Duration.ofMillis(600));
      assertThat(notReady.ready()).isFalse();
      assertThat(notReady.failed()).containsOnlyKeys("metaserver-certificate");
      assertThat(notReady.describe())
          .isEqualTo("check metaserver-certificate failed: no serving certificate issued yet");

      cert.set(null);
      assertThat(probe.ask().ready()).isTrue();
    }
  }

  @Test
  void nothingListeningIsSaidPlainly() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    ReadyzProbe.Answer a = new ReadyzProbe("cloudcore", "127.0.0.1:" + port).ask();
    assertThat(a.ready()).isFalse();
    assertThat(a.describe()).startsWith("cloudcore does not answer on http://127.0.0.1:" + port);
  }
}
