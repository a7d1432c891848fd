package io.kedge.keadm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Services where systemd does not run: {@code scripts/lib/supervise.sh} started in its own session
 * keeps the program running (restarting it when it exits), with its pid in {@code
 * DIR/var/run/kubeedge/NAME.pid} and output in {@code DIR/var/log/kubeedge/NAME.log}. Only a
 * process whose command line names that pid file is ever signalled, so a reused pid is never hit.
 */
final class SupervisedServices implements ServiceManager {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(40);

  private final KeadmEnvironment env;

  SupervisedServices(KeadmEnvironment env) {
    this.env = env;
  }

  @Override
  public void start(ServiceSpec spec) {
    if (running(spec)) {
      return;
    }
    Path script = env.kedgeHome().resolve("scripts/lib/supervise.sh");
    if (!Files.isRegularFile(script)) {
      throw new KeadmException("cannot find " + script + " (KEDGE_HOME=" + env.kedgeHome() + ")");
    }
    List<String> cmd = new ArrayList<>();
    if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
      cmd.add("/usr/bin/setsid");
    }
    cmd.addAll(List.of("bash", script.toString(), spec.name(), spec.pidFile().toString(), "--"));
    cmd.addAll(spec.command());
    try {
      Files.createDirectories(spec.log().getParent());
      Files.createDirectories(spec.pidFile().getParent());
      Files.deleteIfExists(spec.pidFile());
      ProcessBuilder pb =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(spec.log().toFile()))
              .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
      pb.environment().putAll(spec.env());
      pb.environment().put("KEDGE_HOME", env.kedgeHome().toString());
      Process p = pb.start();
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      while (!running(spec)) {
        if (!p.isAlive()) {
          throw new KeadmException(
              spec.name()
                  + " supervisor exited at once ("
                  + p.exitValue()
                  + "); see "
                  + spec.log());
        }
        if (System.nanoTime() > deadline) {
          throw new KeadmException(spec.name() + " did not start; see " + spec.log());
        }
        sleep(50);
      }
    } catch (IOException e) {
      throw new KeadmException("cannot start " + spec.name() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public boolean stop(ServiceSpec spec) {
    Optional<ProcessHandle> sup = supervisor(spec);
    if (sup.isEmpty()) {
      cleanup(spec);
      return false;
    }
    ProcessHandle h = sup.get();
    List<ProcessHandle> children = h.descendants().toList();
    h.destroy();
    long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
    while (h.isAlive() && System.nanoTime() < deadline) {
      sleep(100);
    }
    if (h.isAlive()) {
      h.descendants().forEach(ProcessHandle::destroyForcibly);
      h.destroyForcibly();
    }
    for (ProcessHandle c : children) {
      if (c.isAlive()) {
        c.destroyForcibly();
      }
    }
    cleanup(spec);
    return true;
  }

  @Override
  public boolean running(ServiceSpec spec) {
    return supervisor(spec).isPresent();
  }

  @Override
  public void uninstall(ServiceSpec spec) {
    stop(spec);
  }

  @Override
  public String logHint(ServiceSpec spec) {
    return "tail -f " + spec.log();
  }

  @Override
  public String describe(ServiceSpec spec) {
    return "supervised process (pid file " + spec.pidFile() + ", log " + spec.log() + ")";
  }

  /** The pid of the running program itself (the supervisor's child), if any. */
  Optional<Long> childPid(ServiceSpec spec) {
    if (supervisor(spec).isEmpty()) {
      return Optional.empty();
    }
    return readPid(Path.of(spec.pidFile() + ".child"))
        .filter(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
  }

  private Optional<ProcessHandle> supervisor(ServiceSpec spec) {
    Optional<Long> pid = readPid(spec.pidFile());
    if (pid.isEmpty()) {
      return Optional.empty();
    }
    Optional<ProcessHandle> h = ProcessHandle.of(pid.get()).filter(ProcessHandle::isAlive);
    if (h.isEmpty()) {
      return h;
    }
    try {
      String cmdline =
          new String(
                  Files.readAllBytes(Path.of("/proc/" + pid.get() + "/cmdline")),
                  StandardCharsets.UTF_8)
              .replace('\0', ' ');
      return cmdline.contains("supervise.sh") && cmdline.contains(spec.pidFile().toString())
          ? h
          : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static Optional<Long> readPid(Path file) {
    try {
      return Optional.of(Long.parseLong(Files.readString(file).strip()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static void cleanup(ServiceSpec spec) {
    try {
      Files.deleteIfExists(spec.pidFile());
      Files.deleteIfExists(Path.of(spec.pidFile() + ".child"));
    } catch (IOException e) {
      // stale pid files are harmless: the command line check ignores them
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KeadmException("interrupted");
    }
  }
}
