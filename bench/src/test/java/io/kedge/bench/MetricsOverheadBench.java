package io.kedge.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.pki.TlsContexts;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.EdgeCoreProcess;
import io.kedge.testkit.Ports;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What metrics cost MetaServer: two real edgecores joined to one cloudcore in the same run, one
 * with its monitor address (metrics counted; measured once scraped once a second, once without
 * scrapes), one with {@code commonConfig.monitorServer.bindAddress: ""} (nothing counted). Cached
 * GETs ({@code resourceVersion=0}) with a pod-bound token over TLS, 1 and 32 clients, measured
 * alternately on and off over several rounds (the order flipped each round) so that drift on the
 * shared machine falls on both. Warm-up and measuring time as {@link MetaServerBench} ({@code
 * bench.warmup}, {@code bench.seconds}); {@code bench.rounds} rounds (2).
 */
@WithControlPlane
class MetricsOverheadBench {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsOverheadBench.class);
  private static final String COMMAND =
      "mvn -B -ntp -Pbench -pl bench -am verify -Dit.test=MetricsOverheadBench"
          + " -Dbench.warmup=20 -Dbench.seconds=10";
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final int OBJECTS = 200;
  private static final int ROUNDS = Integer.getInteger("bench.rounds", 2);
  private static final String SCRAPED = "metrics on, scraped";
  private static final String UNSCRAPED = "metrics on, not scraped";
  private static final String OFF = "metrics off";
  private static final List<String> VARIANTS = List.of(SCRAPED, UNSCRAPED, OFF);

  @TempDir Path tmp;

  @Test
  void metaServerWithAndWithoutMetrics(ControlPlane plane, KubernetesClient admin)
      throws Exception {
    String ns = "bench-metrics-" + UUID.randomUUID().toString().substring(0, 6);
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
    int monitor = Ports.free();
    try (CloudCoreProcess cloud =
            CloudCoreProcess.start(
                plane,
                dir.resolve("cloudcore"),
                "modules.dynamicController.enable=true",
                "featureGates.requireAuthorization=true");
        EdgeCoreProcess on = edge(dir, "bench-metrics-on", cloud, "127.0.0.1:" + monitor);
        EdgeCoreProcess off = edge(dir, "bench-metrics-off", cloud, "\"\"")) {
      on.awaitConnections(1, WAIT);
      off.awaitConnections(1, WAIT);
      SSLContext trust = TlsContexts.client(List.of(plane.pki().ca()), null, null);
      HttpClient http = HttpClient.newBuilder().sslContext(trust).build();
      String get = "/api/v1/namespaces/" + ns + "/configmaps/";
      Map<String, URI> targets = new LinkedHashMap<>();
      Map<String, String> tokens = new LinkedHashMap<>();
      for (EdgeCoreProcess e : List.of(on, off)) {
        String variant = e == on ? "metrics on" : "metrics off";
        URI meta = URI.create("https://127.0.0.1:" + e.metaServerUri().getPort());
        String token =
            BenchCluster.boundToken(
                admin, BenchCluster.pod(admin, ns, "reader-" + e.node(), "reader", e.node()));
        Waits.until(
            variant + ": MetaServer lists",
            WAIT,
            () ->
                MetaServerBench.status(http, meta, get.substring(0, get.length() - 1), token)
                    == 200);
        Waits.until(
            variant + ": objects cached",
            WAIT,
            () ->
                MetaServerBench.status(
                        http,
                        meta,
                        get + MetaServerBench.name(OBJECTS - 1) + "?resourceVersion=0",
                        token)
                    == 200);
        targets.put(variant, meta);
        tokens.put(variant, token);
      }
      HttpResponse<String> scrape = scrape(http, monitor);
      assertThat(scrape.statusCode()).isEqualTo(200);
      assertThat(scrape.body()).contains("kedge_metaserver_requests_total");
      assertThat(off.log()).contains("commonConfig.monitorServer.bindAddress is empty");

      // The scraper has a client of its own, as Prometheus is a process of its own: sharing the
      // load generator's client would put the scrapes' reading on the load's selector thread.
      HttpClient scrapeHttp = HttpClient.newHttpClient();
      String loadBefore = BenchmarkReport.loadAverage();
      Map<String, List<MetaServerBench.Result>> by = new LinkedHashMap<>();
      long scrapeNanos = 0;
      int scrapeCount = 0;
      for (int round = 0; round < ROUNDS; round++) {
        for (int clients : List.of(1, 32)) {
          List<String> order = new ArrayList<>(VARIANTS);
          Collections.rotate(order, round);
          for (String variant : order) {
            boolean metricsOn = !variant.equals(OFF);
            AtomicBoolean scraping = new AtomicBoolean(variant.equals(SCRAPED));
            AtomicInteger scrapes = new AtomicInteger();
            AtomicLong scrapeTime = new AtomicLong();
            Thread scraper = scraper(scrapeHttp, monitor, scraping, scrapes, scrapeTime);
            MetaServerBench.Result r;
            try {
              r =
                  MetaServerBench.run(
                      "cached GET",
                      variant,
                      http,
                      targets.get(metricsOn ? "metrics on" : "metrics off"),
                      i -> get + MetaServerBench.name(i % OBJECTS) + "?resourceVersion=0",
                      tokens.get(metricsOn ? "metrics on" : "metrics off"),
                      clients,
                      null);
            } finally {
              scraping.set(false);
              scraper.join();
            }
            scrapeNanos += scrapeTime.get();
            scrapeCount += scrapes.get();
            LOG.info("{} {} clients round {}: {} scrapes", variant, clients, round, scrapes.get());
            by.computeIfAbsent(variant + "|" + clients, k -> new ArrayList<>()).add(r);
          }
        }
      }
      String loadAfter = BenchmarkReport.loadAverage();
      List<List<String>> rows = new ArrayList<>();
      List<String> verdicts = new ArrayList<>();
      for (int clients : List.of(1, 32)) {
        double[] offV = summary(by.get(OFF + "|" + clients));
        for (String variant : VARIANTS) {
          double[] v = summary(by.get(variant + "|" + clients));
          List<String> cells = new ArrayList<>();
          cells.add(Integer.toString(clients));
          cells.add(variant);
          for (MetaServerBench.Result r : by.get(variant + "|" + clients)) {
            cells.add(String.format("%.0f / %.3f ms", r.perSecond(), r.p(0.5)));
          }
          cells.add(String.format("%.0f", v[0]));
          cells.add(String.format("%.3f ms", v[1]));
          rows.add(cells);
        }
        for (String variant : List.of(SCRAPED, UNSCRAPED)) {
          double[] onV = summary(by.get(variant + "|" + clients));
          double rate = (onV[0] - offV[0]) / offV[0] * 100;
          double p50 = (onV[1] - offV[1]) / offV[1] * 100;
          verdicts.add(
              String.format(
                  "%d client%s, %s: req/s %+.1f %%, p50 %+.1f %%",
                  clients, clients == 1 ? "" : "s", variant, rate, p50));
        }
      }
      List<String> header = new ArrayList<>(List.of("clients", "edgecore"));
      for (int round = 1; round <= ROUNDS; round++) {
        header.add("round " + round + ": req/s / p50");
      }
      header.add("req/s (mean)");
      header.add("p50 (mean)");
      BenchmarkReport.section("metrics-overhead", "MetaServer with and without metrics", COMMAND)
          .line(
              "One real cloudcore and two real edgecores (edge JVM flags of `bin/edgecore`) on the"
                  + " local kube-apiserver v1.20.2, in the same run: *"
                  + SCRAPED
                  + "* serves `/metrics` on its monitor address and is scraped once a second while"
                  + " it is measured (by a thread with an HTTP client of its own); *"
                  + UNSCRAPED
                  + "* is the same edgecore measured without scrapes (what counting each request"
                  + " costs); *"
                  + OFF
                  + "* has `commonConfig.monitorServer.bindAddress: \"\"` and counts nothing."
                  + " Cached GETs (`resourceVersion=0`, answered from the"
                  + " edge store) of "
                  + OBJECTS
                  + " ConfigMaps with a pod-bound token over TLS, closed loops of 1 and 32"
                  + " clients (JDK HttpClient in the benchmark JVM on the same cores), "
                  + MetaServerBench.WARMUP.toSeconds()
                  + " s warm-up and "
                  + MetaServerBench.MEASURE.toSeconds()
                  + " s measured per cell, the three alternated, the order rotated each round.")
          .line("")
          .table(header, rows)
          .line("Difference from *" + OFF + "*: " + String.join("; ", verdicts) + ".")
          .line("")
          .line(
              String.format(
                  "Scrapes: %d, %.1f ms each on average from request to the last byte read.",
                  scrapeCount, scrapeCount == 0 ? 0 : scrapeNanos / 1e6 / scrapeCount))
          .line("")
          .line("Load average before / after: " + loadBefore + " → " + loadAfter + ".")
          .write();
      for (String v : verdicts) {
        LOG.info("OVERHEAD {}", v);
      }
    }
  }

  private static EdgeCoreProcess edge(
      Path dir, String node, CloudCoreProcess cloud, String monitorAddress) {
    return EdgeCoreProcess.start(
        dir.resolve(node),
        node,
        cloud.hubUri(),
        cloud.bootstrapUri(),
        cloud.token(),
        Map.of(),
        "featureGates.requireAuthorization=true",
        "modules.metaManager.metaServer.enable=true",
        "commonConfig.monitorServer.bindAddress=" + monitorAddress);
  }

  /** Mean req/s and mean p50 (ms) over the rounds. */
  private static double[] summary(List<MetaServerBench.Result> rs) {
    double rate = 0;
    double p50 = 0;
    for (MetaServerBench.Result r : rs) {
      rate += r.perSecond();
      p50 += r.p(0.5);
    }
    return new double[] {rate / rs.size(), p50 / rs.size()};
  }

  private static HttpResponse<String> scrape(HttpClient http, int port) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Scrapes {@code /metrics} once a second while {@code on} holds, as Prometheus would. */
  private static Thread scraper(
      HttpClient http, int port, AtomicBoolean on, AtomicInteger count, AtomicLong nanos) {
    Thread t =
        new Thread(
            () -> {
              while (on.get()) {
                try {
                  long t0 = System.nanoTime();
                  if (scrape(http, port).statusCode() == 200) {
                    nanos.addAndGet(System.nanoTime() - t0);
                    count.incrementAndGet();
                  }
                  Thread.sleep(1000);
                } catch (InterruptedException e) {
                  return;
                } catch (Exception e) {
                  LOG.warn("scrape failed: {}", e.toString());
                }
              }
            },
            "bench-scraper");
    t.setDaemon(true);
    t.start();
    return t;
  }
}
