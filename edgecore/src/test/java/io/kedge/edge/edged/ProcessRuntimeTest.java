package io.kedge.edge.edged;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.testkit.Prerequisites;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real processes: namespaces, mounts, users and exit codes as pods see them. */
class ProcessRuntimeTest {
  static final String SA = "/var/run/secrets/kubernetes.io/serviceaccount";

  @TempDir Path tmp;
  Path pods;
  Path podDir;
  ProcessRuntime runtime;
  SandboxConfig sandbox;

  @BeforeEach
  void setUp() throws Exception {
    Prerequisites.require(
        ProcessRuntime.unavailableReason().isEmpty(),
        "root and util-linux: " + ProcessRuntime.unavailableReason().orElse(""));
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    pods = tmp.resolve("pods");
    PodDirectories.ensure(pods, "rwx------", 0, 0);
    podDir = PodDirectories.ensure(pods.resolve("uid-1"), "rwx--x--x", 0, 0);
    runtime = new ProcessRuntime(pods, Clock.systemUTC());
    sandbox =
        new SandboxConfig(
            "ns1",
            "p1",
            "uid-1",
            "edge-1",
            podDir,
            podDir.resolve("logs"),
            Map.of(),
            Map.of(),
            true,
            "");
  }

  @AfterEach
  void tearDown() {
    if (runtime != null) {
      runtime.close();
    }
  }

  ContainerConfig container(String name, List<String> command, List<ContainerConfig.Mount> mounts) {
    return new ContainerConfig(
        name,
        "ignored",
        command,
        true,
        List.of(),
        List.of(new ContainerConfig.EnvVar("GREETING", "hello $(NOT_EXPANDED_HERE)")),
        mounts,
        "",
        65534,
        65534,
        List.of(),
        name + "/0.log",
        0,
        ContainerResources.NONE,
        "");
  }

  ContainerState awaitExit(String id) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      Optional<ContainerState> s = runtime.containerState(id);
      if (s.isPresent() && s.get().exited()) {
        return s.get();
      }
      Thread.sleep(20);
    }
    throw new AssertionError("container " + id + " did not exit");
  }

  String logOf(String name) throws Exception {
    return output(podDir.resolve("logs").resolve(name).resolve("0.log"));
  }

  /** What the program wrote, from its log of CRI lines ({@code <time> stdout F <text>}). */
  static String output(Path log) throws Exception {
    StringBuilder out = new StringBuilder();
    for (String l : Files.readAllLines(log)) {
      assertThat(l).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z stdout [FP] .*");
      String[] f = l.split(" ", 4);
      out.append(f[3]).append(f[2].equals("F") ? "\n" : "");
    }
    return out.toString();
  }

  @Test
  void anUnprivilegedContainerRunsWhenEdgedLivesUnderAPrivateDirectory() throws Exception {
    // As under /root (a quickstart in the home directory) or a private temporary directory.
    Path home = PodDirectories.ensure(tmp.resolve("home"), "rwx------", 0, 0);
    Files.writeString(home.resolve("private"), "not for pods");
    Path privatePods = PodDirectories.ensure(home.resolve("pods"), "rwx------", 0, 0);
    Path dir = PodDirectories.ensure(privatePods.resolve("uid-2"), "rwx--x--x", 0, 0);
    ProcessRuntime r = new ProcessRuntime(privatePods, Clock.systemUTC());
    try {
      SandboxConfig sb =
          new SandboxConfig(
              "ns1",
              "p2",
              "uid-2",
              "edge-1",
              dir,
              dir.resolve("logs"),
              Map.of(),
              Map.of(),
              true,
              "");
      String id =
          r.startContainer(
              "uid-2",
              sb,
              container(
                  "c1",
                  List.of("/bin/sh", "-c", "echo uid=$(id -u) pwd=$(pwd); ls " + home),
                  List.of()));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      Optional<ContainerState> s = Optional.empty();
      while (System.nanoTime() < deadline && !(s.isPresent() && s.get().exited())) {
        Thread.sleep(20);
        s = r.containerState(id);
      }
      String out = output(dir.resolve("logs/c1/0.log"));
      assertThat(s).as(out).hasValueSatisfying(st -> assertThat(st.exitCode()).isZero());
      assertThat(out).contains("uid=65534 pwd=" + dir.toRealPath().resolve("containers/c1"));
      // the way to the pods is open; nothing else of the private directory shows
      assertThat(out.lines()).contains("pods").doesNotContain("private");
    } finally {
      r.close();
    }
  }

  @Test
  void containerSeesItsVolumesOnlyItsEnvironmentAndRunsAsItsUser() throws Exception {
    Path token = PodDirectories.ensure(podDir.resolve("volumes/sa"), "rwxr-xr-x", 0, 0);
    Files.writeString(token.resolve("token"), "tok-123");
    Files.writeString(token.resolve("namespace"), "ns1");
    Path cfg = PodDirectories.ensure(podDir.resolve("volumes/cfg"), "rwxr-xr-x", 0, 0);
    Files.writeString(cfg.resolve("greeting"), "hi from configmap");
    Path scratch = PodDirectories.ensure(podDir.resolve("volumes/scratch"), "rwxrwxrwx", 0, 0);
    boolean hostHadSecrets = Files.exists(Path.of("/run/secrets"));
    String script =
        String.join(
            "; ",
            "echo uid=$(id -u) gid=$(id -g)",
            "echo pwd=$(pwd)",
            "echo home=$HOME",
            "env | sort | sed 's/^/env:/'",
            "echo token=$(cat " + SA + "/token)",
            "(echo x > " + SA + "/x) 2>/dev/null && echo sa=writable || echo sa=readonly",
            "echo cfg=$(cat /kedge-test-cfg/greeting)",
            "echo data > /kedge-test-data/out && echo scratch=writable",
            "ls " + pods + " | sed 's/^/pods:/'",
            "echo pid1=$(tr '\\0' ' ' < /proc/1/cmdline)");
    String id =
        runtime.startContainer(
            "uid-1",
            sandbox,
            container(
                "c1",
                List.of("/bin/sh", "-c", script),
                List.of(
                    new ContainerConfig.Mount(token, SA, true),
                    new ContainerConfig.Mount(cfg, "/kedge-test-cfg", true),
                    new ContainerConfig.Mount(scratch, "/kedge-test-data", false))));
    ContainerState s = awaitExit(id);
    String out = logOf("c1");
    assertThat(s.exitCode()).as(out).isZero();
    assertThat(s.reason()).isEqualTo("Completed");
    assertThat(out).contains("uid=65534 gid=65534");
    assertThat(out).contains("pwd=" + podDir.resolve("containers/c1"));
    assertThat(out).contains("home=" + podDir.resolve("home/65534"));
    assertThat(out).contains("token=tok-123", "sa=readonly", "cfg=hi from configmap");
    assertThat(out).contains("scratch=writable");
    assertThat(Files.readString(scratch.resolve("out"))).isEqualTo("data\n");
    // Nothing of edgecore's environment leaks in; only the pod's variables plus PATH and HOME.
    List<String> envNames = new ArrayList<>();
    for (String l : out.split("\n")) {
      if (l.startsWith("env:")) {
        envNames.add(l.substring(4, l.indexOf('=')));
      }
    }
    assertThat(envNames).containsOnly("GREETING", "HOME", "PATH", "PWD"); // PWD: set by sh
    assertThat(out).contains("env:GREETING=hello $(NOT_EXPANDED_HERE)");
    // Only the pod's own directory is visible under Edged's root directory.
    assertThat(out).contains("pods:uid-1").doesNotContain("pods:.process-runtime");
    assertThat(out).contains("pid1=/bin/sh " + pods); // own PID namespace: the launcher is 1
    // The host did not get the mount points.
    assertThat(Files.exists(Path.of("/kedge-test-cfg"))).isFalse();
    assertThat(Files.exists(Path.of("/run/secrets"))).isEqualTo(hostHadSecrets);
  }

  @Test
  void exitCodesAndMissingCommands() throws Exception {
    String failing =
        runtime.startContainer(
            "uid-1",
            sandbox,
            container("c2", List.of("/bin/sh", "-c", "echo bye; exit 3"), List.of()));
    ContainerState s = awaitExit(failing);
    assertThat(s.exitCode()).isEqualTo(3);
    assertThat(s.reason()).isEqualTo("Error");
    assertThat(logOf("c2")).isEqualTo("bye\n");

    String missing =
        runtime.startContainer(
            "uid-1", sandbox, container("c3", List.of("no-such-command-xyz"), List.of()));
    s = awaitExit(missing);
    assertThat(s.reason()).isEqualTo("StartError");
    assertThat(s.exitCode()).isEqualTo(128);
    assertThat(s.message()).contains("no-such-command-xyz").contains("not found");
  }

  @Test
  void stopForwardsSigtermAndKillsAfterTheGracePeriod() throws Exception {
    String polite =
        runtime.startContainer(
            "uid-1",
            sandbox,
            container(
                "c4",
                List.of(
                    "/bin/sh",
                    "-c",
                    "trap 'echo got-term; exit 0' TERM; echo ready; while :; do sleep 0.1; done"),
                List.of()));
    waitForLog("c4", "ready");
    runtime.stopContainer(polite, Duration.ofSeconds(20));
    ContainerState s = runtime.containerState(polite).orElseThrow();
    assertThat(s.exited()).isTrue();
    assertThat(logOf("c4")).contains("got-term");
    assertThat(s.exitCode()).isZero();

    String stubborn =
        runtime.startContainer(
            "uid-1",
            sandbox,
            container(
                "c5",
                List.of("/bin/sh", "-c", "trap '' TERM; echo ready; sleep 600 & wait; sleep 600"),
                List.of()));
    waitForLog("c5", "ready");
    runtime.stopContainer(stubborn, Duration.ofMillis(300));
    s = runtime.containerState(stubborn).orElseThrow();
    assertThat(s.exitCode()).isEqualTo(137);
    // The whole namespace went: no sleep left behind.
    Thread.sleep(200);
    assertThat(
            ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains("sleep 600"))
                .count())
        .isZero();
  }

  void waitForLog(String name, String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      Path f = podDir.resolve("logs").resolve(name).resolve("0.log");
      if (Files.exists(f) && Files.readString(f).contains(text)) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError(name + " never logged " + text);
  }
}
