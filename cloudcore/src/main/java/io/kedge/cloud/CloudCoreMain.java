package io.kedge.cloud;

import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.config.ConfigException;
import io.kedge.protocol.config.ConfigLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Entry point of {@code bin/cloudcore}. */
@Command(
    name = "cloudcore",
    mixinStandardHelpOptions = true,
    version = "cloudcore (Kedge) 0.1.0",
    description = "Kedge cloudcore: CloudHub, EdgeController, SyncController, DynamicController.")
public final class CloudCoreMain implements Callable<Integer> {

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "cloudcore.yaml (default: ${DEFAULT-VALUE})",
      defaultValue = "/etc/kubeedge/config/cloudcore.yaml")
  Path config;

  @Option(names = "--defaultconfig", description = "print the default configuration and exit")
  boolean defaultConfig;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "override settings (Helm syntax, e.g. modules.cloudHub.nodeLimit=1000)")
  List<String> sets = new ArrayList<>();

  private final CountDownLatch stopped = new CountDownLatch(1);

  public static void main(String[] args) {
    setLogFormat();
    CommandLine cli = new CommandLine(new CloudCoreMain());
    cli.setParameterExceptionHandler(
        (ex, a) -> {
          ex.getCommandLine().getErr().println("cloudcore: " + ex.getMessage() + " (see --help)");
          return 2;
        });
    System.exit(cli.execute(args));
  }

  private static void setLogFormat() {
    System.setProperty(
        "org.slf4j.simpleLogger.showDateTime",
        System.getProperty("org.slf4j.simpleLogger.showDateTime", "true"));
    System.setProperty(
        "org.slf4j.simpleLogger.dateTimeFormat",
        System.getProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ"));
    System.setProperty(
        "org.slf4j.simpleLogger.showShortLogName",
        System.getProperty("org.slf4j.simpleLogger.showShortLogName", "true"));
  }

  @Override
  public Integer call() {
    if (defaultConfig) {
      System.out.print(ConfigLoader.defaultsText(CloudCoreConfig.DEFAULTS));
      return 0;
    }
    org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(CloudCoreMain.class);
    ConfigLoader.Loaded<CloudCoreConfig> loaded;
    try {
      loaded = CloudCoreConfig.load(config, sets);
    } catch (ConfigException e) {
      System.err.println("cloudcore: " + e.getMessage());
      return 1;
    }
    for (String w : loaded.warnings()) {
      log.warn("config {}: {}", config, w);
    }
    CloudCore core;
    try {
      core = CloudCore.start(loaded.config());
    } catch (RuntimeException e) {
      log.error("cloudcore failed to start: {}", e.getMessage(), e);
      return 1;
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("cloudcore stopping");
                  core.close();
                  log.info("cloudcore stopped");
                  stopped.countDown();
                },
                "cloudcore-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }
}
