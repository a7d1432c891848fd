package io.kedge.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.pki.CertificateAuthority;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.application.ApplicationStatus;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.Sources;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.Waits;
import io.kedge.testkit.edge.EdgeIdentity;
import io.kedge.testkit.edge.SimulatedEdge;
import io.kedge.testkit.junit.WithControlPlane;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 18: K = 1, 2, 3 {@code bin/cloudcore} processes serving N simulated edges in all (real
 * WebSocket + mutual TLS, one certificate each), every edge held by one of them and its session
 * recorded in a Lease. Per cloudcore: RSS and heap after a full GC. Fan-out: every edge watches
 * Services in one namespace through the DynamicController of the cloudcore that holds it; one
 * write, the time until it reaches each edge. Failover: cloudcore 0 gets {@code kill -9}; the time
 * until all its edges are connected to (and held by) a survivor. Edges reconnect to the next
 * address after 1-3 s with jitter, as edgecore does.
 */
@WithControlPlane
class CloudCoreGroupBench {
  private static final Logger LOG = LoggerFactory.getLogger(CloudCoreGroupBench.class);
  private static final int WRITES = 10;

  static String command() {
    return "mvn -B -ntp -Pbench -pl bench -am verify -Dit.test=CloudCoreGroupBench"
        + " -Dbench.edges="
        + edges()
        + " -Dbench.clouds="
        + System.getProperty("bench.clouds", "1,2,3");
  }

  static int edges() {
    return Integer.getInteger("bench.edges", 3000);
  }

  @TempDir Path tmp;

  record Result(
      int k,
      int n,
      List<long[]> memory,
      long connectMs,
      long fanP50,
      long fanP99,
      long fanMax,
      int moved,
      long reserveMs,
      double steadyPerSecond,
      double steadyLeaseWritesPerSecond,
      long failoverLeaseWrites,
      String load) {}

  /**
   * Requests the apiserver served since it started, from its {@code /metrics}: {@code [all
   * requests, writes (create/update/patch/delete) of Leases]}.
   */
  static long[] apiserverRequests(ControlPlane plane) throws Exception {
    java.net.http.HttpClient http =
        java.net.http.HttpClient.newBuilder().sslContext(plane.adminSslContext()).build();
    String text =
        http.send(
                java.net.http.HttpRequest.newBuilder(URI.create(plane.apiserverUrl() + "/metrics"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString())
            .body();
    long all = 0;
    long leaseWrites = 0;
    for (String line : text.split("\n")) {
      if (!line.startsWith("apiserver_request_total{")) {
        continue;
      }
      long v = (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).trim());
      all += v;
      if (line.contains("resource=\"leases\"")
          && line.matches(".*verb=\"(CREATE|UPDATE|PATCH|DELETE)\".*")) {
        leaseWrites += v;
      }
    }
    return new long[] {all, leaseWrites};
  }

  @Test
  void severalCloudcores(ControlPlane plane, KubernetesClient admin) throws Exception {
    List<Result> results = new ArrayList<>();
    for (String k : System.getProperty("bench.clouds", "1,2,3").split(",")) {
      results.add(run(plane, admin, Integer.parseInt(k.strip()), edges()));
      report(results);
    }
    for (Result r : results) {
      assertThat(r.connectMs()).isPositive();
    }
  }

  private Result run(ControlPlane plane, KubernetesClient admin, int k, int n) throws Exception {
    Path dir = tmp.resolve("k" + k);
    Files.createDirectories(dir);
    List<CloudCoreProcess> clouds = new ArrayList<>();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    Fleet fleet = null;
    try {
      for (int i = 0; i < k; i++) {
        clouds.add(
            CloudCoreProcess.start(
                plane,
                dir.resolve("cloudcore-" + i),
                Map.of("KEDGE_JAVA_OPTS", "-Xmx1g"),
                "modules.cloudHub.nodeLimit=" + (n + 100),
                "modules.cloudHub.keepaliveInterval=40",
                "modules.dynamicController.enable=true",
                "highAvailability.name=bench-" + i,
                "highAvailability.leaseDuration=8",
                "highAvailability.renewDeadline=5",
                "highAvailability.retryPeriod=1"));
      }
      CertificateAuthority ca = clouds.get(0).ca();
      List<URI> hubs = clouds.stream().map(CloudCoreProcess::hubUri).toList();
      String run = UUID.randomUUID().toString().substring(0, 4);
      List<EdgeIdentity> ids = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        ids.add(EdgeIdentity.issue(ca, String.format("bench-ha-%s-%05d", run, i)));
      }
      Fleet edges = new Fleet(hubs, ids, group);
      fleet = edges;
      edges.keepalives();
      long t0 = System.nanoTime();
      edges.connectAll();
      Waits.until("all edges connected", Duration.ofMinutes(10), () -> edges.open() == n);
      long connectMs = (System.nanoTime() - t0) / 1_000_000;
      Thread.sleep(10_000);

      List<long[]> memory = new ArrayList<>();
      for (CloudCoreProcess c : clouds) {
        long[] heap = CloudHubConnectionsBench.heapAfterGc(c.process().pid());
        long rss = ControlPlaneBench.rssKb(c.process().pid()) / 1024;
        memory.add(new long[] {heap[0], heap[1], rss, 0});
      }
      for (int i = 0; i < k; i++) {
        memory.get(i)[3] = fleet.on(i);
      }

      // the cloudcores' steady load on the apiserver with every edge held (simulated edges send
      // only keepalives: no node status, which real edges add whatever the number of cloudcores)
      long[] a0 = apiserverRequests(plane);
      long s0 = System.nanoTime();
      Thread.sleep(30_000);
      long[] a1 = apiserverRequests(plane);
      double secs = (System.nanoTime() - s0) / 1e9;
      double steady = (a1[0] - a0[0]) / secs;
      double steadyLeases = (a1[1] - a0[1]) / secs;

      long[] fan = fanOut(admin, fleet);

      // kill -9 cloudcore 0: its edges go to the survivors (K = 1: to it once it is back)
      List<Integer> moved = fleet.heldBy(0);
      long[] b0 = apiserverRequests(plane);
      CloudCoreProcess victim = clouds.get(0);
      long t1 = System.nanoTime();
      victim.kill();
      victim.process().waitFor(Duration.ofSeconds(30));
      if (k == 1) {
        victim.startProcess(Map.of("KEDGE_JAVA_OPTS", "-Xmx1g"));
      }
      Waits.until(
          "the killed cloudcore's edges connected again",
          Duration.ofMinutes(10),
          () -> moved.stream().allMatch(edges::isOpen));
      long reserveMs = (System.nanoTime() - t1) / 1_000_000;
      Thread.sleep(5_000); // the session Leases of the moved edges written
      long failoverLeases = apiserverRequests(plane)[1] - b0[1];
      return new Result(
          k,
          n,
          memory,
          connectMs,
          fan[0],
          fan[1],
          fan[2],
          moved.size(),
          reserveMs,
          steady,
          steadyLeases,
          failoverLeases,
          BenchmarkReport.loadAverage());
    } finally {
      if (fleet != null) {
        fleet.close();
      }
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
      clouds.forEach(CloudCoreProcess::close);
    }
  }

  /**
   * Every edge watches Services in a namespace; {@link #WRITES} writes, each timed to every edge.
   */
  private static long[] fanOut(KubernetesClient admin, Fleet fleet) throws Exception {
    String ns = "bench-ha-" + UUID.randomUUID().toString().substring(0, 6);
    admin
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    admin
        .services()
        .inNamespace(ns)
        .resource(
            new ServiceBuilder()
                .withNewMetadata()
                .withName("watched")
                .endMetadata()
                .withNewSpec()
                .addNewPort()
                .withPort(80)
                .endPort()
                .endSpec()
                .build())
        .create();
    Semaphore inFlight = new Semaphore(200);
    List<CompletableFuture<Message>> watches = new ArrayList<>();
    for (int i = 0; i < fleet.size(); i++) {
      inFlight.acquire();
      CompletableFuture<Message> f = fleet.watch(i, ns);
      f.whenComplete((m, e) -> inFlight.release());
      watches.add(f);
    }
    for (CompletableFuture<Message> f : watches) {
      Message m = f.get(300, TimeUnit.SECONDS);
      assertThat(m.content().path("Status").asString()).isEqualTo("Approved");
    }
    List<Long> samples = new ArrayList<>();
    for (int w = 0; w < WRITES; w++) {
      String mark = "w" + w;
      long t0 = System.nanoTime();
      admin
          .services()
          .inNamespace(ns)
          .withName("watched")
          .edit(
              s -> {
                s.getMetadata().setAnnotations(Map.of("bench/write", mark));
                return s;
              });
      Waits.until(
          "write " + mark + " delivered to every edge",
          Duration.ofSeconds(120),
          () -> fleet.receivedEverywhere(mark));
      samples.addAll(fleet.latencies(mark, t0));
      Thread.sleep(200);
    }
    long[] s = samples.stream().mapToLong(Long::longValue).toArray();
    return new long[] {
      DynamicControllerBench.pct(s, 50),
      DynamicControllerBench.pct(s, 99),
      s.length == 0 ? 0 : s[s.length - 1]
    };
  }

  private static void report(List<Result> results) throws Exception {
    List<List<String>> rows = new ArrayList<>();
    for (Result r : results) {
      StringBuilder mem = new StringBuilder();
      for (int i = 0; i < r.memory().size(); i++) {
        long[] m = r.memory().get(i);
        mem.append(i == 0 ? "" : "; ")
            .append(String.format("%d edges: RSS %d MiB, heap %d/%d MiB", m[3], m[2], m[0], m[1]));
      }
      rows.add(
          List.of(
              Integer.toString(r.k()),
              Integer.toString(r.n()),
              mem.toString(),
              String.format("%.1f s", r.connectMs() / 1000.0),
              DynamicControllerBench.ms(r.fanP50())
                  + " / **"
                  + DynamicControllerBench.ms(r.fanP99())
                  + "** / "
                  + DynamicControllerBench.ms(r.fanMax()),
              r.moved() + " in " + String.format("%.1f s", r.reserveMs() / 1000.0),
              String.format(
                  "%.1f req/s (Lease writes %.1f/s); %d Lease writes for the move",
                  r.steadyPerSecond(), r.steadyLeaseWritesPerSecond(), r.failoverLeaseWrites()),
              r.load()));
    }
    BenchmarkReport.section("cloudcore-group", "Several cloudcores", command())
        .line(
            "K `bin/cloudcore` processes (`-Xmx1g`, DynamicController on, as ServiceAccount"
                + " kubeedge/cloudcore, lease 8 s) on the local control plane, N simulated edges in"
                + " all (`SimulatedEdge`: WebSocket + mutual TLS 1.3, a certificate per node) in the"
                + " benchmark JVM, edge i connecting first to cloudcore i mod K; cloudcores, apiserver"
                + " and load generator share the 2 cores.")
        .line("")
        .line(
            "*Memory*: per cloudcore, the edges it holds, its RSS and its heap used/committed after"
                + " a full GC (`jcmd GC.run`). *Fan-out*: every edge watches Services of one"
                + " namespace through the cloudcore that holds it; "
                + WRITES
                + " writes one at a time, from just before the write to the `update` arriving at"
                + " each edge (p50 / p99 / max over all deliveries). *Re-served*: cloudcore 0 gets"
                + " `kill -9`; from then until all its edges are connected again — to a survivor"
                + " (K > 1: each moves to the next address after 1-3 s with jitter), or for K = 1"
                + " to the same cloudcore started again. *apiserver load*: requests per second the"
                + " apiserver served (its `apiserver_request_total`) over 30 s with every edge held"
                + " and nothing changing — the cloudcores' own steady load, as simulated edges send"
                + " no node status — and the Lease writes from the kill until 5 s after the last"
                + " edge was back.")
        .line("")
        .table(
            List.of(
                "K",
                "N",
                "per cloudcore",
                "connect all",
                "fan-out p50 / p99 / max",
                "re-served after kill -9",
                "apiserver load",
                "load average at the end"),
            rows)
        .write();
  }

  /** N edges, edge i first at hub i mod K, moving to the next hub when it loses its cloudcore. */
  static final class Fleet implements AutoCloseable {
    private final List<URI> hubs;
    private final List<EdgeIdentity> ids;
    private final EventLoopGroup group;
    private final Map<Integer, SimulatedEdge> edges = new ConcurrentHashMap<>();
    private final Map<Integer, Integer> hubOf = new ConcurrentHashMap<>();
    private final Map<Integer, CompletableFuture<Message>> pending = new ConcurrentHashMap<>();
    private final Map<String, Map<Integer, Long>> received = new ConcurrentHashMap<>();
    private final AtomicInteger open = new AtomicInteger();
    private volatile boolean closing;

    Fleet(List<URI> hubs, List<EdgeIdentity> ids, EventLoopGroup group) {
      this.hubs = hubs;
      this.ids = ids;
      this.group = group;
    }

    int size() {
      return ids.size();
    }

    int open() {
      return open.get();
    }

    boolean isOpen(int i) {
      SimulatedEdge e = edges.get(i);
      return e != null && e.isOpen();
    }

    int on(int hub) {
      return heldBy(hub).size();
    }

    List<Integer> heldBy(int hub) {
      List<Integer> out = new ArrayList<>();
      for (var e : hubOf.entrySet()) {
        if (e.getValue() == hub && isOpen(e.getKey())) {
          out.add(e.getKey());
        }
      }
      return out;
    }

    void connectAll() throws InterruptedException {
      Semaphore inFlight = new Semaphore(256);
      for (int i = 0; i < ids.size(); i++) {
        inFlight.acquire();
        connect(i, i % hubs.size(), inFlight);
      }
      inFlight.acquire(256);
      inFlight.release(256);
    }

    private Predicate<Message> observer(int i) {
      return m -> {
        if (m.header().hasParent()) {
          CompletableFuture<Message> f = pending.remove(i);
          if (f != null) {
            f.complete(m);
          }
        } else if (Operations.UPDATE.equals(m.operation())) {
          String mark = m.content().at("/metadata/annotations/bench~1write").asString("");
          if (!mark.isEmpty()) {
            received
                .computeIfAbsent(mark, x -> new ConcurrentHashMap<>())
                .putIfAbsent(i, System.nanoTime());
          }
        }
        return SimulatedEdge.KUBEEDGE_ACKS.test(m);
      };
    }

    private void connect(int i, int hub, Semaphore permit) {
      EdgeIdentity id = ids.get(i);
      SimulatedEdge.Options o =
          SimulatedEdge.Options.defaults(id.node())
              .withGroup(group)
              .withKeepHistory(false)
              .withAckPolicy(observer(i))
              .withConnectTimeout(Duration.ofSeconds(60));
      SimulatedEdge.connectAsync(hubs.get(hub), id, o)
          .whenComplete(
              (e, err) -> {
                if (permit != null) {
                  permit.release();
                }
                if (err != null) {
                  retry(i, hub);
                  return;
                }
                edges.put(i, e);
                hubOf.put(i, hub);
                open.incrementAndGet();
                e.closeFuture()
                    .whenComplete(
                        (v, x) -> {
                          open.decrementAndGet();
                          edges.remove(i, e);
                          retry(i, hub);
                        });
              });
    }

    private void retry(int i, int hub) {
      if (closing) {
        return;
      }
      long delay = 1000 + ThreadLocalRandom.current().nextLong(2000);
      group.schedule(() -> connect(i, (hub + 1) % hubs.size(), null), delay, TimeUnit.MILLISECONDS);
    }

    CompletableFuture<Message> watch(int i, String ns) {
      SimulatedEdge link = edges.get(i);
      Message m =
          Message.of(
              new MessageRoute(
                  Sources.META_SERVER,
                  Sources.GROUP_DYNAMIC_CONTROLLER,
                  Operations.APPLICATION_REQUEST,
                  "null"),
              new Application(
                      UUID.randomUUID().toString(),
                      "/core/v1/services/" + ns + "/null",
                      "watch",
                      ids.get(i).node(),
                      "{\"watch\":true}".getBytes(StandardCharsets.UTF_8),
                      null,
                      "",
                      null,
                      ApplicationStatus.IN_APPLYING,
                      "",
                      null,
                      null,
                      null)
                  .toJson());
      CompletableFuture<Message> f = new CompletableFuture<>();
      pending.put(i, f);
      link.send(m);
      return f.orTimeout(300, TimeUnit.SECONDS);
    }

    boolean receivedEverywhere(String mark) {
      Map<Integer, Long> r = received.get(mark);
      return r != null && r.size() == ids.size();
    }

    List<Long> latencies(String mark, long t0) {
      return received.get(mark).values().stream().map(t -> t - t0).toList();
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
}
