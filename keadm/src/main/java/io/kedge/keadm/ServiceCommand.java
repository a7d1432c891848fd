package io.kedge.keadm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code keadm start|stop|restart cloudcore|edgecore}: the service keadm installed, through systemd
 * where it runs, otherwise through the supervised process.
 */
abstract class ServiceCommand implements Callable<Integer> {
  enum Component {
    cloudcore,
    edgecore
  }

  final KeadmEnvironment env;

  @Parameters(index = "0", paramLabel = "COMPONENT", description = "cloudcore or edgecore")
  Component component;

  @Option(
      names = "--root-dir",
      paramLabel = "DIR",
      description = "the install under DIR (as given to init or join)")
  Path rootDir;

  ServiceCommand(KeadmEnvironment env) {
    this.env = env;
  }

  InstallLayout layout() {
    return InstallLayout.of(rootDir);
  }

  ServiceSpec service() {
    return component == Component.cloudcore
        ? ServiceSpec.cloudcore(env, layout())
        : ServiceSpec.edgecore(env, layout());
  }

  ServiceManager manager() {
    return ServiceManager.choose(env, layout());
  }

  void requireInstalled() {
    InstallLayout l = layout();
    boolean installed =
        component == Component.cloudcore
            ? Files.isRegularFile(l.cloudcoreKubeconfig())
            : Files.isRegularFile(l.edgecoreConfig());
    if (!installed) {
      throw new KeadmException(
          component
              + " is not installed under "
              + l.root()
              + " (run 'keadm "
              + (component == Component.cloudcore ? "init" : "join")
              + "' first)");
    }
  }

  int startNow(ServiceManager m, ServiceSpec s) {
    requireInstalled();
    if (m.running(s)) {
      env.out().println(s.name() + " is already running (" + m.describe(s) + ")");
      return 0;
    }
    m.start(s);
    env.out().println(s.name() + " started (" + m.describe(s) + "); logs: " + m.logHint(s));
    return 0;
  }

  @Command(
      name = "start",
      mixinStandardHelpOptions = true,
      description = "Start cloudcore or edgecore (installed by keadm init / join).")
  static final class Start extends ServiceCommand {
    Start(KeadmEnvironment env) {
      super(env);
    }

    @Override
    public Integer call() {
      return startNow(manager(), service());
    }
  }

  @Command(
      name = "stop",
      mixinStandardHelpOptions = true,
      description = "Stop cloudcore or edgecore; they stay installed.")
  static final class Stop extends ServiceCommand {
    Stop(KeadmEnvironment env) {
      super(env);
    }

    @Override
    public Integer call() {
      ServiceManager m = manager();
      ServiceSpec s = service();
      if (m.stop(s)) {
        env.out().println(s.name() + " stopped");
      } else {
        env.out().println(s.name() + " was not running");
      }
      return 0;
    }
  }

  @Command(
      name = "restart",
      mixinStandardHelpOptions = true,
      description = "Restart cloudcore or edgecore, e.g. after editing their configuration.")
  static final class Restart extends ServiceCommand {
    Restart(KeadmEnvironment env) {
      super(env);
    }

    @Override
    public Integer call() {
      requireInstalled();
      ServiceManager m = manager();
      ServiceSpec s = service();
      m.stop(s);
      m.start(s);
      env.out().println(s.name() + " restarted (" + m.describe(s) + "); logs: " + m.logHint(s));
      return 0;
    }
  }
}
