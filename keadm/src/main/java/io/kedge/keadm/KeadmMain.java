package io.kedge.keadm;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Entry point of {@code bin/keadm}: KubeEdge's installer commands with KubeEdge's flag names. Usage
 * errors (unknown flag, bad value) print one line and exit 2; failures while doing the work print
 * one line and exit 1.
 */
@Command(
    name = "keadm",
    mixinStandardHelpOptions = true,
    versionProvider = VersionCommand.Provider.class,
    description =
        "keadm installs Kedge's cloudcore for a Kubernetes cluster and joins edge nodes to it,"
            + " with KubeEdge's commands and flags (KubeEdge v1.17 compatible).",
    footer = {
      "",
      "Cloud side:  keadm init --advertise-address=IP --kube-config FILE",
      "             keadm gettoken --kube-config FILE",
      "Edge side:   keadm join --cloudcore-ipport=IP:10000 --token=TOKEN -i NAME",
      "Try it all on this machine: keadm quickstart"
    },
    subcommands = {
      InitCommand.class,
      GetTokenCommand.class,
      JoinCommand.class,
      ResetCommand.class,
      ServiceCommand.Start.class,
      ServiceCommand.Stop.class,
      ServiceCommand.Restart.class,
      QuickstartCommand.class,
      VersionCommand.class,
      CommandLine.HelpCommand.class
    })
public final class KeadmMain implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Runs keadm with {@code args} in {@code env}; returns the exit code. */
  public static int run(KeadmEnvironment env, String... args) {
    CommandLine cl = new CommandLine(new KeadmMain(), new Factory(env));
    cl.setOut(new PrintWriter(env.out(), true));
    cl.setErr(new PrintWriter(env.err(), true));
    cl.setCaseInsensitiveEnumValuesAllowed(false);
    cl.setParameterExceptionHandler(
        (ex, a) -> {
          CommandLine cmd = ex.getCommandLine();
          env.err()
              .println(
                  cmd.getCommandSpec().qualifiedName()
                      + ": error: "
                      + oneLine(ex.getMessage())
                      + " (see '"
                      + cmd.getCommandSpec().qualifiedName()
                      + " --help')");
          return CommandLine.ExitCode.USAGE;
        });
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          if (ex instanceof CommandLine.ParameterException pe) {
            throw pe;
          }
          String what = cmd.getCommandSpec().qualifiedName();
          if (ex instanceof KeadmException) {
            env.err().println(what + ": error: " + oneLine(ex.getMessage()));
          } else {
            env.err().println(what + ": error: " + oneLine(String.valueOf(describe(ex))));
            if (env.debug()) {
              ex.printStackTrace(env.err());
            }
          }
          return ex instanceof KeadmException ke ? ke.exitCode() : 1;
        });
    return cl.execute(args);
  }

  private static String describe(Throwable ex) {
    StringBuilder b = new StringBuilder();
    Throwable t = ex;
    while (t != null) {
      String m = t.getMessage();
      if (m != null && !b.toString().contains(m)) {
        if (!b.isEmpty()) {
          b.append(": ");
        }
        b.append(m);
      }
      t = t.getCause() == t ? null : t.getCause();
    }
    return b.isEmpty() ? ex.toString() : b.toString();
  }

  static String oneLine(String s) {
    return s == null ? "" : s.strip().replaceAll("\\s*\\n\\s*", " ");
  }

  public static void main(String[] args) {
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      // keadm talks to users through its own progress lines; library chatter stays out.
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    System.exit(run(KeadmEnvironment.system(), args));
  }

  /** Builds commands with the environment they run in (no globals). */
  static final class Factory implements CommandLine.IFactory {
    private final KeadmEnvironment env;
    private final CommandLine.IFactory fallback = CommandLine.defaultFactory();

    Factory(KeadmEnvironment env) {
      this.env = env;
    }

    @Override
    public <K> K create(Class<K> cls) throws Exception {
      try {
        var c = cls.getDeclaredConstructor(KeadmEnvironment.class);
        c.setAccessible(true);
        return c.newInstance(env);
      } catch (NoSuchMethodException e) {
        return fallback.create(cls);
      }
    }
  }
}
