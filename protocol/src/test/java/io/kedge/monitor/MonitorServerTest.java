package io.kedge.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MonitorServerTest {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final HealthChecks checks = new HealthChecks();
  private final AtomicReference<String> storeProblem = new AtomicReference<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private MonitorServer server;
  private String base;

  @BeforeEach
  void start() {
    Counter c =
        Counter.builder()
            .name("kedge_test_things_total")
            .help("things")
            .labelNames("kind")
            .register(registry);
    c.labelValues("a").inc(3);
    checks.add("store-open", storeProblem::get).add("always", () -> null);
    server = new MonitorServer("test", registry, checks);
    InetSocketAddress a = server.start("127.0.0.1:0");
    base = "http://" + MonitorServer.hostPort(a);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesMetricsInPrometheusTextFormat() throws Exception {
    HttpResponse<String> r = get("/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("text/plain; version=0.0.4"));
    assertThat(r.body())
        .contains("# TYPE kedge_test_things_total counter")
        .contains("kedge_test_things_total{kind=\"a\"} 3.0");
  }

  @Test
  void readyzNamesTheFailedCheck() throws Exception {
    HttpResponse<String> ok = get("/readyz");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).isEqualTo("ok");
    assertThat(get("/readyz?verbose").body())
        .isEqualTo("[+]store-open ok\n[+]always ok\nreadyz check passed\n");

    storeProblem.set("the store at /x cannot be opened");
    HttpResponse<String> bad = get("/readyz");
    assertThat(bad.statusCode()).isEqualTo(500);
    assertThat(bad.body())
        .isEqualTo(
            "[-]store-open failed: the store at /x cannot be opened\n[+]always ok\nreadyz check failed\n");
    assertThat(HealthChecks.failedIn(bad.body()))
        .containsExactly(java.util.Map.entry("store-open", "the store at /x cannot be opened"));
    assertThat(get("/readyz/store-open").statusCode()).isEqualTo(500);
    assertThat(get("/readyz/always").statusCode()).isEqualTo(200);
    assertThat(get("/readyz/nope").statusCode()).isEqualTo(404);
    HttpResponse<String> excluded = get("/readyz?exclude=store-open");
    assertThat(excluded.statusCode()).isEqualTo(200);
  }

  @Test
  void healthzAnswersWhileTheProcessRuns() throws Exception {
    storeProblem.set("not ready");
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    assertThat(get("/healthz").body()).isEqualTo("ok");
    assertThat(get("/livez?verbose").body()).contains("[+]ping ok");
  }

  @Test
  void otherPathsAndMethodsAreRefused() throws Exception {
    assertThat(get("/debug/pprof").statusCode()).isEqualTo(404);
    HttpResponse<String> post =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("x"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
    HttpResponse<Void> head =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/readyz"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.discarding());
    assertThat(head.statusCode()).isEqualTo(200);
  }

  @Test
  void aTakenAddressIsAClearError() {
    try (MonitorServer second = new MonitorServer("test", registry, checks)) {
      assertThatThrownBy(() -> second.start(base.substring("http://".length())))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("cannot listen on " + base.substring("http://".length()))
          .hasMessageContaining("commonConfig.monitorServer.bindAddress");
    }
  }

  @Test
  void parsesBindAddresses() {
    assertThat(MonitorServer.parse("127.0.0.1:9091").getPort()).isEqualTo(9091);
    assertThat(MonitorServer.parse("[::1]:10560").getAddress().isLoopbackAddress()).isTrue();
    assertThatThrownBy(() -> MonitorServer.parse("localhost"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> MonitorServer.parse("127.0.0.1:99999"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void labelValuesAreBounded() {
    LabelValues<String> v = new LabelValues<>(2, s -> "child-" + s);
    assertThat(v.get("a")).isEqualTo("child-a");
    assertThat(v.get("b")).isEqualTo("child-b");
    assertThat(v.get("c")).isEqualTo("child-other");
    assertThat(v.get("a")).isEqualTo("child-a");
    assertThat(v.get(null)).isEqualTo("child-other");
  }
}
