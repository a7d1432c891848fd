package io.kedge.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.controlplane.ControlPlane;
import io.kedge.controlplane.ControlPlaneOptions;
import io.kedge.pki.CertificateAuthority;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.edge.EdgeIdentity;
import io.kedge.testkit.edge.SimulatedEdge;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Must-show 4 (cloud side): N simulated edges (real WebSocket + mutual TLS, one certificate each,
 * keepalives every 15 s) against one {@code bin/cloudcore}: connections held, cloudcore's heap and
 * RSS, and the time until all are connected again after cloudcore is killed and restarted. The
 * edges reconnect as KubeEdge's do, retrying with jitter.
 */
class CloudHubConnectionsBench {
  static String command() {
    return "mvn -B -ntp -Pbench -pl bench -am verify -Dit.test=CloudHubConnectionsBench"
        + " -Dbench.edges="
        + System.getProperty("bench.edges", "1000,5000");
  }

  record Result(
      int n,
      int held,
      long heapUsedMb,
      long heapCommittedMb,
      long rssMb,
      long connectMs,
      long reconnectMs,
      String load) {}

  @Test
  void connectionsHeapAndReconnect(@TempDir Path tmp) throws Exception {
    List<Integer> sizes = new ArrayList<>();
    for (String s : System.getProperty("bench.edges", "1000,5000").split(",")) {
      sizes.add(Integer.parseInt(s.strip()));
    }
    String external = System.getenv("KEDGE_CONTROL_PLANE_DIR");
    ControlPlane plane =
        external != null && !external.isBlank()
            ? ControlPlane.attach(Path.of(external)).orElseThrow()
            : ControlPlane.start(ControlPlaneOptions.defaults(tmp.resolve("cp")));
    List<Result> results = new ArrayList<>();
    try {
      for (int n : sizes) {
        results.add(run(plane, tmp.resolve("n" + n), n));
        // Written after every size, so a failure at a larger N keeps the smaller ones' numbers.
        report(results);
      }
    } finally {
      if (external == null || external.isBlank()) {
        plane.close();
      }
    }
    for (Result r : results) {
      assertThat(r.held()).isEqualTo(r.n());
    }
  }

  private static void report(List<Result> results) throws IOException {
    List<List<String>> rows = new ArrayList<>();
    for (Result r : results) {
      rows.add(
          List.of(
              Integer.toString(r.n()),
              r.held() + " / " + r.n(),
              r.heapUsedMb() + " MiB",
              r.heapCommittedMb() + " MiB",
              r.rssMb() + " MiB",
              String.format("%.1f s", r.connectMs() / 1000.0),
              String.format("%.1f s", r.reconnectMs() / 1000.0),
              r.load()));
    }
    BenchmarkReport.section("cloudhub-connections", "CloudHub connections", command())
        .line(
            "N simulated edges (`SimulatedEdge`: real WebSocket over mutual TLS 1.3, a certificate"
                + " per node, a keepalive every 15 s) in the benchmark JVM, against one `bin/cloudcore`"
                + " process (`-Xmx1g`, all modules on, as ServiceAccount kubeedge/cloudcore) on the"
                + " local control plane; load generator and cloudcore share the 2 cores.")
        .line("")
        .line(
            "*Held*: connections still open 45 s after the last one connected (longer than"
                + " `keepaliveInterval`). *Heap*: cloudcore's heap after a full GC (`jcmd GC.run`,"
                + " `GC.heap_info`) with all N connected. *Connect*: all N from cold, at most 256"
                + " handshakes in flight. *Reconnect*: from the start of the new cloudcore process"
                + " (after `kill -9`) until all N are connected again; edges retry every 1-3 s with"
                + " jitter.")
        .line("")
        .table(
            List.of(
                "N",
                "held",
                "heap used",
                "heap committed",
                "RSS",
                "connect",
                "reconnect after kill -9",
                "load average at the end"),
            rows)
        .write();
  }

  private Result run(ControlPlane plane, Path dir, int n) throws Exception {
    Files.createDirectories(dir);
    try (CloudCoreProcess cc =
        CloudCoreProcess.start(
            plane,
            dir,
            Map.of("KEDGE_JAVA_OPTS", "-Xmx1g"),
            "modules.cloudHub.nodeLimit=" + (n + 100),
            "modules.cloudHub.keepaliveInterval=40")) {
      CertificateAuthority ca = cc.ca();
      List<EdgeIdentity> ids = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        ids.add(EdgeIdentity.issue(ca, String.format("bench-%05d", i)));
      }
      EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
      Fleet fleet = new Fleet(cc.hubUri(), ids, group);
      try {
        fleet.reconnecting(true);
        // Keepalives run from the first connection on: connecting thousands of edges takes longer
        // than cloudcore's keepalive timeout, and a silent edge would be dropped and reconnect.
        fleet.keepalives();
        long t0 = System.nanoTime();
        fleet.connectAll();
        long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (fleet.open() < n && System.nanoTime() < until) {
          Thread.sleep(200);
        }
        long connectMs = (System.nanoTime() - t0) / 1_000_000;
        Thread.sleep(45_000);
        int held = fleet.open();
        long[] heap = heapAfterGc(cc.process().pid());
        long rss = ControlPlaneBench.rssKb(cc.process().pid()) / 1024;

        cc.kill();
        long t1 = System.nanoTime();
        cc.startProcess(Map.of("KEDGE_JAVA_OPTS", "-Xmx1g"));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (fleet.open() < n && System.nanoTime() < deadline) {
          Thread.sleep(200);
        }
        long reconnectMs = (System.nanoTime() - t1) / 1_000_000;
        assertThat(fleet.open()).as("all edges back").isEqualTo(n);
        return new Result(
            n, held, heap[0], heap[1], rss, connectMs, reconnectMs, BenchmarkReport.loadAverage());
      } finally {
        fleet.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
      }
    }
  }

  /** N edges that (when told) reconnect after losing the cloud. */
  static final class Fleet implements AutoCloseable {
    private final URI hub;
    private final List<EdgeIdentity> ids;
    private final EventLoopGroup group;
    private final Map<Integer, SimulatedEdge> edges = new ConcurrentHashMap<>();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicReference<Boolean> reconnect = new AtomicReference<>(false);
    private volatile boolean closing;

    Fleet(URI hub, List<EdgeIdentity> ids, EventLoopGroup group) {
      this.hub = hub;
      this.ids = ids;
      this.group = group;
    }

    void reconnecting(boolean on) {
      reconnect.set(on);
    }

    int open() {
      return open.get();
    }

    void connectAll() throws InterruptedException {
      Semaphore inFlight = new Semaphore(256);
      for (int i = 0; i < ids.size(); i++) {
        inFlight.acquire();
        connect(i, inFlight);
      }
      inFlight.acquire(256);
      inFlight.release(256);
    }

    private void connect(int i, Semaphore permit) {
      EdgeIdentity id = ids.get(i);
      SimulatedEdge.Options o =
          SimulatedEdge.Options.defaults(id.node())
              .withGroup(group)
              .withKeepHistory(false)
              .withConnectTimeout(Duration.ofSeconds(60));
      SimulatedEdge.connectAsync(hub, id, o)
          .whenComplete(
              (e, err) -> {
                if (permit != null) {
                  permit.release();
                }
                if (err != null) {
                  retry(i);
                  return;
                }
                edges.put(i, e);
                open.incrementAndGet();
                e.closeFuture()
                    .whenComplete(
                        (v, x) -> {
                          open.decrementAndGet();
                          edges.remove(i, e);
                          retry(i);
                        });
              });
    }

    private void retry(int i) {
      if (closing || !reconnect.get()) {
        return;
      }
      long delay = 1000 + ThreadLocalRandom.current().nextLong(2000);
      group.schedule(() -> connect(i, null), delay, TimeUnit.MILLISECONDS);
    }

    void keepalives() {
      group.scheduleAtFixedRate(
          () -> {
            for (SimulatedEdge e : edges.values()) {
              if (e.isOpen()) {
                e.keepalive();
              }
            }
          },
          15,
          15,
          TimeUnit.SECONDS);
    }

    @Override
    public void close() {
      closing = true;
      for (SimulatedEdge e : edges.values()) {
        e.closeAbruptly();
      }
    }
  }

  static long[] heapAfterGc(long pid) throws IOException, InterruptedException {
    jcmd(pid, "GC.run");
    String info = jcmd(pid, "GC.heap_info");
    // e.g. " def new generation   total 78656K, used 1234K" ... or G1: "garbage-first heap   total
    // 262144K, used 54321K"
    long used = 0;
    long total = 0;
    for (String l : info.lines().toList()) {
      var m = java.util.regex.Pattern.compile("total (\\d+)K, used (\\d+)K").matcher(l);
      if (m.find() && !l.contains("Metaspace") && !l.contains("class space")) {
        if (l.contains("garbage-first heap")) {
          return new long[] {Long.parseLong(m.group(2)) / 1024, Long.parseLong(m.group(1)) / 1024};
        }
        total += Long.parseLong(m.group(1));
        used += Long.parseLong(m.group(2));
      }
    }
    return new long[] {used / 1024, total / 1024};
  }

  private static String jcmd(long pid, String cmd) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("jcmd", Long.toString(pid), cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor(60, TimeUnit.SECONDS);
    return out;
  }
}
