package io.kedge.edge.edged;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default runtime: each container's {@code command} + {@code args} runs as a host process in
 * its own PID and mount namespace (private propagation), chrooted into a mirror of the host where
 * the pod's volumes (service-account token, ConfigMaps, Secrets, emptyDirs, projected volumes) are
 * bind-mounted at their mount paths and Edged's other pod directories are hidden. The process gets
 * only the pod's environment, runs as the pod's user and group in its own working directory, with
 * stdout and stderr written to its log file as CRI log lines ({@link CriLogWriter}), in a cgroup of
 * its own below the pod's with the container's CPU and memory limits. It uses the node's network.
 * No image is pulled: {@code image} is ignored, the command must exist on the host.
 *
 * <p>Containers do not outlive edgecore: they are killed when it exits (parent-death signal), and
 * Edged starts the node's pods again from the local store at the next start.
 */
public final class ProcessRuntime implements PodRuntime {
  private static final Logger log = LoggerFactory.getLogger(ProcessRuntime.class);
  private static final String HOST_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

  /** Image-less containers get the PATH a Debian image has unless the pod sets its own. */
  static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  private final Path podsDirectory;
  private final Path launcher;
  private final Clock clock;
  private final Optional<Cgroups> cgroups;
  private final Map<String, Container> containers = new ConcurrentHashMap<>();
  // Children get a parent-death signal tied to the thread that forks them: one long-lived thread.
  private final ExecutorService spawner =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "edged-process-spawner");
            t.setDaemon(true);
            return t;
          });
  private final SecureRandom random = new SecureRandom();
  private volatile ContainerListener listener = id -> {};

  private static final class Container {
    final String id;
    final String sandboxId;
    final String name;
    final Path dir;
    final Path errFile;
    final Path signalsFile;
    final Instant createdAt;
    volatile Process process;
    volatile Instant startedAt;
    volatile ContainerState exited;
    volatile boolean killed;

    /** The container's cgroup, empty without one. */
    volatile String cgroup = "";

    /** Its user, groups and environment, for exec probes. */
    volatile ContainerConfig config;

    volatile List<ContainerConfig.EnvVar> env = List.of();

    /** Where the command runs (for exec probes). */
    volatile String workDir = "/";

    /** Its stdout and stderr (for attach). */
    volatile Path logFile;

    /** Writes its output to {@link #logFile}. */
    volatile CriLogWriter logWriter;

    Container(String id, String sandboxId, String name, Path dir, Instant createdAt) {
      this.id = id;
      this.sandboxId = sandboxId;
      this.name = name;
      this.dir = dir;
      this.errFile = dir.resolve("launch-error");
      this.signalsFile = dir.resolve("launch-error.signals");
      this.createdAt = createdAt;
    }
  }

  /**
   * @param podsDirectory Edged's root directory (pod directories live under it); hidden from pods
   */
  public ProcessRuntime(Path podsDirectory, Clock clock) {
    this(podsDirectory, clock, Cgroups.detect());
  }

  /**
   * @param cgroups where containers get cgroups with their limits (empty: containers with limits
   *     are refused)
   */
  public ProcessRuntime(Path podsDirectory, Clock clock, Optional<Cgroups> cgroups) {
    this.podsDirectory = podsDirectory.toAbsolutePath().normalize();
    this.clock = clock;
    this.cgroups = cgroups;
    try {
      Path dir = this.podsDirectory.resolve(".process-runtime");
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
      this.launcher = dir.resolve("process-launcher.sh");
      try (InputStream in = ProcessRuntime.class.getResourceAsStream("process-launcher.sh")) {
        Files.copy(in, launcher, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the process runtime in " + podsDirectory, e);
    }
  }

  /** Why this machine cannot run the process runtime, or empty when it can. */
  public static Optional<String> unavailableReason() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (l.startsWith("Uid:") && !l.split("\\s+")[2].equals("0")) {
          return Optional.of(
              "the process runtime needs root (mount namespaces, bind mounts, changing user)");
        }
      }
    } catch (IOException e) {
      return Optional.of("cannot read /proc/self/status: " + e.getMessage());
    }
    for (String tool : List.of("unshare", "setpriv", "chroot", "env", "mount")) {
      if (which(tool).isEmpty()) {
        return Optional.of("the process runtime needs '" + tool + "' (util-linux / coreutils)");
      }
    }
    return Optional.empty();
  }

  @Override
  public String name() {
    return "process";
  }

  @Override
  public LogFormat logFormat() {
    return LogFormat.CRI;
  }

  @Override
  public void setListener(ContainerListener listener) {
    this.listener = listener;
  }

  @Override
  public String runSandbox(SandboxConfig sandbox) {
    return sandbox.uid();
  }

  @Override
  public String startContainer(String sandboxId, SandboxConfig sandbox, ContainerConfig c)
      throws RuntimeFailure {
    if (c.command().isEmpty()) {
      throw new RuntimeFailure(
          "CreateContainerConfigError",
          "container "
              + c.name()
              + " has no command: the process runtime runs command and args and pulls no image");
    }
    if (c.resources().hasLimits() && (cgroups.isEmpty() || sandbox.cgroupParent().isEmpty())) {
      throw new RuntimeFailure(
          "CreateContainerConfigError",
          "container "
              + c.name()
              + " sets resource limits, which the process runtime applies through cgroups, and"
              + " there is no writable cgroup file system here");
    }
    String id = newId();
    Path runDir = sandbox.podDirectory().resolve("runtime").resolve(id);
    Container rec = new Container(id, sandboxId, c.name(), runDir, clock.instant());
    rec.config = c;
    try {
      Files.createDirectories(runDir.getParent());
      Files.setPosixFilePermissions(
          runDir.getParent(), PosixFilePermissions.fromString("rwx------"));
      Files.createDirectories(runDir);

      Path podDir = sandbox.podDirectory();
      PodDirectories.ensure(podDir.resolve("home"), "rwx--x--x", 0, 0);
      String home =
          PodDirectories.ensure(homeOf(sandbox, c), "rwx------", c.runAsUser(), c.runAsGroup())
              .toString();
      String workDir = c.workingDir();
      if (workDir.isEmpty()) {
        PodDirectories.ensure(podDir.resolve("containers"), "rwx--x--x", 0, 0);
        workDir =
            PodDirectories.ensure(workDirOf(sandbox, c), "rwx------", c.runAsUser(), c.runAsGroup())
                .toString();
      }
      List<ContainerConfig.EnvVar> env = new ArrayList<>();
      boolean hasPath = false;
      boolean hasHome = false;
      for (ContainerConfig.EnvVar v : c.env()) {
        hasPath |= v.name().equals("PATH");
        hasHome |= v.name().equals("HOME");
      }
      if (!hasPath) {
        env.add(new ContainerConfig.EnvVar("PATH", DEFAULT_PATH));
      }
      if (!hasHome) {
        env.add(new ContainerConfig.EnvVar("HOME", home));
      }
      env.addAll(c.env());
      String pathValue = DEFAULT_PATH;
      for (ContainerConfig.EnvVar v : env) {
        if (v.name().equals("PATH")) {
          pathValue = v.value();
        }
      }
      if (c.command().get(0).contains("=")) {
        throw new RuntimeFailure(
            "StartError", "exec: \"" + c.command().get(0) + "\": a command cannot contain '='");
      }

      MountPlan plan =
          MountPlan.build(
              runDir.resolve("root"), podsDirectory, sandbox.podDirectory(), c.mounts());
      plan.check(c.runAsUser(), c.runAsGroup(), workDir, pathValue, c.command().get(0));
      StringBuilder steps = new StringBuilder();
      if (cgroups.isPresent() && !sandbox.cgroupParent().isEmpty()) {
        rec.cgroup = sandbox.cgroupParent() + "/" + id;
        cgroups.get().create(rec.cgroup, Cgroups.Limits.of(c.resources()));
        for (Path procs : cgroups.get().procsFiles(rec.cgroup)) {
          steps.append("cgroup\t").append(procs).append('\n');
        }
      }
      rec.env = List.copyOf(env);
      rec.workDir = workDir;
      Path planFile = runDir.resolve("plan");
      Files.writeString(planFile, steps + plan.text());

      List<String> argv = new ArrayList<>();
      argv.addAll(
          List.of(
              "setpriv",
              "--pdeathsig",
              "KILL",
              "--",
              "unshare",
              "--mount",
              "--propagation",
              "private",
              "--pid",
              "--fork",
              "--kill-child=SIGKILL",
              "--mount-proc",
              "--",
              "/bin/sh",
              launcher.toString(),
              planFile.toString(),
              rec.errFile.toString(),
              "--"));
      argv.add("setpriv");
      argv.add("--reuid=" + c.runAsUser());
      argv.add("--regid=" + c.runAsGroup());
      if (c.supplementalGroups().isEmpty()) {
        argv.add("--clear-groups");
      } else {
        StringBuilder g = new StringBuilder();
        for (Long gid : c.supplementalGroups()) {
          g.append(g.length() == 0 ? "" : ",").append(gid);
        }
        argv.add("--groups=" + g);
      }
      argv.addAll(List.of("--", "env", "-i", "-C", workDir, "--"));
      for (ContainerConfig.EnvVar v : env) {
        argv.add(v.name() + "=" + v.value());
      }
      argv.addAll(c.command());

      Path logFile = sandbox.logDirectory().resolve(c.logPath());
      Files.createDirectories(logFile.getParent());
      rec.logFile = logFile;
      ProcessBuilder pb = new ProcessBuilder(argv);
      pb.environment().clear();
      pb.environment().put("PATH", HOST_PATH);
      pb.environment().put("LC_ALL", "C");
      pb.directory(runDir.toFile());
      pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      pb.redirectOutput(ProcessBuilder.Redirect.PIPE);
      pb.redirectErrorStream(true);

      containers.put(id, rec);
      Process p = spawn(pb);
      try {
        rec.logWriter = new CriLogWriter(p.getInputStream(), logFile, clock, c.name() + "-" + id);
      } catch (IOException e) {
        p.destroyForcibly(); // nothing would read its output
        throw e;
      }
      rec.process = p;
      rec.startedAt = clock.instant();
      p.onExit().thenRun(() -> exited(rec));
      log.info(
          "started container {} of pod {}/{} as pid {} (user {}, id {})",
          c.name(),
          sandbox.namespace(),
          sandbox.name(),
          p.pid(),
          c.runAsUser(),
          id);
      return id;
    } catch (IOException | UncheckedIOException e) {
      containers.remove(id);
      throw new RuntimeFailure("StartError", "cannot start container " + c.name() + ": " + e, e);
    }
  }

  private Process spawn(ProcessBuilder pb) throws IOException {
    try {
      return spawner.submit(pb::start).get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException(e.getCause());
    } catch (TimeoutException e) {
      throw new IOException("starting the process timed out");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
  }

  private void exited(Container rec) {
    if (rec.logWriter != null) {
      // Its last lines are in the log before it counts as exited (logs read then are complete).
      rec.logWriter.awaitEnd(Duration.ofSeconds(2));
    }
    int code = rec.process.exitValue();
    String reason = code == 0 ? "Completed" : "Error";
    String message = "";
    if (Files.exists(rec.errFile)) {
      try {
        message = Files.readString(rec.errFile).strip();
      } catch (IOException e) {
        message = "the container could not be started";
      }
      reason = "StartError";
      code = 128;
    } else if (rec.killed) {
      code = 137;
      reason = "Error";
    }
    if (!rec.cgroup.isEmpty() && cgroups.get().oomKills(rec.cgroup) > 0) {
      reason = "OOMKilled"; // as containerd says when the kernel's OOM killer struck
      if (code == 0) {
        code = 137;
      }
    }
    rec.exited =
        new ContainerState(
            rec.id,
            ContainerState.Phase.EXITED,
            rec.createdAt,
            rec.startedAt,
            clock.instant(),
            code,
            reason,
            message);
    log.info("container {} ({}) exited with {} ({})", rec.name, rec.id, code, reason);
    listener.changed(rec.id);
  }

  @Override
  public Optional<ContainerState> containerState(String containerId) {
    Container rec = containers.get(containerId);
    if (rec == null) {
      return Optional.empty();
    }
    ContainerState done = rec.exited;
    if (done != null) {
      return Optional.of(done);
    }
    return Optional.of(
        new ContainerState(
            rec.id,
            rec.process == null ? ContainerState.Phase.CREATED : ContainerState.Phase.RUNNING,
            rec.createdAt,
            rec.startedAt,
            null,
            0,
            "",
            ""));
  }

  @Override
  public void stopContainer(String containerId, Duration grace) {
    Container rec = containers.get(containerId);
    if (rec == null || rec.process == null) {
      return;
    }
    Process p = rec.process;
    long deadline = System.nanoTime() + Math.max(0, grace.toNanos());
    boolean termSent = false;
    try {
      while (p.isAlive()) {
        if (!termSent) {
          // The launcher (PID 1 of the container's PID namespace, unshare's child) forwards
          // SIGTERM to the command. Right after the start it may not exist yet: look again.
          if (Files.exists(rec.signalsFile)) {
            List<ProcessHandle> kids = p.toHandle().children().toList();
            kids.forEach(ProcessHandle::destroy);
            termSent = !kids.isEmpty();
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          rec.killed = true;
          p.destroyForcibly(); // unshare --kill-child takes the whole namespace down with it
          break;
        }
        try {
          p.onExit()
              .get(
                  Math.min(left, TimeUnit.MILLISECONDS.toNanos(termSent ? 200 : 10)),
                  TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
          // look again
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      rec.killed = true;
      p.destroyForcibly();
    }
    try {
      p.onExit().get(10, TimeUnit.SECONDS);
      while (rec.exited == null) {
        Thread.sleep(5); // the exit callback runs asynchronously
      }
    } catch (Exception e) {
      log.warn("container {} ({}) did not go away after SIGKILL", rec.name, rec.id);
    }
  }

  @Override
  public void removeContainer(String containerId) {
    Container rec = containers.remove(containerId);
    if (rec != null) {
      PodDirectories.deleteRecursively(rec.dir);
      if (!rec.cgroup.isEmpty() && (rec.process == null || !rec.process.isAlive())) {
        List<String> left = cgroups.get().remove(rec.cgroup);
        if (!left.isEmpty()) {
          log.debug("container {}: cgroup not removed: {}", rec.id, left);
        }
      }
    }
  }

  /**
   * Runs {@code command} in the container: in its mount and PID namespaces ({@code nsenter} into
   * the launcher, PID 1 there), chrooted into its view of the files, in its working directory, as
   * its user with its environment.
   */
  @Override
  public ExecResult exec(String containerId, List<String> command, Duration timeout)
      throws RuntimeFailure {
    List<String> argv = enter(containerId);
    argv.addAll(command);
    Container rec = containers.get(containerId);
    Path out = null;
    try {
      out = Files.createTempFile(rec.dir, "exec", ".out");
      ProcessBuilder pb = new ProcessBuilder(argv);
      pb.environment().clear();
      pb.environment().put("PATH", HOST_PATH);
      pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      pb.redirectOutput(out.toFile());
      pb.redirectErrorStream(true);
      Process e = pb.start();
      boolean done = e.waitFor(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
      if (!done) {
        e.descendants().forEach(ProcessHandle::destroyForcibly);
        e.destroyForcibly();
        e.waitFor(10, TimeUnit.SECONDS);
      }
      String text = readLimited(out, 10 * 1024);
      return new ExecResult(done ? e.exitValue() : -1, text, !done);
    } catch (IOException e) {
      throw new RuntimeFailure(
          "ExecFailed", "cannot exec in container " + containerId + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeFailure("ExecFailed", "interrupted");
    } finally {
      if (out != null) {
        try {
          Files.deleteIfExists(out);
        } catch (IOException e) {
          // the container's directory goes with it
        }
      }
    }
  }

  /**
   * The command line that runs a command in the container: in its mount and PID namespaces ({@code
   * nsenter} into the launcher, PID 1 there), chrooted into its view of the files, in its working
   * directory, as its user with its environment; the command's words follow.
   */
  private List<String> enter(String containerId) throws RuntimeFailure {
    Container rec = containers.get(containerId);
    Process p = rec == null ? null : rec.process;
    if (p == null || !p.isAlive() || rec.exited != null) {
      throw new RuntimeFailure(
          "ContainerNotRunning", "container " + containerId + " is not running");
    }
    // setpriv → unshare (the same process) → the launcher, PID 1 of the container
    Optional<ProcessHandle> target = p.toHandle().children().findFirst();
    if (target.isEmpty()) {
      throw new RuntimeFailure(
          "ContainerNotRunning", "container " + containerId + " has not started yet");
    }
    ContainerConfig c = rec.config;
    List<String> argv = new ArrayList<>();
    argv.addAll(
        List.of(
            "nsenter",
            "--target",
            Long.toString(target.get().pid()),
            "--mount",
            "--pid",
            "--",
            "chroot",
            rec.dir.resolve("root").toString(),
            "setpriv",
            "--reuid=" + c.runAsUser(),
            "--regid=" + c.runAsGroup()));
    if (c.supplementalGroups().isEmpty()) {
      argv.add("--clear-groups");
    } else {
      StringBuilder g = new StringBuilder();
      for (Long gid : c.supplementalGroups()) {
        g.append(g.length() == 0 ? "" : ",").append(gid);
      }
      argv.add("--groups=" + g);
    }
    argv.addAll(List.of("--", "env", "-i", "-C", rec.workDir, "--"));
    for (ContainerConfig.EnvVar v : rec.env) {
      argv.add(v.name() + "=" + v.value());
    }
    return argv;
  }

  /**
   * {@code kubectl exec}: the command runs as for exec probes (the container's namespaces, files,
   * user and environment). With a TTY it runs under {@code script}, which gives it a
   * pseudo-terminal whose size {@link ContainerStreams.ContainerSession#resize} sets.
   */
  @Override
  public ContainerStreams.StreamTarget execStream(
      String containerId, List<String> command, ContainerStreams.StreamOptions o)
      throws RuntimeFailure {
    List<String> argv = enter(containerId);
    if (o.tty()) {
      argv.addAll(List.of("script", "--quiet", "--flush", "--return", "--command"));
      argv.add(ShellWords.join(command));
      argv.add("/dev/null");
    } else {
      argv.addAll(command);
    }
    ProcessBuilder pb = new ProcessBuilder(argv);
    pb.environment().clear();
    pb.environment().put("PATH", HOST_PATH);
    if (o.tty()) {
      pb.environment().put("TERM", "xterm");
    }
    if (!o.stdin()) {
      pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    }
    if (!o.stdout()) {
      pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    }
    if (o.tty()) {
      pb.redirectErrorStream(true);
    } else if (!o.stderr()) {
      pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    }
    try {
      Process e = pb.start();
      log.info("exec in container {}: {} (pid {}, tty {})", containerId, command, e.pid(), o.tty());
      return new ContainerStreams.Session(new ExecSession(e, o));
    } catch (IOException e) {
      throw new RuntimeFailure(
          "ExecFailed", "cannot exec in container " + containerId + ": " + e, e);
    }
  }

  /** One {@code kubectl exec}'s process. */
  private static final class ExecSession implements ContainerStreams.ContainerSession {
    private final Process process;
    private final ContainerStreams.StreamOptions options;

    ExecSession(Process process, ContainerStreams.StreamOptions options) {
      this.process = process;
      this.options = options;
    }

    @Override
    public java.io.OutputStream stdin() {
      return options.stdin() ? process.getOutputStream() : null;
    }

    @Override
    public InputStream stdout() {
      return options.stdout() ? process.getInputStream() : null;
    }

    @Override
    public InputStream stderr() {
      return options.stderr() && !options.tty() ? process.getErrorStream() : null;
    }

    @Override
    public void resize(int width, int height) {
      if (!options.tty() || width <= 0 || height <= 0) {
        return;
      }
      // The terminal is script's: its child has it as stdin. The child may not exist yet.
      for (int i = 0; i < 100 && process.isAlive(); i++) {
        Optional<ProcessHandle> onTerminal =
            process.descendants().filter(ProcessRuntime::readsFromTerminal).findFirst();
        if (onTerminal.isPresent()) {
          try {
            Process stty =
                new ProcessBuilder(
                        "stty",
                        "-F",
                        "/proc/" + onTerminal.get().pid() + "/fd/0",
                        "rows",
                        Integer.toString(height),
                        "cols",
                        Integer.toString(width))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            stty.waitFor(5, TimeUnit.SECONDS);
          } catch (IOException e) {
            log.debug("resize failed: {}", e.toString());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return;
        }
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }

    @Override
    public java.util.concurrent.CompletableFuture<Integer> exitCode() {
      return process.onExit().thenApply(Process::exitValue);
    }

    @Override
    public void close() {
      if (process.isAlive()) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
      }
    }
  }

  private static boolean readsFromTerminal(ProcessHandle h) {
    // By device, not by path: inside the container's chroot and mount namespace the terminal's
    // path as the host reads it is not /dev/pts/N. Pseudo-terminals are majors 136-143.
    try {
      long rdev = (Long) Files.getAttribute(Path.of("/proc/" + h.pid() + "/fd/0"), "unix:rdev");
      long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
      return major >= 136 && major <= 143;
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * {@code kubectl attach}: the container's output (stdout and stderr, which the process runtime
   * writes to one log file) from now on, until it exits. Containers of the process runtime have no
   * stdin to attach to (it is {@code /dev/null}) and no terminal.
   */
  @Override
  public ContainerStreams.StreamTarget attachStream(
      String containerId, ContainerStreams.StreamOptions o) throws RuntimeFailure {
    Container rec = containers.get(containerId);
    if (rec == null || rec.process == null || rec.exited != null || rec.logFile == null) {
      throw new RuntimeFailure(
          "ContainerNotRunning", "container " + containerId + " is not running");
    }
    Process p = rec.process;
    LogTail tail = new LogTail(rec.logFile, () -> rec.exited != null);
    return new ContainerStreams.Session(
        new ContainerStreams.ContainerSession() {
          @Override
          public java.io.OutputStream stdin() {
            return null;
          }

          @Override
          public InputStream stdout() {
            return o.stdout() || o.stderr() ? tail : null;
          }

          @Override
          public InputStream stderr() {
            return null;
          }

          @Override
          public void resize(int width, int height) {}

          @Override
          public java.util.concurrent.CompletableFuture<Integer> exitCode() {
            return p.onExit()
                .thenApply(
                    x -> {
                      ContainerState st = rec.exited;
                      return st == null ? x.exitValue() : st.exitCode();
                    });
          }

          @Override
          public void close() {
            tail.close();
          }
        });
  }

  private static String readLimited(Path f, int max) throws IOException {
    try (InputStream in = Files.newInputStream(f)) {
      return new String(in.readNBytes(max), StandardCharsets.UTF_8);
    }
  }

  @Override
  public void removeSandbox(String sandboxId, Duration grace) {
    List<Container> mine = new ArrayList<>();
    for (Container c : containers.values()) {
      if (c.sandboxId.equals(sandboxId)) {
        mine.add(c);
      }
    }
    for (Container c : mine) {
      stopContainer(c.id, grace);
      removeContainer(c.id);
    }
  }

  @Override
  public void rotateLog(String containerId, Path logFile, Path rotatedTo) throws RuntimeFailure {
    Container rec = containers.get(containerId);
    try {
      if (rec != null && rec.logWriter != null) {
        rec.logWriter.rotate(rotatedTo);
        return;
      }
      // Not written by this runtime now: copy, then truncate in place.
      Files.copy(logFile, rotatedTo, StandardCopyOption.REPLACE_EXISTING);
      try (FileChannel ch = FileChannel.open(logFile, StandardOpenOption.WRITE)) {
        ch.truncate(0);
      }
    } catch (IOException e) {
      throw new RuntimeFailure("LogRotation", "cannot rotate " + logFile + ": " + e, e);
    }
  }

  @Override
  public void close() {
    for (Container c : new ArrayList<>(containers.values())) {
      stopContainer(c.id, Duration.ofSeconds(2));
    }
    spawner.shutdownNow();
  }

  static Path homeOf(SandboxConfig sandbox, ContainerConfig c) {
    return sandbox.podDirectory().resolve("home").resolve(Long.toString(c.runAsUser()));
  }

  static Path workDirOf(SandboxConfig sandbox, ContainerConfig c) {
    return sandbox.podDirectory().resolve("containers").resolve(c.name());
  }

  private String newId() {
    byte[] b = new byte[16];
    random.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  static Optional<Path> which(String tool) {
    for (String d : HOST_PATH.split(":")) {
      Path p = Path.of(d, tool);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  static String readAll(InputStream in) throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }
}
