package io.kedge.monitor;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.instrumentation.jvm.JvmBufferPoolMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmClassLoadingMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmCompilationMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmGarbageCollectorMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmNativeMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmRuntimeInfoMetric;
import io.prometheus.metrics.instrumentation.jvm.JvmThreadsMetrics;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * The JVM's own metrics as cloudcore and edgecore serve them: the Prometheus client's JVM set,
 * everything in it read when scraped. Its per-pool allocation counter ({@code
 * jvm_memory_pool_allocated_bytes_total}) is left out: it listens to every garbage collection and
 * builds the collection's memory report each time, which with the small young generation of the
 * launchers' flags (a collection every few milliseconds under load) took CPU from the requests;
 * {@code jvm_memory_allocated_bytes_total} (all threads, read from the JVM when scraped) stands in
 * for it. The native-memory set ({@code jvm_native_memory_*}) is served only when the JVM tracks
 * native memory.
 */
public final class JvmMetricSet {
  private JvmMetricSet() {}

  public static void register(PrometheusRegistry registry) {
    JvmThreadsMetrics.builder().register(registry);
    JvmBufferPoolMetrics.builder().register(registry);
    JvmClassLoadingMetrics.builder().register(registry);
    JvmCompilationMetrics.builder().register(registry);
    JvmGarbageCollectorMetrics.builder().register(registry);
    JvmMemoryMetrics.builder().register(registry);
    if (nativeMemoryTracked(ManagementFactory.getRuntimeMXBean().getInputArguments())) {
      JvmNativeMemoryMetrics.builder().register(registry);
    }
    JvmRuntimeInfoMetric.builder().register(registry);
    ProcessMetrics.builder().register(registry);
    if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean threads
        && threads.isThreadAllocatedMemorySupported()
        && threads.isThreadAllocatedMemoryEnabled()) {
      CounterWithCallback.builder()
          .name("jvm_memory_allocated_bytes_total")
          .help("Bytes allocated in the heap by all threads since the JVM started (approximate)")
          .unit(Unit.BYTES)
          .callback(cb -> cb.call(threads.getTotalThreadAllocatedBytes()))
          .register(registry);
    }
  }

  /**
   * Whether the JVM runs with native memory tracking ({@code -XX:NativeMemoryTracking=summary} or
   * {@code detail}), the only case in which the client library's native-memory set reports
   * anything. Asked before registering it: the set asks the JVM through the platform MBean server,
   * and starting that server loads ~130 JMX classes that would stay resident in every process for
   * metrics it would not serve.
   */
  static boolean nativeMemoryTracked(List<String> jvmArguments) {
    for (String a : jvmArguments) {
      if (a.startsWith("-XX:NativeMemoryTracking=")) {
        return !a.endsWith("=off");
      }
    }
    return false;
  }
}
