package io.kedge.edge.edged;

import io.kedge.protocol.config.EdgeCoreConfig;
import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Picks the runtime {@code modules.edged.runtime} names. */
public final class PodRuntimes {
  /**
   * Jars of further runtimes (path-separated), set by {@code bin/edgecore}. They are opened only
   * when such a runtime is chosen: on the class path, the CRI runtime's jar index alone would take
   * about 1 MB of every edge's heap, used or not.
   */
  public static final String RUNTIME_JARS = "kedge.edgecore.runtimeJars";

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
    for (PodRuntimeProvider p : ServiceLoader.load(PodRuntimeProvider.class, runtimeLoader())) {
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
                ? " (the cri runtime needs the edgecore-cri module's jar: system property "
                    + RUNTIME_JARS
                    + " or the class path)"
                : ""));
  }

  private static ClassLoader runtimeLoader() throws PodRuntime.RuntimeFailure {
    ClassLoader own = PodRuntimes.class.getClassLoader();
    String jars = System.getProperty(RUNTIME_JARS, "");
    if (jars.isBlank()) {
      return own;
    }
    List<URL> urls = new ArrayList<>();
    for (String j : jars.split(File.pathSeparator)) {
      if (j.isBlank()) {
        continue;
      }
      Path p = Path.of(j);
      if (!Files.isRegularFile(p)) {
        throw new PodRuntime.RuntimeFailure(
            "RuntimeUnavailable", RUNTIME_JARS + " names " + p + ", which is not a file");
      }
      try {
        urls.add(p.toUri().toURL());
      } catch (MalformedURLException e) {
        throw new PodRuntime.RuntimeFailure("RuntimeUnavailable", "bad runtime jar " + p);
      }
    }
    return new URLClassLoader(urls.toArray(URL[]::new), own);
  }
}
