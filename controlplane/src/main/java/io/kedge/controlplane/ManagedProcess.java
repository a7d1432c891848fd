package io.kedge.controlplane;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A long-running child program with its output in a log file, started in its own session so it
 * outlives the launcher (for {@code control-plane up}) and does not get the terminal's signals.
 */
final class ManagedProcess {
  private ManagedProcess() {}

  static long start(String name, List<String> command, Path log) {
    List<String> cmd = new ArrayList<>();
    if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
      cmd.add("/usr/bin/setsid");
    }
    cmd.addAll(command);
    try {
      Files.createDirectories(log.getParent());
      Process p =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
              .start();
      return p.pid();
    } catch (IOException e) {
      throw new ControlPlaneException("cannot start " + name + ": " + e.getMessage(), e);
    }
  }

  /** The process with this pid if it is alive and its command line mentions {@code marker}. */
  static Optional<ProcessHandle> find(long pid, String marker) {
    Optional<ProcessHandle> h = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    if (h.isEmpty()) {
      return h;
    }
    try {
      String cmdline =
          new String(
                  Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8)
              .replace('\0', ' ');
      return cmdline.contains(marker) ? h : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /** SIGTERM, then SIGKILL after {@code grace}. Returns whether it had been running. */
  static boolean stop(long pid, String marker, Duration grace) {
    Optional<ProcessHandle> h = find(pid, marker);
    if (h.isEmpty()) {
      return false;
    }
    ProcessHandle p = h.get();
    p.destroy();
    long deadline = System.nanoTime() + grace.toNanos();
    while (p.isAlive() && System.nanoTime() < deadline) {
      sleep(50);
    }
    if (p.isAlive()) {
      p.destroyForcibly();
      long killDeadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (p.isAlive() && System.nanoTime() < killDeadline) {
        sleep(20);
      }
    }
    return true;
  }

  static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "";
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ControlPlaneException("interrupted", e);
    }
  }
}
