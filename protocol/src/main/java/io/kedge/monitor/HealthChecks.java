package io.kedge.monitor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A process's named readiness checks, reported by {@code /readyz} as the kube-apiserver reports its
 * own ({@code [+]name ok}, {@code [-]name failed: why}). A check answers null when it passes and
 * otherwise says what is wrong in one line, for an operator to act on.
 */
public final class HealthChecks {

  /** One check: null when it passes, else what is wrong. Must be quick and must not block. */
  @FunctionalInterface
  public interface Check {
    String problem();
  }

  /** The outcome of one check. */
  public record Result(String name, String problem) {
    public boolean ok() {
      return problem == null;
    }
  }

  private record Named(String name, Check check) {}

  private final List<Named> checks = new CopyOnWriteArrayList<>();

  /** Adds a check; names are short, lower-case words joined by {@code -}, unique per process. */
  public HealthChecks add(String name, Check check) {
    if (!name.matches("[a-z0-9]+(-[a-z0-9]+)*")) {
      throw new IllegalArgumentException("bad check name: " + name);
    }
    for (Named n : checks) {
      if (n.name().equals(name)) {
        throw new IllegalArgumentException("check " + name + " exists");
      }
    }
    checks.add(new Named(name, check));
    return this;
  }

  /** Removes the check of that name, if any (a component that stops takes its checks along). */
  public void remove(String name) {
    checks.removeIf(n -> n.name().equals(name));
  }

  public List<String> names() {
    return checks.stream().map(Named::name).toList();
  }

  /** Runs every check; one that throws fails with what it threw. */
  public List<Result> run() {
    List<Result> out = new ArrayList<>(checks.size());
    for (Named n : checks) {
      out.add(new Result(n.name(), run(n.check())));
    }
    return out;
  }

  /** Runs one check by name; null when there is no such check. */
  public Result run(String name) {
    for (Named n : checks) {
      if (n.name().equals(name)) {
        return new Result(name, run(n.check()));
      }
    }
    return null;
  }

  private static String run(Check c) {
    try {
      return c.problem();
    } catch (RuntimeException e) {
      return "check failed: " + e;
    }
  }

  /**
   * The failed checks of an apiserver-style {@code /readyz?verbose} text, name to message: what a
   * client (keadm) reports of a process that is not ready.
   */
  public static Map<String, String> failedIn(String readyzText) {
    Map<String, String> failed = new java.util.LinkedHashMap<>();
    for (String line : readyzText.split("\n")) {
      if (line.startsWith("[-]")) {
        String rest = line.substring(3);
        int sp = rest.indexOf(' ');
        String name = sp < 0 ? rest : rest.substring(0, sp);
        String why = sp < 0 ? "" : rest.substring(sp + 1);
        if (why.startsWith("failed: ")) {
          why = why.substring("failed: ".length());
        } else if (why.equals("failed")) {
          why = "";
        }
        failed.put(name, why);
      }
    }
    return failed;
  }
}
