package io.kedge.edge.edged;

import io.kedge.protocol.config.EdgeCoreConfig;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ServiceLoader;

/** Picks the runtime {@code modules.edged.runtime} names. */
public final class PodRuntimes {
  private PodRuntimes() {}

  public static PodRuntime create(EdgeCoreConfig config, Clock clock)
      throws PodRuntime.RuntimeFailure {
    String name = config.modules().edged().runtime();
    if (name == null || name.isEmpty() || name.equals("process")) {
      var why = ProcessRuntime.unavailableReason();
      if (why.isPresent()) {
        throw new PodRuntime.RuntimeFailure("RuntimeUnavailable", why.get());
      }
      return new ProcessRuntime(Path.of(config.modules().edged().rootDirectory()), clock);
    }
    for (PodRuntimeProvider p : ServiceLoader.load(PodRuntimeProvider.class)) {
      if (p.name().equals(name)) {
        return p.create(config, clock);
      }
    }
    throw new PodRuntime.RuntimeFailure(
        "RuntimeUnavailable",
        "modules.edged.runtime is '"
            + name
            + "' but no such runtime is installed"
            + (name.equals("cri")
                ? " (the cri runtime needs the edgecore-cri module on the class path)"
                : ""));
  }
}
