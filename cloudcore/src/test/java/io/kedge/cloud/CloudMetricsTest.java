package io.kedge.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CloudMetricsTest {

  private static Message msg(String source, String op, String resource) {
    return new Message(
        MessageHeader.create(), new MessageRoute(source, "resource", op, resource), Json.object());
  }

  private static String scrape(CloudMetrics m) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, m.registry().scrape());
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void messagesAreCountedByBoundedTypeAndOperation() throws Exception {
    CloudMetrics m = CloudMetrics.detached();
    m.received(msg("edged", "update", "default/podstatus/p1"));
    m.received(msg("edged", "update", "default/podstatus/p2"));
    m.received(msg("edged", "update", "default/widget/w"));
    m.received(msg("edged", "frobnicate", "default/pod/p"));
    m.sent(msg("edgecontroller", "insert", "default/configmap/c"));

    String text = scrape(m);
    assertThat(text)
        .contains(
            "kedge_cloudhub_messages_received_total{operation=\"update\",type=\"podstatus\"} 2.0")
        .contains("kedge_cloudhub_messages_received_total{operation=\"update\",type=\"other\"} 1.0")
        .contains("kedge_cloudhub_messages_received_total{operation=\"other\",type=\"pod\"} 1.0")
        .contains(
            "kedge_cloudhub_messages_sent_total{operation=\"insert\",type=\"configmap\"} 1.0");
  }

  @Test
  void dynamicControllerRequestsCarryVerbCodeAndIdentityWithTheirDuration() throws Exception {
    CloudMetrics m = CloudMetrics.detached();
    long start = System.nanoTime();
    m.dynamicRequest("get", 200, "pod", start);
    m.dynamicRequest("get", 403, "pod", start);
    m.dynamicRequest("connect", 200, "node", start);
    m.csrDecided(false, "usages");
    m.edgeConnected(false);
    m.edgeConnected(true);

    String text = scrape(m);
    assertThat(text)
        .contains(
            "kedge_dynamiccontroller_requests_total{code=\"403\",identity=\"pod\",verb=\"get\"} 1.0")
        .contains(
            "kedge_dynamiccontroller_requests_total{code=\"200\",identity=\"node\",verb=\"other\"}"
                + " 1.0")
        .contains(
            "kedge_dynamiccontroller_request_duration_seconds_count{identity=\"pod\",verb=\"get\"}"
                + " 2")
        .contains("kedge_csr_decisions_total{decision=\"denied\",reason=\"usages\"} 1.0")
        .contains("kedge_cloudhub_edge_connections_total 2.0")
        .contains("kedge_cloudhub_edge_reconnects_total 1.0");
  }

  @Test
  void theServedRegistryCarriesTheJvmsOwnMetrics() throws Exception {
    assertThat(scrape(CloudMetrics.create()))
        .contains("jvm_memory_used_bytes")
        .contains("kedge_cloudhub_connected_edges 0");
    assertThat(scrape(CloudMetrics.detached())).doesNotContain("jvm_memory_used_bytes");
  }
}
