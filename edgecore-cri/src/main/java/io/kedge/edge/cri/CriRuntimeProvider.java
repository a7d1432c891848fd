package io.kedge.edge.cri;

import io.kedge.edge.edged.PodRuntime;
import io.kedge.edge.edged.PodRuntimeProvider;
import io.kedge.protocol.config.EdgeCoreConfig;
import java.time.Clock;
import java.time.Duration;

/** {@code modules.edged.runtime: cri}: containerd at {@code containerRuntimeEndpoint}. */
public final class CriRuntimeProvider implements PodRuntimeProvider {
  @Override
  public String name() {
    return "cri";
  }

  @Override
  public PodRuntime create(EdgeCoreConfig config, Clock clock) throws PodRuntime.RuntimeFailure {
    return new CriRuntime(
        config.modules().edged().containerRuntimeEndpoint(), Duration.ofSeconds(30), clock);
  }
}
