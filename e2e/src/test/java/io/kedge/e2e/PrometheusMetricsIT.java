package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.Json;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.EdgeCoreProcess;
import io.kedge.testkit.Ports;
import io.kedge.testkit.Prerequisites;
import io.kedge.testkit.ProgramProcess;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Issue 19, items 2 and 3: a real Prometheus server (Debian's {@code prometheus}, started here on
 * loopback with a generated configuration) scrapes a real cloudcore and edgecore on their monitor
 * addresses. The test sends a known number of requests through MetaServer with a pod's token —
 * cached reads the edge answers, consistent reads it sends on through cloudcore's
 * DynamicController, reads of an object that does not exist — and reads the series back through
 * Prometheus' HTTP API: each count grew by exactly what was sent. {@code /readyz?verbose} on both
 * names its checks as the apiserver does.
 */
@WithControlPlane
class PrometheusMetricsIT {
  private static final Logger LOG = LoggerFactory.getLogger(PrometheusMetricsIT.class);
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final String NODE = "edge-metrics-1";
  private static final int CACHED = 23;
  private static final int CONSISTENT = 11;
  private static final int MISSING = 7;

  static Path dir;
  static KubernetesClient admin;
  static CloudCoreProcess cloud;
  static EdgeCoreProcess edge;
  static ProgramProcess prometheus;
  static int metaServerPort;
  static int cloudMonitor;
  static int edgeMonitor;
  static int prometheusPort;
  static String ns;
  static String token;
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start(ControlPlane plane, KubernetesClient a) throws Exception {
    Prerequisites.tool("curl", "curl");
    Path prometheusBinary = Prerequisites.tool("prometheus", "prometheus");
    dir = RunFiles.runDir("prometheus-metrics-it-");
    LOG.info("files of this run in {}", dir);
    admin = a;
    cloudMonitor = Ports.free();
    edgeMonitor = Ports.free();
    cloud =
        CloudCoreProcess.start(
            plane,
            dir.resolve("cloudcore"),
            "modules.dynamicController.enable=true",
            "featureGates.requireAuthorization=true",
            "commonConfig.monitorServer.bindAddress=127.0.0.1:" + cloudMonitor);
    metaServerPort = Ports.free();
    edge =
        SecureMetaServer.startEdge(
            dir.resolve("edge"),
            NODE,
            cloud,
            metaServerPort,
            "-Xmx256m -XX:+UseSerialGC",
            "commonConfig.monitorServer.bindAddress=127.0.0.1:" + edgeMonitor);
    Waits.until("node " + NODE + " Ready", WAIT, () -> ready(NODE));
    Waits.until(
        "edgecore ready (MetaServer serves with a cluster-issued certificate)",
        WAIT,
        () -> get(edgeMonitor, "/readyz").statusCode() == 200);
    ns = "metrics-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    PageInstall.readerNamespace(admin, ns, true);
    Pod p = pod(ns, "reader-pod");
    token = SecureMetaServer.podToken(admin, ns, "reader", "reader-pod", p.getMetadata().getUid());

    prometheusPort = Ports.free();
    Path cfg = dir.resolve("prometheus.yml");
    Files.writeString(
        cfg,
        "global:\n"
            + "  scrape_interval: 1s\n"
            + "  scrape_timeout: 1s\n"
            + "scrape_configs:\n"
            + "  - job_name: cloudcore\n"
            + "    static_configs:\n"
            + "      - targets: ['127.0.0.1:"
            + cloudMonitor
            + "']\n"
            + "  - job_name: edgecore\n"
            + "    static_configs:\n"
            + "      - targets: ['127.0.0.1:"
            + edgeMonitor
            + "']\n");
    prometheus =
        ProgramProcess.start(
            "prometheus",
            List.of(
                prometheusBinary.toString(),
                "--config.file=" + cfg,
                "--storage.tsdb.path=" + dir.resolve("prometheus-data"),
                "--web.listen-address=127.0.0.1:" + prometheusPort),
            Map.of(),
            dir.resolve("prometheus.log"));
    Waits.until(
        "Prometheus scrapes both targets",
        WAIT,
        () ->
            value("sum(up{job=~\"cloudcore|edgecore\"})") == 2
                && value("count(kedge_metaserver_answers_total)") >= 1);
  }

  @AfterAll
  static void stop() {
    try {
      if (prometheus != null) {
        prometheus.stop(Duration.ofSeconds(20));
      }
      if (edge != null) {
        edge.close();
      }
    } finally {
      try {
        if (cloud != null) {
          cloud.close();
        }
      } finally {
        if (admin != null && admin.nodes().withName(NODE).get() != null) {
          admin.nodes().withName(NODE).delete();
        }
      }
    }
  }

  @Test
  void prometheusCountsWhatTheTestSent() {
    String ms = "https://127.0.0.1:" + metaServerPort;
    String cm = ms + "/api/v1/namespaces/" + ns + "/configmaps/";
    Path ca = edge.dir().resolve("pki/metaserver/ca.crt");
    // Each kind once first, so that the scope is cached and nothing below is a first-time lookup
    // (on a loaded machine the first, which subscribes the namespace, may take a while; these are
    // not counted, so they may be repeated).
    Waits.until(
        "a cached GET answers",
        WAIT,
        () -> SecureMetaServer.curl(ca, token, cm + "greeting?resourceVersion=0").code() == 200);
    Waits.until(
        "a consistent GET answers",
        WAIT,
        () -> SecureMetaServer.curl(ca, token, cm + "greeting").code() == 200);
    Waits.until(
        "a GET of a missing object answers 404",
        WAIT,
        () ->
            SecureMetaServer.curl(ca, token, cm + "nothing-here?resourceVersion=0").code() == 404);

    String get200 =
        "sum(kedge_metaserver_requests_total{verb=\"get\",resource=\"configmaps\",code=\"200\"})";
    String get404 =
        "sum(kedge_metaserver_requests_total{verb=\"get\",resource=\"configmaps\",code=\"404\"})";
    String toCloud = "sum(kedge_metaserver_answers_total{source=\"cloud\"})";
    String fromStore = "sum(kedge_metaserver_answers_total{source=\"store\"})";
    String dynamicGets =
        "sum(kedge_dynamiccontroller_requests_total{verb=\"get\",identity=\"pod\",code=\"200\"})";
    String histogram =
        "sum(kedge_metaserver_request_duration_seconds_count{verb=\"get\",resource=\"configmaps\"})";
    // every one of those three is counted before the baseline is taken
    Waits.until("the warm-up requests are scraped", WAIT, () -> value(get200) >= 2);
    Waits.until("the warm-up 404 is scraped", WAIT, () -> value(get404) >= 1);
    sleepPastAScrape();
    double base200 = value(get200);
    double base404 = value(get404);
    double baseCloud = value(toCloud);
    double baseStore = value(fromStore);
    double baseDynamic = value(dynamicGets);
    double baseHistogram = value(histogram);

    for (int i = 0; i < CACHED; i++) {
      assertThat(SecureMetaServer.curl(ca, token, cm + "greeting?resourceVersion=0").code())
          .isEqualTo(200);
    }
    for (int i = 0; i < CONSISTENT; i++) {
      assertThat(SecureMetaServer.curl(ca, token, cm + "greeting").code()).isEqualTo(200);
    }
    for (int i = 0; i < MISSING; i++) {
      assertThat(
              SecureMetaServer.curl(ca, token, cm + "nothing-" + i + "?resourceVersion=0").code())
          .isEqualTo(404);
    }

    double want200 = base200 + CACHED + CONSISTENT;
    Waits.until("Prometheus has the 200s", WAIT, () -> value(get200) >= want200);
    Waits.until("Prometheus has the 404s", WAIT, () -> value(get404) >= base404 + MISSING);
    Waits.until(
        "Prometheus has cloudcore's count",
        WAIT,
        () -> value(dynamicGets) >= baseDynamic + CONSISTENT);
    sleepPastAScrape();
    assertThat(value(get200) - base200).isEqualTo(CACHED + CONSISTENT);
    assertThat(value(get404) - base404).isEqualTo(MISSING);
    assertThat(value(histogram) - baseHistogram).isEqualTo(CACHED + CONSISTENT + MISSING);
    assertThat(value(toCloud) - baseCloud).isEqualTo(CONSISTENT);
    // the store answered the cached reads and the misses; anything else on MetaServer in the
    // meantime (none is expected) would show here too
    assertThat(value(fromStore) - baseStore).isEqualTo(CACHED + MISSING);
    assertThat(value(dynamicGets) - baseDynamic).isEqualTo(CONSISTENT);

    // the link, seen from both ends, and the JVM's own metrics
    assertThat(value("kedge_cloudhub_connected_edges")).isEqualTo(1);
    assertThat(value("kedge_edgehub_connected")).isEqualTo(1);
    assertThat(value("kedge_certificate_expiry_seconds{certificate=\"metaserver\"}"))
        .isGreaterThan(3600);
    assertThat(value("kedge_certificate_expiry_seconds{certificate=\"edgehub\"}"))
        .isGreaterThan(3600);
    assertThat(value("kedge_edged_pods{phase=\"Running\"}")).isEqualTo(1);
    assertThat(value("kedge_store_objects")).isGreaterThan(0);
    assertThat(value("sum(kedge_csr_decisions_total{decision=\"approved\"})")).isGreaterThan(0);
    assertThat(value("count(jvm_memory_used_bytes{job=\"cloudcore\"})")).isGreaterThan(0);
    assertThat(value("count(jvm_memory_used_bytes{job=\"edgecore\"})")).isGreaterThan(0);
  }

  @Test
  void readyzNamesItsChecksAsTheApiserverDoes() {
    HttpResponse<String> c = get(cloudMonitor, "/readyz?verbose");
    assertThat(c.statusCode()).isEqualTo(200);
    assertThat(c.body())
        .contains("[+]informers-synced ok")
        .contains("[+]cloudhub-listening ok")
        .contains("[+]modules-started ok")
        .endsWith("readyz check passed\n");
    HttpResponse<String> e = get(edgeMonitor, "/readyz?verbose");
    assertThat(e.statusCode()).isEqualTo(200);
    assertThat(e.body())
        .contains("[+]store-open ok")
        .contains("[+]metaserver-serving ok")
        .contains("[+]metaserver-certificate ok");
    assertThat(get(edgeMonitor, "/readyz/store-open").body()).isEqualTo("ok");
    assertThat(get(cloudMonitor, "/healthz").body()).isEqualTo("ok");
    assertThat(get(edgeMonitor, "/healthz").body()).isEqualTo("ok");
    assertThat(get(edgeMonitor, "/readyz/no-such-check").statusCode()).isEqualTo(404);
  }

  /** The one value of an instant query (0 when it has none). */
  static double value(String promql) {
    try {
      String url =
          "http://127.0.0.1:"
              + prometheusPort
              + "/api/v1/query?query="
              + URLEncoder.encode(promql, StandardCharsets.UTF_8);
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException(promql + ": " + r.statusCode() + " " + r.body());
      }
      JsonNode result = Json.parse(r.body()).path("data").path("result");
      if (result.isEmpty()) {
        return 0;
      }
      return Double.parseDouble(result.get(0).path("value").get(1).asString());
    } catch (IOException e) {
      return -1; // Prometheus is not up yet
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static HttpResponse<String> get(int port, String path) {
    try {
      return HTTP.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
              .timeout(Duration.ofSeconds(10))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException("GET " + path + " on " + port + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Two scrape intervals: what was counted before this is in Prometheus after it. */
  static void sleepPastAScrape() {
    try {
      Thread.sleep(2500);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static boolean ready(String name) {
    Node n = admin.nodes().withName(name).get();
    return n != null
        && n.getStatus() != null
        && n.getStatus().getConditions() != null
        && n.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  static Pod pod(String namespace, String name) {
    Pod p =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .endMetadata()
            .withNewSpec()
            .withNodeName(NODE)
            .withServiceAccountName("reader")
            .withRestartPolicy("Never")
            .withTolerations(
                new TolerationBuilder()
                    .withKey("node.kubernetes.io/not-ready")
                    .withOperator("Exists")
                    .withEffect("NoExecute")
                    .build())
            .addNewContainer()
            .withName("main")
            .withImage("kedge/host-process")
            .withCommand("/bin/sleep", "3600")
            .endContainer()
            .endSpec()
            .build();
    Pod[] created = {null};
    // The ServiceAccount admission plugin may not know a new ServiceAccount for a moment.
    Waits.until(
        "pod " + name + " created",
        Duration.ofSeconds(30),
        () -> {
          try {
            created[0] = admin.pods().inNamespace(namespace).resource(p).create();
            return true;
          } catch (RuntimeException e) {
            return false;
          }
        });
    Waits.until(
        "pod " + name + " Running",
        WAIT,
        () -> {
          Pod now = admin.pods().inNamespace(namespace).withName(name).get();
          return now != null
              && now.getStatus() != null
              && "Running".equals(now.getStatus().getPhase());
        });
    return created[0];
  }
}
