package io.kedge.edge.edged;

import io.kedge.protocol.config.EdgeCoreConfig;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A pod runtime for tests of a whole edgecore ({@code modules.edged.runtime: test-running}):
 * containers start and keep running, and nothing is executed. Edged around it does all it does for
 * a real pod (volumes, ConfigMaps, tokens, status).
 */
public final class RunningPodsRuntime implements PodRuntime {
  private final Map<String, ContainerState> states = new ConcurrentHashMap<>();
  private final AtomicInteger ids = new AtomicInteger();

  /** Found by {@link PodRuntimes} through {@link java.util.ServiceLoader}. */
  public static final class Provider implements PodRuntimeProvider {
    @Override
    public String name() {
      return "test-running";
    }

    @Override
    public PodRuntime create(EdgeCoreConfig config, Clock clock) {
      return new RunningPodsRuntime();
    }
  }

  @Override
  public String name() {
    return "test-running";
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
    String id = "c" + ids.incrementAndGet();
    Instant now = Instant.now();
    states.put(id, new ContainerState(id, ContainerState.Phase.RUNNING, now, now, null, 0, "", ""));
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
