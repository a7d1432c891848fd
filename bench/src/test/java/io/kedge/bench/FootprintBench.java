package io.kedge.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.TlsContexts;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.EdgeCoreProcess;
import io.kedge.testkit.Waits;
import io.kedge.testkit.edge.EdgeIdentity;
import io.kedge.testkit.junit.WithControlPlane;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The footprint of issue 20, with the launchers' own JVM flags ({@code bin/edgecore}, {@code
 * bin/cloudcore}, nothing set in {@code KEDGE_JAVA_OPTS}): edgecore's resident memory with 1,000
 * ConfigMaps cached and one pod, cloudcore's with the real edge and 10 simulated edges, both after
 * an idle minute (steady state, not while C2 compiles); the time from starting {@code bin/edgecore}
 * until MetaServer first answers a cached GET with 200 (over TLS, with the pod's token), 5 restarts
 * with the cloud reachable and 5 with cloudcore down; and MetaServer's cached GET at 1 and 32
 * clients in the same run, to show speed did not fall.
 */
@WithControlPlane
class FootprintBench {
  private static final Logger LOG = LoggerFactory.getLogger(FootprintBench.class);
  private static final String COMMAND =
      "mvn -B -ntp -Pbench -pl bench -am verify -Dit.test=FootprintBench";
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final int OBJECTS = 1_000;
  private static final int SIMULATED = 10;
  private static final int RESTARTS = Integer.getInteger("bench.restarts", 5);
  private static final Duration IDLE = Duration.ofSeconds(Long.getLong("bench.idleSeconds", 60));

  private static final Duration FIRST_RUN = Duration.ofSeconds(65);

  @TempDir Path tmp;

  @Test
  void memoryAndRestart(ControlPlane plane, KubernetesClient admin) throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 6);
    String ns = "bench-fp-" + suffix;
    // A node of its own per run: a control plane kept between runs holds no pods for it.
    String node = "bench-fp-" + suffix;
    admin
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    String payload = "x".repeat(200);
    for (int i = 0; i < OBJECTS; i++) {
      admin.configMaps().inNamespace(ns).resource(MetaServerBench.cm(i, payload)).create();
    }
    admin
        .serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("reader").endMetadata().build())
        .create();
    BenchCluster.configMapReader(admin, ns, "reader", ns, "reader");
    Path dir = Files.createTempDirectory(tmp, "run-");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    String loadStart = BenchmarkReport.loadAverage();
    long edgeRss;
    long cloudRss;
    long[] cloudHeap;
    long edgeRssAfterLoad;
    String edgeArchive;
    String cloudArchive;
    MetaServerBench.Result get1;
    MetaServerBench.Result get32;
    List<Long> online = new ArrayList<>();
    List<Long> offline = new ArrayList<>();
    String loadOnline;
    String loadOffline;
    // Both launchers with their own flags: an empty KEDGE_JAVA_OPTS environment.
    try (CloudCoreProcess cloud =
            secondStart(
                CloudCoreProcess.start(
                    plane,
                    dir.resolve("cloudcore"),
                    Map.of(),
                    "modules.dynamicController.enable=true",
                    "featureGates.requireAuthorization=true"));
        EdgeCoreProcess edge =
            EdgeCoreProcess.start(
                dir.resolve("edge"),
                node,
                cloud.hubUri(),
                cloud.bootstrapUri(),
                cloud.token(),
                Map.of(),
                "featureGates.requireAuthorization=true",
                "modules.metaManager.metaServer.enable=true")) {
      edge.awaitConnections(1, WAIT);
      // The one pod, created once the node has joined (the edge learns of it from the cloud).
      String token =
          BenchCluster.boundToken(admin, BenchCluster.pod(admin, ns, "reader", "reader", node));
      SSLContext trust = TlsContexts.client(List.of(plane.pki().ca()), null, null);
      HttpClient http = HttpClient.newBuilder().sslContext(trust).build();
      URI meta = URI.create("https://127.0.0.1:" + edge.metaServerUri().getPort());
      String list = "/api/v1/namespaces/" + ns + "/configmaps";
      String cached = list + "/" + MetaServerBench.name(OBJECTS - 1) + "?resourceVersion=0";
      Waits.until(
          "MetaServer lists " + ns,
          WAIT,
          () -> MetaServerBench.status(http, meta, list, token) == 200);
      Waits.until(
          "all " + OBJECTS + " objects cached",
          WAIT,
          () -> MetaServerBench.status(http, meta, cached, token) == 200);
      // Measured as a node runs after its restarts: the launchers make their class-data archive
      // when a process without one exits (README, "Launchers"), but not from the first run, which
      // joined (classes of the join that no later start needs): the second run makes it, so a
      // node's third start is the first with it.
      int joined = edge.connections();
      for (int run = 1; run <= 2; run++) {
        firstRunDone(edge.process().pid());
        stopFirstRun(edge.process());
        restart(edge, http, meta, cached, token);
        edge.awaitConnections(joined + run, WAIT);
      }

      CertificateAuthority ca = cloud.ca();
      List<EdgeIdentity> ids = new ArrayList<>();
      for (int i = 0; i < SIMULATED; i++) {
        ids.add(EdgeIdentity.issue(ca, String.format("bench-fp-sim-%02d", i)));
      }
      EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
      CloudHubConnectionsBench.Fleet fleet =
          new CloudHubConnectionsBench.Fleet(cloud.hubUri(), ids, group);
      try {
        fleet.keepalives();
        fleet.connectAll();
        Waits.until(SIMULATED + " simulated edges", WAIT, () -> fleet.open() == SIMULATED);

        Thread.sleep(IDLE.toMillis());
        edgeRss = ControlPlaneBench.rssKb(edge.process().pid()) / 1024;
        cloudRss = ControlPlaneBench.rssKb(cloud.process().pid()) / 1024;
        edgeArchive = archive(edge.process().pid());
        cloudArchive = archive(cloud.process().pid());
        LOG.info(
            "after {} s idle: edgecore RSS {} MiB (pid {}, {}), cloudcore RSS {} MiB (pid {}, {})",
            IDLE.toSeconds(),
            edgeRss,
            edge.process().pid(),
            edgeArchive,
            cloudRss,
            cloud.process().pid(),
            cloudArchive);
        Thread.sleep(Duration.ofSeconds(Long.getLong("bench.holdSeconds", 0)).toMillis());
        cloudHeap = CloudHubConnectionsBench.heapAfterGc(cloud.process().pid());
        LOG.info(
            "cloudcore heap after a full GC: {} used / {} MiB committed",
            cloudHeap[0],
            cloudHeap[1]);
        assertThat(fleet.open()).as("simulated edges still connected").isEqualTo(SIMULATED);
      } finally {
        fleet.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
      }

      java.util.function.IntFunction<String> path =
          i -> list + "/" + MetaServerBench.name(i % OBJECTS) + "?resourceVersion=0";
      get1 = MetaServerBench.run("cached GET", "MetaServer", http, meta, path, token, 1, null);
      get32 = MetaServerBench.run("cached GET", "MetaServer", http, meta, path, token, 32, null);
      edgeRssAfterLoad = ControlPlaneBench.rssKb(edge.process().pid()) / 1024;
      LOG.info("edgecore RSS after the load: {} MiB", edgeRssAfterLoad);

      loadOnline = BenchmarkReport.loadAverage();
      int connections = edge.connections();
      for (int r = 0; r < RESTARTS; r++) {
        edge.stop();
        online.add(restart(edge, http, meta, cached, token));
        connections++;
        edge.awaitConnections(connections, WAIT);
        LOG.info("online restart {}: MetaServer answered after {} ms", r + 1, online.get(r));
      }
      cloud.kill();
      cloud.process().waitFor(Duration.ofSeconds(30));
      loadOffline = BenchmarkReport.loadAverage();
      for (int r = 0; r < RESTARTS; r++) {
        edge.stop();
        offline.add(restart(edge, http, meta, cached, token));
        LOG.info("offline restart {}: MetaServer answered after {} ms", r + 1, offline.get(r));
      }
      assertThat(edge.log()).doesNotContain("Exception in thread");
    } finally {
      // Kept for reading where a restart's time went; the run's directory is deleted.
      Path kept = Path.of("target", "footprint-edgecore.log");
      Files.deleteIfExists(kept);
      if (Files.exists(dir.resolve("edge/edgecore.log"))) {
        Files.copy(dir.resolve("edge/edgecore.log"), kept);
      }
      // A control plane kept between runs (KEDGE_CONTROL_PLANE_DIR) must not keep this run's
      // objects: cloudcore's informers would hold them in the next run.
      admin.namespaces().withName(ns).delete();
      admin.nodes().withName(node).delete();
    }
    String loadEnd = BenchmarkReport.loadAverage();
    LOG.info(
        "FOOTPRINT edge {} MiB, cloud {} MiB (heap {} / {} MiB), restart online {} offline {},"
            + " GET1 p50 {} ms, GET32 {} req/s, edge after load {} MiB",
        edgeRss,
        cloudRss,
        cloudHeap[0],
        cloudHeap[1],
        online,
        offline,
        get1.p(0.5),
        Math.round(get32.perSecond()),
        edgeRssAfterLoad);
    BenchmarkReport.section("footprint", "Footprint: memory and restart time", COMMAND)
        .line(
            "`bin/edgecore` and `bin/cloudcore` as real processes with the launchers' own JVM flags"
                + " (no `KEDGE_JAVA_OPTS`), on the local kube-apiserver v1.20.2, cloudcore with"
                + " `dynamicController` and `requireAuthorization` on. The edge caches "
                + OBJECTS
                + " ConfigMaps (about 0.5 KiB each) and runs one pod; cloudcore serves that edge"
                + " and "
                + SIMULATED
                + " simulated edges (`SimulatedEdge`, WebSocket over mutual TLS, keepalives). RSS is"
                + " VmRSS after "
                + IDLE.toSeconds()
                + " idle seconds, cloudcore in its second start and edgecore in its third (each run"
                + " before stopped with SIGTERM after a minute: the launchers make their class-data"
                + " archive then, edgecore's not in the run that joined). *Restart*: from starting `bin/edgecore` (after it stopped on"
                + " SIGTERM) to the first 200 for a cached GET (`resourceVersion=0`) over TLS with"
                + " the pod's token, polled every 10 ms; online with cloudcore running (each restart"
                + " waits until the edge is connected again), offline after cloudcore was killed.")
        .line("")
        .table(
            List.of("measure", "value"),
            List.of(
                List.of(
                    "edgecore RSS, 1,000 ConfigMaps + one pod, idle",
                    edgeRss + " MiB (" + edgeArchive + ")"),
                List.of(
                    "cloudcore RSS, 1 + " + SIMULATED + " edges, idle",
                    cloudRss
                        + " MiB (heap after a full GC: "
                        + cloudHeap[0]
                        + " MiB used, "
                        + cloudHeap[1]
                        + " MiB committed; "
                        + cloudArchive
                        + ")"),
                List.of("restart → MetaServer 200, online, median / max", medianMax(online)),
                List.of("restart → MetaServer 200, offline, median / max", medianMax(offline)),
                List.of(
                    "MetaServer cached GET, 1 client, p50", String.format("%.3f ms", get1.p(0.5))),
                List.of(
                    "MetaServer cached GET, 32 clients",
                    String.format("%.0f req/s", get32.perSecond())),
                List.of("edgecore RSS after that load", edgeRssAfterLoad + " MiB")))
        .line("")
        .line(
            "Restarts, ms: online "
                + online
                + ", offline "
                + offline
                + ". Load average (1/5/15 min) at the start: "
                + loadStart
                + "; before the online restarts: "
                + loadOnline
                + "; before the offline ones: "
                + loadOffline
                + "; at the end: "
                + loadEnd
                + ".")
        .write();
  }

  /** {@code cloud} stopped (SIGTERM) and started again, as after a first restart. */
  private static CloudCoreProcess secondStart(CloudCoreProcess cloud) throws InterruptedException {
    firstRunDone(cloud.process().pid());
    stopFirstRun(cloud.process());
    cloud.startProcess(Map.of());
    return cloud;
  }

  /**
   * Waits until process {@code pid} has run for {@link #FIRST_RUN}: the launchers keep a class-data
   * archive only from a run that lasted a minute (a shorter one may have stopped before serving).
   */
  private static void firstRunDone(long pid) throws InterruptedException {
    java.time.Instant started =
        ProcessHandle.of(pid).flatMap(h -> h.info().startInstant()).orElseThrow();
    long left = Duration.between(java.time.Instant.now(), started.plus(FIRST_RUN)).toMillis();
    if (left > 0) {
      Thread.sleep(left);
    }
  }

  /**
   * SIGTERM to a first run, with time to write its class-data archive at exit (seconds on an idle
   * machine, much longer on a loaded one): killed before it has, the second start would be measured
   * without one (the likely way a run at a load of 33-57 lost the edge's; BENCHMARKS.md).
   */
  private static void stopFirstRun(io.kedge.testkit.ProgramProcess p) {
    long t0 = System.nanoTime();
    int status = p.stop(Duration.ofMinutes(3));
    LOG.info(
        "{}: first run exited with status {} {} ms after SIGTERM",
        p.name(),
        status,
        (System.nanoTime() - t0) / 1_000_000);
  }

  /** Which class-data archive process {@code pid} maps, from its command line. */
  private static String archive(long pid) throws java.io.IOException {
    String cmd = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("-XX:SharedArchiveFile=(\\S+)").matcher(cmd);
    if (m.find()) {
      Path a = Path.of(m.group(1));
      return "archive " + a.getFileName() + ", " + Files.size(a) / (1024 * 1024) + " MB";
    }
    return cmd.contains("-XX:ArchiveClassesAtExit") ? "no archive yet" : "no archive";
  }

  /** Starts edgecore and returns the ms until MetaServer answers {@code path} with 200. */
  private static long restart(
      EdgeCoreProcess edge, HttpClient http, URI meta, String path, String token)
      throws InterruptedException {
    long t0 = System.nanoTime();
    edge.startProcess();
    long until = t0 + WAIT.toNanos();
    while (System.nanoTime() < until) {
      if (MetaServerBench.status(http, meta, path, token) == 200) {
        return (System.nanoTime() - t0) / 1_000_000;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("MetaServer did not answer within " + WAIT + ": " + edge.log());
  }

  private static String medianMax(List<Long> ms) {
    List<Long> s = new ArrayList<>(ms);
    s.sort(null);
    return String.format(
        "%.2f s / %.2f s", s.get(s.size() / 2) / 1000.0, s.get(s.size() - 1) / 1000.0);
  }
}
