package io.kedge.edge.edged;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The kubelet's probe semantics, with exec probes answered by a script. */
class ContainerProbesTest {
  final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  final java.util.concurrent.ExecutorService workers = Executors.newCachedThreadPool();
  final List<String> failures = new CopyOnWriteArrayList<>();
  final AtomicInteger changes = new AtomicInteger();

  @AfterEach
  void stop() {
    timer.shutdownNow();
    workers.shutdownNow();
  }

  /** Answers exec probes from a queue per command (exit 0 = success); the last answer repeats. */
  static final class ScriptedRuntime extends PodWorkerTest.FakeRuntime {
    final java.util.Map<String, ConcurrentLinkedQueue<Integer>> answers =
        new java.util.concurrent.ConcurrentHashMap<>();
    final java.util.Map<String, Integer> last = new java.util.concurrent.ConcurrentHashMap<>();
    final java.util.Map<String, AtomicInteger> calls =
        new java.util.concurrent.ConcurrentHashMap<>();

    /** Every exec, in the order the probes ran them. */
    final List<String> order = new CopyOnWriteArrayList<>();

    void answer(String cmd, Integer... codes) {
      answers.put(cmd, new ConcurrentLinkedQueue<>(List.of(codes)));
    }

    int calls(String cmd) {
      return calls.computeIfAbsent(cmd, k -> new AtomicInteger()).get();
    }

    @Override
    public ExecResult exec(String containerId, List<String> command, Duration timeout) {
      String cmd = command.get(0);
      calls.computeIfAbsent(cmd, k -> new AtomicInteger()).incrementAndGet();
      order.add(cmd);
      Integer code = answers.getOrDefault(cmd, new ConcurrentLinkedQueue<>()).poll();
      if (code == null) {
        code = last.getOrDefault(cmd, 0);
      }
      last.put(cmd, code);
      return new ExecResult(code, code == 0 ? "" : cmd + " said no", false);
    }
  }

  final ScriptedRuntime runtime = new ScriptedRuntime();

  static Optional<ProbeSpec> exec(ProbeSpec.Type type, String cmd, int success, int failure) {
    return Optional.of(
        new ProbeSpec(
            type,
            new ProbeSpec.Exec(List.of(cmd)),
            Duration.ZERO,
            Duration.ofMillis(1000),
            Duration.ofSeconds(1),
            success,
            failure,
            Optional.empty()));
  }

  ContainerProbes probes(
      Optional<ProbeSpec> startup, Optional<ProbeSpec> readiness, Optional<ProbeSpec> liveness) {
    ContainerProbes p =
        new ContainerProbes(
            "c1",
            Instant.now(),
            startup,
            readiness,
            liveness,
            new Prober(runtime),
            () -> "127.0.0.1",
            timer,
            workers,
            Clock.systemUTC(),
            new ContainerProbes.Listener() {
              @Override
              public void failed(ProbeSpec spec, String output) {
                failures.add(spec.type().label + ": " + output);
              }

              @Override
              public void changed() {
                changes.incrementAndGet();
              }
            });
    p.start();
    return p;
  }

  static void await(String what, BooleanSupplier ok) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!ok.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("never: " + what);
      }
      Thread.sleep(10);
    }
  }

  @Test
  void readinessNeedsSuccessThresholdSuccessesAndFailureThresholdFailures() throws Exception {
    runtime.answer("ready", 1, 0, 0, 1, 1, 1);
    ContainerProbes p =
        probes(Optional.empty(), exec(ProbeSpec.Type.READINESS, "ready", 2, 3), Optional.empty());
    assertThat(p.started()).as("no startup probe: started").isTrue();
    assertThat(p.ready()).as("readiness starts out failed").isFalse();
    await("ready after two successes", p::ready);
    assertThat(runtime.calls("ready")).isGreaterThanOrEqualTo(3);
    await("unready after three failures", () -> !p.ready());
    assertThat(runtime.calls("ready")).isGreaterThanOrEqualTo(6);
    assertThat(failures).contains("Readiness: ready said no");
    assertThat(p.kill()).as("readiness never kills").isEmpty();
    p.stop();
  }

  @Test
  void startupHoldsLivenessAndReadinessBackThenLivenessFailureAsksForAKill() throws Exception {
    runtime.answer("boot", 1, 1, 0);
    runtime.answer("live", 1); // would kill at once if it ran before startup succeeded
    runtime.answer("ready", 0);
    ContainerProbes p =
        probes(
            exec(ProbeSpec.Type.STARTUP, "boot", 1, 10),
            exec(ProbeSpec.Type.READINESS, "ready", 1, 1),
            exec(ProbeSpec.Type.LIVENESS, "live", 1, 1));
    assertThat(p.started()).isFalse();
    await("started", p::started);
    assertThat(runtime.calls("boot")).isEqualTo(3);
    // liveness may run as soon as the third startup probe succeeded, but never before it
    List<String> order = List.copyOf(runtime.order);
    int thirdBoot = -1;
    for (int i = 0, boots = 0; i < order.size(); i++) {
      if (order.get(i).equals("boot") && ++boots == 3) {
        thirdBoot = i;
      }
    }
    assertThat(order.subList(0, thirdBoot))
        .as("probes before startup succeeded")
        .containsOnly("boot");
    await("kill asked", () -> p.kill().isPresent());
    assertThat(p.kill().get().spec().type()).isEqualTo(ProbeSpec.Type.LIVENESS);
    int liveCalls = runtime.calls("live");
    Thread.sleep(2500);
    assertThat(runtime.calls("live"))
        .as("a failed liveness probe stops probing")
        .isEqualTo(liveCalls);
    assertThat(runtime.calls("boot")).as("startup is not probed once it succeeded").isEqualTo(3);
    p.stop();
  }

  @Test
  void aStartupProbeThatNeverSucceedsAsksForAKill() throws Exception {
    runtime.answer("boot", 1);
    ContainerProbes p =
        probes(exec(ProbeSpec.Type.STARTUP, "boot", 1, 2), Optional.empty(), Optional.empty());
    await("kill asked", () -> p.kill().isPresent());
    assertThat(p.kill().get().spec().type()).isEqualTo(ProbeSpec.Type.STARTUP);
    assertThat(p.started()).isFalse();
    assertThat(p.ready()).isFalse();
    p.stop();
  }

  @Test
  void httpAndTcpProbesSayWhatTheKubeletSays() throws Exception {
    try (var server = new java.net.ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
      int port = server.getLocalPort();
      Thread t =
          new Thread(
              () -> {
                for (int status : new int[] {503, 302}) {
                  try (var s = server.accept()) {
                    var in =
                        new java.io.BufferedReader(
                            new java.io.InputStreamReader(s.getInputStream()));
                    String line;
                    StringBuilder req = new StringBuilder();
                    while ((line = in.readLine()) != null && !line.isEmpty()) {
                      req.append(line).append('\n');
                    }
                    requests.add(req.toString());
                    s.getOutputStream()
                        .write(
                            ("HTTP/1.1 " + status + " X\r\nContent-Length: 0\r\n\r\n").getBytes());
                  } catch (java.io.IOException e) {
                    return;
                  }
                }
              });
      t.start();
      ProbeSpec.HttpGet get =
          new ProbeSpec.HttpGet(
              "HTTP", "", port, "/healthz", List.of(java.util.Map.entry("X-Probe", "yes")));
      Prober.Result bad = Prober.http(get, "127.0.0.1", Duration.ofSeconds(5));
      assertThat(bad.success()).isFalse();
      assertThat(bad.output()).isEqualTo("HTTP probe failed with statuscode: 503");
      assertThat(Prober.http(get, "127.0.0.1", Duration.ofSeconds(5)).success())
          .as("a redirect counts as success")
          .isTrue();
      t.join(5000);
      assertThat(requests.get(0))
          .startsWith("GET /healthz HTTP/1.1\n")
          .contains("Host: 127.0.0.1:" + port)
          .contains("User-Agent: kube-probe/1.20")
          .contains("X-Probe: yes");
      assertThat(Prober.tcp("127.0.0.1", port, Duration.ofSeconds(2)).success()).isTrue();
    }
    int closed;
    try (var s = new java.net.ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    Prober.Result refused = Prober.tcp("127.0.0.1", closed, Duration.ofSeconds(2));
    assertThat(refused.output())
        .isEqualTo("dial tcp 127.0.0.1:" + closed + ": connect: connection refused");
    Prober.Result httpRefused =
        Prober.http(
            new ProbeSpec.HttpGet("HTTP", "", closed, "/", List.of()),
            "127.0.0.1",
            Duration.ofSeconds(2));
    assertThat(httpRefused.output())
        .isEqualTo(
            "Get \"http://127.0.0.1:"
                + closed
                + "/\": dial tcp 127.0.0.1:"
                + closed
                + ": connect: connection refused");
  }

  final List<String> requests = new CopyOnWriteArrayList<>();

  @Test
  void probeSpecsTakeTheKubeletsDefaultsAndNamedPorts() throws Exception {
    var c =
        io.kedge.protocol.Json.parse(
            "{\"name\":\"web\",\"ports\":[{\"name\":\"http\",\"containerPort\":8080}],"
                + "\"readinessProbe\":{\"httpGet\":{\"path\":\"ready\",\"port\":\"http\"}},"
                + "\"livenessProbe\":{\"tcpSocket\":{\"port\":9090},\"periodSeconds\":3,"
                + "\"failureThreshold\":5,\"initialDelaySeconds\":7,\"timeoutSeconds\":2}}");
    ProbeSpec r = ProbeSpec.of(c, ProbeSpec.Type.READINESS).orElseThrow();
    assertThat(r.period()).isEqualTo(Duration.ofSeconds(10));
    assertThat(r.timeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(r.successThreshold()).isEqualTo(1);
    assertThat(r.failureThreshold()).isEqualTo(3);
    assertThat(r.action()).isEqualTo(new ProbeSpec.HttpGet("HTTP", "", 8080, "/ready", List.of()));
    ProbeSpec l = ProbeSpec.of(c, ProbeSpec.Type.LIVENESS).orElseThrow();
    assertThat(l.initialDelay()).isEqualTo(Duration.ofSeconds(7));
    assertThat(l.period()).isEqualTo(Duration.ofSeconds(3));
    assertThat(l.failureThreshold()).isEqualTo(5);
    assertThat(l.action()).isEqualTo(new ProbeSpec.TcpSocket("", 9090));
    assertThat(ProbeSpec.of(c, ProbeSpec.Type.STARTUP)).isEmpty();
    var bad =
        io.kedge.protocol.Json.parse(
            "{\"name\":\"web\",\"readinessProbe\":{\"httpGet\":{\"port\":\"nope\"}}}");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ProbeSpec.of(bad, ProbeSpec.Type.READINESS))
        .isInstanceOf(ContainerConfigException.class)
        .hasMessageContaining("no port named \"nope\"");
  }
}
