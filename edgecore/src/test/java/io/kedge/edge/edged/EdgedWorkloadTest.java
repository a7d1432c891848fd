package io.kedge.edge.edged;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.testkit.Prerequisites;
import java.math.BigDecimal;
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
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Probes and resource limits with the real process runtime: readiness over HTTP against the
 * container's own server, liveness (exec) restarting the container, a startup probe holding both
 * back, TCP probes, a memory limit the kernel enforces ({@code OOMKilled}), a CPU limit that holds
 * a busy loop to its quota.
 */
class EdgedWorkloadTest {
  @TempDir Path tmp;
  Path root;
  final EdgedTest.FakeObjects objects = new EdgedTest.FakeObjects();
  final EdgedTest.RecordingSink sink = new EdgedTest.RecordingSink();
  Edged edged;
  Optional<Cgroups> cgroups;

  @BeforeEach
  void setUp() throws Exception {
    Prerequisites.require(
        ProcessRuntime.unavailableReason().isEmpty(),
        "root and util-linux: " + ProcessRuntime.unavailableReason().orElse(""));
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    root = tmp.resolve("pods");
    objects.configMaps.put(
        "ns1/kube-root-ca.crt", EdgedTest.cm("kube-root-ca.crt", Map.of("ca.crt", "---CA---")));
    cgroups = Cgroups.detect();
    EdgedSettings settings =
        new EdgedSettings(
            new NodeInfo(
                "edge-w-" + ProcessHandle.current().pid(),
                "127.0.0.1",
                BigDecimal.valueOf(2),
                BigDecimal.valueOf(4L << 30),
                BigDecimal.valueOf(100L << 30)),
            root,
            Optional.empty(),
            new RestartBackoff(
                Duration.ofMillis(200), Duration.ofMillis(800), Duration.ofMinutes(10)),
            Duration.ofSeconds(60),
            Duration.ofMillis(300),
            Duration.ofSeconds(5),
            1 << 20,
            Duration.ofSeconds(10),
            EdgedSettings.NOBODY);
    edged =
        new Edged(
            settings,
            new ProcessRuntime(root, Clock.systemUTC(), cgroups),
            objects,
            new EdgedTest.FakeTokens(),
            sink,
            Clock.systemUTC(),
            cgroups);
    edged.start();
  }

  @AfterEach
  void tearDown() {
    if (edged != null) {
      edged.close();
    }
  }

  JsonNode awaitStatus(String pod, Predicate<JsonNode> ok) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      last = sink.status(pod);
      if (last != null && ok.test(last)) {
        return last;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("pod " + pod + " never reached the expected status; last: " + last);
  }

  static JsonNode c0(JsonNode status) {
    return status.path("containerStatuses").path(0);
  }

  static String condition(JsonNode status, String type) {
    for (JsonNode c : status.path("conditions")) {
      if (c.path("type").asString("").equals(type)) {
        return c.path("status").asString("");
      }
    }
    return "";
  }

  @Test
  void readinessOverHttpTurnsTheContainerAndPodReady() throws Exception {
    int port = freePort();
    // The server answers 404 for /ready until the container creates the file.
    edged.podUpserted(
        EdgedTest.pod(
            "web",
            """
            containers:
            - name: c
              image: busybox
              command: [/bin/sh, -c]
              args:
              - |
                mkdir www && python3 -m http.server --bind 127.0.0.1 --directory www %d &
                sleep 3; echo ok > www/ready; wait
              readinessProbe:
                httpGet: {path: /ready, port: %d}
                periodSeconds: 1
                failureThreshold: 1
            """
                .formatted(port, port)));
    JsonNode running =
        awaitStatus("web", s -> c0(s).path("state").has("running") && s.path("podIP").isString());
    assertThat(c0(running).path("ready").asBoolean())
        .as("not ready before the probe passes")
        .isFalse();
    assertThat(condition(running, "Ready")).isEqualTo("False");
    JsonNode ready = awaitStatus("web", s -> c0(s).path("ready").asBoolean());
    assertThat(condition(ready, "Ready")).isEqualTo("True");
    assertThat(condition(ready, "ContainersReady")).isEqualTo("True");
    assertThat(sink.events("web", "Unhealthy"))
        .as("the failures before the file existed")
        .anyMatch(m -> m.equals("Readiness probe failed: HTTP probe failed with statuscode: 404"));
  }

  @Test
  void aFailingLivenessProbeRestartsTheContainer() throws Exception {
    edged.podUpserted(
        EdgedTest.pod(
            "live",
            """
            terminationGracePeriodSeconds: 1
            containers:
            - name: c
              image: busybox
              command: [/bin/sh, -c, 'touch alive; sleep 2; rm alive; sleep 600']
              livenessProbe:
                exec: {command: [cat, alive]}
                periodSeconds: 1
                failureThreshold: 2
            """));
    JsonNode s = awaitStatus("live", st -> c0(st).path("restartCount").asInt() >= 2);
    assertThat(c0(s).path("lastState").path("terminated").path("exitCode").asInt())
        .as("killed")
        .isIn(137, 143);
    assertThat(sink.events("live", "Killing"))
        .contains("Container c failed liveness probe, will be restarted");
    assertThat(sink.events("live", "Unhealthy"))
        .anyMatch(m -> m.startsWith("Liveness probe failed: cat: ") && m.contains("alive"));
  }

  @Test
  void aStartupProbeHoldsReadinessAndLivenessBack() throws Exception {
    int port = freePort();
    edged.podUpserted(
        EdgedTest.pod(
            "slow",
            """
            containers:
            - name: c
              image: busybox
              command: [/bin/sh, -c, 'sleep 3; touch started; exec python3 -m http.server --bind 127.0.0.1 %d']
              startupProbe:
                exec: {command: [test, -f, started]}
                periodSeconds: 1
                failureThreshold: 30
              readinessProbe:
                tcpSocket: {port: %d}
                periodSeconds: 1
              livenessProbe:
                exec: {command: [test, -f, started]}
                periodSeconds: 1
                failureThreshold: 1
            """
                .formatted(port, port)));
    JsonNode early = awaitStatus("slow", st -> c0(st).path("state").has("running"));
    assertThat(c0(early).path("started").asBoolean()).isFalse();
    assertThat(c0(early).path("ready").asBoolean()).isFalse();
    JsonNode ready = awaitStatus("slow", st -> c0(st).path("ready").asBoolean());
    assertThat(c0(ready).path("started").asBoolean()).isTrue();
    assertThat(c0(ready).path("restartCount").asInt())
        .as("liveness (which would fail before the file exists) waited for startup")
        .isZero();
    assertThat(sink.events("slow", "Unhealthy"))
        .anyMatch(m -> m.startsWith("Startup probe failed"));
    assertThat(sink.events("slow", "Unhealthy")).noneMatch(m -> m.startsWith("Liveness"));
  }

  @Test
  void aContainerOverItsMemoryLimitIsOomKilled() throws Exception {
    Prerequisites.require(cgroups.isPresent(), "a writable cgroup file system");
    edged.podUpserted(
        EdgedTest.pod(
            "hog",
            """
            restartPolicy: Never
            containers:
            - name: c
              image: busybox
              command: [/bin/sh, -c, 'a=x; while :; do a="$a$a"; done']
              resources:
                limits: {memory: 32Mi}
            """));
    JsonNode s = awaitStatus("hog", st -> c0(st).path("state").has("terminated"));
    JsonNode t = c0(s).path("state").path("terminated");
    assertThat(t.path("reason").asString()).isEqualTo("OOMKilled");
    assertThat(t.path("exitCode").asInt()).isEqualTo(137);
    assertThat(s.path("phase").asString()).isEqualTo("Failed");
  }

  @Test
  void aCpuLimitHoldsABusyLoopToItsQuota() throws Exception {
    Prerequisites.require(cgroups.isPresent(), "a writable cgroup file system");
    String marker = "kedge-busy-" + ProcessHandle.current().pid();
    edged.podUpserted(
        EdgedTest.pod(
            "busy",
            """
            containers:
            - name: c
              image: busybox
              command: [/bin/sh, -c, 'while :; do :; done', %s]
              resources:
                limits: {cpu: 200m}
            """
                .formatted(marker)));
    awaitStatus("busy", st -> c0(st).path("state").has("running"));
    long pid = CpuUse.find(marker);
    long throttledBefore = CpuUse.throttledPeriods(pid);
    double cores = CpuUse.ofProcess(pid, Duration.ofSeconds(4));
    long throttled = CpuUse.throttledPeriods(pid) - throttledBefore;
    assertThat(cores)
        .as("cores used by a loop limited to 200m")
        .isLessThan(0.25)
        .isGreaterThan(0.02);
    // A loaded host may hold an unlimited loop as low: the kernel says the quota did it.
    assertThat(throttled).as("CFS periods in which the quota stopped the loop").isGreaterThan(10);
  }

  static int freePort() throws Exception {
    try (var s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** The CPU a process uses, from the kernel's accounting ({@code /proc/PID/stat}). */
  static final class CpuUse {
    static double ofProcess(long pid, Duration over) throws Exception {
      long t0 = System.nanoTime();
      long c0 = ticks(pid);
      Thread.sleep(over.toMillis());
      long c1 = ticks(pid);
      double seconds = (System.nanoTime() - t0) / 1e9;
      return (c1 - c0) / 100.0 / seconds; // USER_HZ is 100 on Linux
    }

    static long find(String marker) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        List<Long> found = new ArrayList<>();
        ProcessHandle.allProcesses()
            .filter(h -> h.info().commandLine().orElse("").contains(marker))
            // the loop itself, not the launcher or wrappers whose arguments carry it
            .filter(
                h -> {
                  String[] a = h.info().arguments().orElse(new String[0]);
                  return a.length > 1 && a[0].equals("-c") && a[1].startsWith("while");
                })
            .forEach(h -> found.add(h.pid()));
        if (!found.isEmpty()) {
          return found.get(0);
        }
        Thread.sleep(50);
      }
      throw new AssertionError("no process with " + marker);
    }

    /** {@code nr_throttled} of the process's CPU cgroup (v1 {@code cpu} hierarchy, or v2). */
    static long throttledPeriods(long pid) throws Exception {
      for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"))) {
        String[] f = l.split(":", 3);
        Path stat = null;
        if (List.of(f[1].split(",")).contains("cpu")) {
          stat = Path.of("/sys/fs/cgroup/cpu" + f[2], "cpu.stat");
        } else if (f[1].isEmpty() && Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"))) {
          stat = Path.of("/sys/fs/cgroup" + f[2], "cpu.stat");
        }
        if (stat != null && Files.exists(stat)) {
          for (String s : Files.readAllLines(stat)) {
            if (s.startsWith("nr_throttled ")) {
              return Long.parseLong(s.substring("nr_throttled ".length()).strip());
            }
          }
        }
      }
      return 0;
    }

    static long ticks(long pid) throws Exception {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime + stime
    }
  }
}
