package io.kedge.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A program under test (cloudcore, edgecore, keadm, a client) run as a real process with its output
 * in a log file. Stop it gracefully ({@link #stop}, SIGTERM) or hard ({@link #kill}, like {@code
 * kill -9}); {@link #close} makes sure nothing is left running.
 */
public final class ProgramProcess implements AutoCloseable {
  /**
   * Programs still running: killed when this JVM ends without closing them (a test run stopped with
   * SIGTERM or Ctrl-C, a CI time limit), so that no cloudcore or edgecore outlives it.
   */
  private static final Set<ProgramProcess> RUNNING = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  for (ProgramProcess p : RUNNING) {
                    p.close();
                  }
                },
                "program-processes-stop"));
  }

  private final String name;
  private final Process process;
  private final Path log;

  private ProgramProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
    RUNNING.add(this);
    process.onExit().thenRun(() -> RUNNING.remove(this));
  }

  /** Starts {@code command} with extra environment {@code env}, output appended to {@code log}. */
  public static ProgramProcess start(
      String name, List<String> command, Map<String, String> env, Path log) {
    try {
      Files.createDirectories(log.toAbsolutePath().getParent());
      ProcessBuilder pb =
          new ProcessBuilder(new ArrayList<>(command))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
      pb.environment().putAll(env);
      return new ProgramProcess(name, pb.start(), log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + ": " + e.getMessage(), e);
    }
  }

  /**
   * Starts one of the project's launchers ({@code bin/cloudcore}, {@code bin/edgecore}, {@code
   * bin/keadm}) from the checkout at {@code kedgeHome}.
   */
  public static ProgramProcess launcher(
      Path kedgeHome, String program, List<String> args, Map<String, String> env, Path log) {
    List<String> cmd = new ArrayList<>();
    cmd.add(kedgeHome.resolve("bin").resolve(program).toString());
    cmd.addAll(args);
    return start(program, cmd, env, log);
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public Path log() {
    return log;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public String output() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /** Waits until the log matches {@code regex}; fails with the log tail otherwise. */
  public Duration awaitLog(String regex, Duration atMost) {
    Pattern p = Pattern.compile(regex, Pattern.MULTILINE);
    return Waits.until(
        name + " logs /" + regex + "/",
        atMost,
        () -> {
          if (!process.isAlive() && !p.matcher(output()).find()) {
            throw new AssertionError(name + " exited (" + process.exitValue() + "):\n" + tail(40));
          }
          return p.matcher(output()).find();
        });
  }

  public String tail(int lines) {
    List<String> all = output().lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  /** SIGTERM, and waits for exit; returns the exit code. */
  public int stop(Duration atMost) {
    process.destroy();
    try {
      if (!process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return process.exitValue();
  }

  /** SIGKILL: the process gets no chance to clean up. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public int waitFor(Duration atMost) throws InterruptedException {
    if (!process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError(name + " still running after " + atMost);
    }
    return process.exitValue();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      kill();
    }
  }
}
