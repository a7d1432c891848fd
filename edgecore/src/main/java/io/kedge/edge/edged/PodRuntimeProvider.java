package io.kedge.edge.edged;

import io.kedge.protocol.config.EdgeCoreConfig;
import java.time.Clock;

/**
 * A pod runtime in an optional module (e.g. {@code edgecore-cri}), found through {@link
 * java.util.ServiceLoader} when {@code modules.edged.runtime} names it, so that the default edge
 * carries none of its dependencies.
 */
public interface PodRuntimeProvider {
  /** The value of {@code modules.edged.runtime} that selects this runtime. */
  String name();

  PodRuntime create(EdgeCoreConfig config, Clock clock) throws PodRuntime.RuntimeFailure;
}
