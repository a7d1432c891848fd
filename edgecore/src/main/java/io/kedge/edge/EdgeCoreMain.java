package io.kedge.edge;

import io.kedge.protocol.config.ConfigException;
import io.kedge.protocol.config.ConfigLoader;
import io.kedge.protocol.config.EdgeCoreConfig;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Entry point of {@code bin/edgecore}. */
@Command(
    name = "edgecore",
    sortOptions = false,
    description = "Kedge edgecore: connects this node to cloudcore and serves its pods.")
public final class EdgeCoreMain implements Callable<Integer> {
  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "edgecore.yaml to use (default: ${DEFAULT-VALUE})")
  Path config = EdgeCoreConfig.DEFAULT_FILE;

  @Option(names = "--defaultconfig", description = "print the default configuration and exit")
  boolean defaultConfig;

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "show this help and exit")
  boolean help;

  private PrintStream out = System.out;
  private PrintStream err = System.err;

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs edgecore; returns the exit code (0, 1 for errors, 2 for bad usage). */
  static int run(String[] args, PrintStream out, PrintStream err) {
    EdgeCoreMain main = new EdgeCoreMain();
    main.out = out;
    main.err = err;
    CommandLine cl = new CommandLine(main);
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    cl.setParameterExceptionHandler(
        (e, a) -> {
          err.println("edgecore: " + e.getMessage() + " (see edgecore --help)");
          return 2;
        });
    return cl.execute(args);
  }

  @Override
  public Integer call() {
    if (defaultConfig) {
      out.print(ConfigLoader.defaultsText(EdgeCoreConfig.DEFAULTS));
      out.flush();
      return 0;
    }
    EdgeCoreConfig cfg;
    try {
      ConfigLoader.Loaded<EdgeCoreConfig> loaded = EdgeCoreConfig.load(config, List.of());
      cfg = loaded.config();
      Logger log = LoggerFactory.getLogger(EdgeCoreMain.class);
      loaded.warnings().forEach(w -> log.warn("{}: {}", config, w));
    } catch (ConfigException e) {
      err.println("edgecore: " + e.getMessage());
      return 1;
    }
    EdgeCore core;
    try {
      core = new EdgeCore(cfg);
    } catch (IllegalArgumentException
        | IllegalStateException
        | io.kedge.edge.hub.BootstrapException
        | io.kedge.edge.store.StoreException e) {
      err.println("edgecore: " + e.getMessage());
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  LoggerFactory.getLogger(EdgeCoreMain.class).info("edgecore stopping");
                  core.close();
                  stopped.countDown();
                },
                "edgecore-shutdown"));
    core.start();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }
}
