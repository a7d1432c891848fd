package io.kedge.cloud;

import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.config.ConfigException;
import io.kedge.protocol.config.ConfigLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
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

  @Option(
      names = "--config-from-configmap",
      paramLabel = "NAMESPACE/NAME",
      description =
          "read cloudcore.yaml from this ConfigMap (as keadm init writes it) instead of --config;"
              + " cloudcore restarts itself when it is edited")
  String configMap;

  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description = "cloudcore's own kubeconfig (with --config-from-configmap)")
  Path kubeconfig;

  @Option(names = "--defaultconfig", description = "print the default configuration and exit")
  boolean defaultConfig;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "override settings (Helm syntax, e.g. modules.cloudHub.nodeLimit=1000)")
  List<String> sets = new ArrayList<>();

  private final CountDownLatch stopped = new CountDownLatch(1);

  public static void main(String[] args) {
    useAPooledDefaultExecutor();
    setLogFormat();
    CommandLine cli = new CommandLine(new CloudCoreMain());
    cli.setParameterExceptionHandler(
        (ex, a) -> {
          ex.getCommandLine().getErr().println("cloudcore: " + ex.getMessage() + " (see --help)");
          return 2;
        });
    System.exit(cli.execute(args));
  }

  /**
   * With fewer than three cores the common pool has one thread, and CompletableFuture's default
   * executor then starts a new thread for every task. The JDK HTTP client completes each response
   * there (every request DynamicController forwards, every fabric8 call), so each answer paid for a
   * thread start. Must run before CompletableFuture is first used.
   */
  private static void useAPooledDefaultExecutor() {
    String key = "java.util.concurrent.ForkJoinPool.common.parallelism";
    if (System.getProperty(key) == null) {
      System.setProperty(
          key, String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors() - 1)));
    }
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
    ConfigMapConfig fromConfigMap = null;
    if (configMap != null) {
      if (kubeconfig == null) {
        System.err.println("cloudcore: --config-from-configmap needs --kubeconfig");
        return 2;
      }
      try {
        fromConfigMap = ConfigMapConfig.open(kubeconfig, configMap);
      } catch (ConfigException e) {
        System.err.println("cloudcore: " + e.getMessage());
        return 1;
      }
    }
    AtomicReference<CloudCore> current = new AtomicReference<>();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("cloudcore stopping");
                  CloudCore c = current.getAndSet(null);
                  if (c != null) {
                    c.close();
                  }
                  log.info("cloudcore stopped");
                  stopped.countDown();
                },
                "cloudcore-shutdown"));
    while (true) {
      ConfigLoader.Loaded<CloudCoreConfig> loaded;
      try {
        loaded =
            fromConfigMap != null ? fromConfigMap.load(sets) : CloudCoreConfig.load(config, sets);
      } catch (ConfigException e) {
        System.err.println("cloudcore: " + e.getMessage());
        return 1;
      }
      for (String w : loaded.warnings()) {
        log.warn("config {}: {}", fromConfigMap != null ? configMap : config, w);
      }
      CountDownLatch changed = new CountDownLatch(1);
      try {
        current.set(CloudCore.start(loaded.config()));
      } catch (RuntimeException e) {
        log.error("cloudcore failed to start: {}", e.getMessage(), e);
        return 1;
      }
      if (fromConfigMap == null) {
        break;
      }
      fromConfigMap.onChange(
          why -> {
            log.info("configuration changed ({}); restarting cloudcore", why);
            changed.countDown();
          });
      try {
        changed.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return 0;
      }
      CloudCore old = current.getAndSet(null);
      if (old != null) {
        old.close();
      }
    }
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }
}
