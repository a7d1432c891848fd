package io.kedge.edge;

import io.kedge.protocol.config.ConfigException;
import io.kedge.protocol.config.ConfigLoader;
import io.kedge.protocol.config.EdgeCoreConfig;
import java.io.PrintStream;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point of {@code bin/edgecore}. Its three options are parsed by hand: a command-line library
 * would stay loaded (a few hundred kilobytes of classes) for the life of an edge process.
 */
public final class EdgeCoreMain implements Callable<Integer> {
  static final String USAGE =
      """
      Usage: edgecore [-h] [--defaultconfig] [--config=FILE]
      Kedge edgecore: connects this node to cloudcore and serves its pods.
            --config=FILE     edgecore.yaml to use (default:
                                %s)
            --defaultconfig   print the default configuration and exit
        -h, --help            show this help and exit
      """;

  Path config = EdgeCoreConfig.DEFAULT_FILE;
  boolean defaultConfig;
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
    String problem = main.parse(args);
    if (problem != null) {
      err.println("edgecore: " + problem + " (see edgecore --help)");
      return 2;
    }
    if (main.help) {
      out.print(USAGE.formatted(EdgeCoreConfig.DEFAULT_FILE));
      out.flush();
      return 0;
    }
    return main.call();
  }

  /** Sets the options from {@code args}; returns what is wrong with them, or null. */
  private String parse(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("-h") || a.equals("--help")) {
        help = true;
      } else if (a.equals("--defaultconfig")) {
        defaultConfig = true;
      } else if (a.equals("--config") || a.startsWith("--config=")) {
        String v;
        if (a.startsWith("--config=")) {
          v = a.substring("--config=".length());
        } else if (i + 1 < args.length && !args[i + 1].startsWith("-")) {
          v = args[++i];
        } else {
          return "Missing required parameter for option '--config' (FILE)";
        }
        try {
          config = Path.of(v);
        } catch (InvalidPathException e) {
          return "Invalid value for option '--config': " + e.getMessage();
        }
      } else if (a.startsWith("-")) {
        return "Unknown option: '" + a + "'";
      } else {
        return "Unmatched argument at index " + i + ": '" + a + "'";
      }
    }
    return null;
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
