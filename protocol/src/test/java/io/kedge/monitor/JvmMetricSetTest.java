package io.kedge.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class JvmMetricSetTest {
  private static final Pattern ALLOCATED =
      Pattern.compile("(?m)^jvm_memory_allocated_bytes_total (\\S+)$");

  static volatile byte[] sink;

  @Test
  void servesTheJvmSetWithAllocationReadWhenScraped() throws Exception {
    PrometheusRegistry registry = new PrometheusRegistry();
    JvmMetricSet.register(registry);
    String first = scrape(registry);
    assertThat(first)
        .contains("jvm_memory_used_bytes")
        .contains("jvm_gc_collection_seconds")
        .contains("jvm_threads_current")
        .contains("jvm_classes_currently_loaded")
        .contains("process_cpu_seconds_total")
        // the per-pool counter listens to every collection: not served
        .doesNotContain("jvm_memory_pool_allocated_bytes");
    double before = allocated(first);
    for (int i = 0; i < 1000; i++) {
      sink = new byte[1024];
    }
    double after = allocated(scrape(registry));
    assertThat(after - before).isGreaterThanOrEqualTo(1000 * 1024);
  }

  @Test
  void theNativeMemorySetOnlyWhenTheJvmTracksNativeMemory() throws Exception {
    assertThat(JvmMetricSet.nativeMemoryTracked(List.of("-Xmx48m"))).isFalse();
    assertThat(JvmMetricSet.nativeMemoryTracked(List.of("-XX:NativeMemoryTracking=off"))).isFalse();
    assertThat(
            JvmMetricSet.nativeMemoryTracked(
                List.of("-Xms8m", "-XX:NativeMemoryTracking=summary", "-Xss512k")))
        .isTrue();
    // This JVM does not track native memory: the set (and the MBean server it needs) is left out.
    PrometheusRegistry registry = new PrometheusRegistry();
    JvmMetricSet.register(registry);
    assertThat(scrape(registry)).doesNotContain("jvm_native_memory");
  }

  private static double allocated(String scrape) {
    Matcher m = ALLOCATED.matcher(scrape);
    assertThat(m.find()).as("jvm_memory_allocated_bytes_total in\n" + scrape).isTrue();
    return Double.parseDouble(m.group(1));
  }

  private static String scrape(PrometheusRegistry registry) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape());
    return out.toString(StandardCharsets.UTF_8);
  }
}
