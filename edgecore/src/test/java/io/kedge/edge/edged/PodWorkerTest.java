package io.kedge.edge.edged;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.testkit.Prerequisites;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PodWorker's scheduling, with a fake runtime. */
class PodWorkerTest {
  @TempDir Path tmp;
  final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  final EdgedTest.FakeObjects objects = new EdgedTest.FakeObjects();
  final EdgedTest.RecordingSink sink = new EdgedTest.RecordingSink();
  final FakeRuntime runtime = new FakeRuntime();
  final PodEvents events = new PodEvents(sink, "edge-1", Clock.systemUTC());

  @AfterEach
  void stop() throws InterruptedException {
    timer.shutdownNow();
    timer.awaitTermination(10, TimeUnit.SECONDS);
  }

  /**
   * Syncs run on the thread that asks for them, so the timer's own wake-up task is still running
   * (not done) while the sync it started schedules the next one: that next wake-up must not be
   * dropped in favour of the one that is firing.
   */
  @Test
  void aWakeUpScheduledWhileTheTimerFiresIsNotLost() throws Exception {
    Prerequisites.require(
        Files.getAttribute(tmp, "unix:uid").equals(0), "root (pod directories are owned by root)");
    objects.configMaps.put(
        "ns1/kube-root-ca.crt", EdgedTest.cm("kube-root-ca.crt", Map.of("ca.crt", "---CA---")));
    objects.configMaps.put("ns1/cfg", EdgedTest.cm("cfg", Map.of("other", "x")));
    PodWorker worker =
        new PodWorker(
            new PodWorker.Context(
                settings(),
                runtime,
                objects,
                new EdgedTest.FakeTokens(),
                sink,
                Clock.systemUTC(),
                new InlineExecutor(),
                timer,
                new PodWorker.ContainerIndex() {
                  @Override
                  public void started(String containerId, PodWorker w) {}

                  @Override
                  public void gone(PodWorker w) {}
                },
                events,
                new ImagePulls(runtime, List::of, settings().backoff(), events, Clock.systemUTC()),
                new Prober(runtime),
                new PodCgroups(Optional.empty(), "edge-1", 0)),
            EdgedTest.pod(
                "late",
                "containers:\n- name: c\n  image: x\n  command: [/bin/true]\n  env:\n"
                    + "  - {name: X, valueFrom: {configMapKeyRef: {name: cfg, key: k}}}\n"));
    worker.requestSync();
    assertThat(runtime.started).isEmpty();
    // Let a few timer-driven retries pass while the key is still missing.
    Thread.sleep(300);
    assertThat(runtime.started).isEmpty();
    objects.configMaps.put("ns1/cfg", EdgedTest.cm("cfg", Map.of("k", "v")));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (runtime.started.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(runtime.started).as("the container starts on a later timer-driven retry").hasSize(1);
  }

  EdgedSettings settings() {
    return new EdgedSettings(
        new NodeInfo(
            "edge-1",
            "10.1.2.3",
            BigDecimal.valueOf(4),
            BigDecimal.valueOf(8L << 30),
            BigDecimal.valueOf(100L << 30)),
        tmp.resolve("pods"),
        Optional.empty(),
        new RestartBackoff(Duration.ofMillis(20), Duration.ofMillis(40), Duration.ofMinutes(10)),
        Duration.ofSeconds(60),
        Duration.ofMillis(20),
        Duration.ofSeconds(5),
        4096,
        Duration.ofSeconds(10),
        EdgedSettings.NOBODY);
  }

  /** Runs each task on the calling thread. */
  static final class InlineExecutor extends AbstractExecutorService {
    private volatile boolean shutdown;

    @Override
    public void execute(Runnable command) {
      command.run();
    }

    @Override
    public void shutdown() {
      shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
      shutdown = true;
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return shutdown;
    }

    @Override
    public boolean isTerminated() {
      return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return true;
    }
  }

  /** Containers that start and keep running. */
  static class FakeRuntime implements PodRuntime {
    final List<String> started = new CopyOnWriteArrayList<>();
    final Map<String, ContainerState> states = new ConcurrentHashMap<>();

    @Override
    public String name() {
      return "fake";
    }

    @Override
    public LogFormat logFormat() {
      return LogFormat.PLAIN;
    }

    @Override
    public String runSandbox(SandboxConfig sandbox) {
      return sandbox.uid();
    }

    @Override
    public String startContainer(String sandboxId, SandboxConfig sandbox, ContainerConfig c) {
      String id = "c" + (started.size() + 1);
      Instant now = Instant.now();
      states.put(
          id, new ContainerState(id, ContainerState.Phase.RUNNING, now, now, null, 0, "", ""));
      started.add(id);
      return id;
    }

    @Override
    public Optional<ContainerState> containerState(String containerId) {
      return Optional.ofNullable(states.get(containerId));
    }

    @Override
    public void stopContainer(String containerId, Duration grace) {}

    @Override
    public void removeContainer(String containerId) {
      states.remove(containerId);
    }

    @Override
    public void removeSandbox(String sandboxId, Duration grace) {}

    @Override
    public void rotateLog(String containerId, Path log, Path rotatedTo) {}

    @Override
    public void setListener(ContainerListener listener) {}

    @Override
    public void close() {}
  }
}
