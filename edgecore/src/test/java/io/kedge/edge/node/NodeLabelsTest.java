package io.kedge.edge.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code edged.nodeLabels} (keadm join --labels) reach the registered Node. */
class NodeLabelsTest {
  @Test
  void configuredLabelsAreRegisteredAndTheKubeletsOwnWin(@TempDir Path dir) {
    NodeStatusReport r =
        new NodeStatusReport(
            "edge-1",
            NodeFacts.probe(110, "process", dir),
            Instant.now(),
            Map.of(),
            Map.of("zone", "shop-7", "kubernetes.io/hostname", "spoofed"));
    var labels = r.node("10.0.0.1", Instant.now()).path("metadata").path("labels");
    assertThat(labels.path("zone").asString()).isEqualTo("shop-7");
    assertThat(labels.path("kubernetes.io/hostname").asString()).isEqualTo("edge-1");
    assertThat(labels.has("node-role.kubernetes.io/edge")).isTrue();
  }
}
