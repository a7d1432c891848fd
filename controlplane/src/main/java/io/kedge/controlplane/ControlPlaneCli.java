package io.kedge.controlplane;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bin/control-plane up|down|status|env}. */
@Command(
    name = "control-plane",
    mixinStandardHelpOptions = true,
    description = {
      "A local Kubernetes v1.20.2 control plane (etcd, kube-apiserver, kube-controller-manager,",
      "kube-scheduler) on 127.0.0.1, built from Debian's source package on first use."
    },
    subcommands = {
      ControlPlaneCli.Up.class,
      ControlPlaneCli.Down.class,
      ControlPlaneCli.Status.class,
      ControlPlaneCli.Env.class
    })
public final class ControlPlaneCli implements Callable<Integer> {

  static final String DEFAULT_DIR = defaultDir();

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(System.err);
    return 2;
  }

  static String defaultDir() {
    return Path.of(System.getProperty("user.home"), ".kedge", "control-plane").toString();
  }

  abstract static class DirOption {
    @Option(
        names = "--dir",
        paramLabel = "DIR",
        description = "state directory (default: ${DEFAULT-VALUE})",
        defaultValue = "${sys:user.home}/.kedge/control-plane")
    Path dir;

    Path dir() {
      return dir.toAbsolutePath().normalize();
    }
  }

  @Command(
      name = "up",
      mixinStandardHelpOptions = true,
      description = "Start a control plane in DIR and wait until it is ready.")
  static final class Up extends DirOption implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--cluster-signing-duration",
        paramLabel = "DURATION",
        description =
            "lifetime of certificates signed for CSRs, e.g. 10m, 2h, 365d (default: ${DEFAULT-VALUE})",
        defaultValue = "365d",
        converter = DurationConverter.class)
    Duration signing;

    @Option(
        names = "--port",
        paramLabel = "PORT",
        description =
            "apiserver port to try first; another free one is used when it is taken (default: ${DEFAULT-VALUE})",
        defaultValue = "6443")
    int port;

    @Override
    public Integer call() {
      if (port < 0 || port > 65535) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--port must be between 0 and 65535, got " + port);
      }
      ControlPlane cp =
          ControlPlane.start(
              ControlPlaneOptions.defaults(dir())
                  .withClusterSigningDuration(signing)
                  .withApiserverPort(port));
      System.out.println("control plane running: " + cp.apiserverUrl());
      System.out.println("KUBECONFIG=" + cp.adminKubeconfig());
      System.out.println("stop it with: bin/control-plane down --dir " + cp.dir());
      return 0;
    }
  }

  @Command(
      name = "down",
      mixinStandardHelpOptions = true,
      description = "Stop the control plane in DIR and remove its state.")
  static final class Down extends DirOption implements Callable<Integer> {
    @Override
    public Integer call() {
      if (!ControlPlane.down(dir())) {
        System.err.println("control-plane: no control plane is running in " + dir());
        return 1;
      }
      System.out.println("control plane in " + dir() + " stopped");
      return 0;
    }
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description = "Show whether each component in DIR runs; exit 0 only if all do.")
  static final class Status extends DirOption implements Callable<Integer> {
    @Override
    public Integer call() {
      var cp = ControlPlane.attach(dir());
      if (cp.isEmpty()) {
        System.err.println("control-plane: no control plane is running in " + dir());
        return 1;
      }
      boolean all = true;
      System.out.println("apiserver: " + cp.get().apiserverUrl());
      for (Map.Entry<String, Boolean> e : cp.get().status().entrySet()) {
        System.out.printf(
            "%-24s %s (pid %d)%n",
            e.getKey(), e.getValue() ? "running" : "stopped", cp.get().pid(e.getKey()));
        all &= e.getValue();
      }
      return all ? 0 : 1;
    }
  }

  @Command(
      name = "env",
      mixinStandardHelpOptions = true,
      description = "Print KUBECONFIG=... for the control plane in DIR.")
  static final class Env extends DirOption implements Callable<Integer> {
    @Override
    public Integer call() {
      var cp = ControlPlane.attach(dir());
      if (cp.isEmpty()) {
        System.err.println("control-plane: no control plane is running in " + dir());
        return 1;
      }
      System.out.println("KUBECONFIG=" + cp.get().adminKubeconfig());
      return 0;
    }
  }

  /** Parses 90s, 10m, 2h, 365d or ISO-8601 (PT10M). */
  public static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String v) {
      return parseDuration(v);
    }
  }

  public static Duration parseDuration(String v) {
    String s = v.trim();
    if (s.matches("\\d+[smhd]")) {
      long n = Long.parseLong(s.substring(0, s.length() - 1));
      return switch (s.charAt(s.length() - 1)) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        case 'h' -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
    }
    try {
      return Duration.parse(s);
    } catch (RuntimeException e) {
      throw new CommandLine.TypeConversionException(
          "'" + v + "' is not a duration (examples: 90s, 10m, 2h, 365d)");
    }
  }

  public static int run(String... args) {
    CommandLine cl = new CommandLine(new ControlPlaneCli());
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          System.err.println("control-plane: " + oneLine(ex));
          return 1;
        });
    return cl.execute(args);
  }

  static String oneLine(Throwable ex) {
    String m = ex.getMessage();
    return m == null ? ex.toString() : m.replace('\n', ' ');
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }
}
