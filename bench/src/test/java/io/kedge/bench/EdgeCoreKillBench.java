package io.kedge.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.Scope;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import io.kedge.edge.store.StoredObject;
import io.kedge.protocol.Json;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.EdgeCoreProcess;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * {@code kill -9} of a real edgecore 10 times during 5,000 updates (written through its MetaServer
 * and directly at the apiserver, in a namespace the edge keeps cached): each restart must reopen
 * the store and answer, no update MetaServer acknowledged may be missing at the apiserver, the
 * cache must converge, and after a last {@code kill -9} the database must open holding exactly the
 * apiserver's state. Records restart and convergence times.
 */
@WithControlPlane
class EdgeCoreKillBench {
  private static final Logger LOG = LoggerFactory.getLogger(EdgeCoreKillBench.class);
  private static final String COMMAND =
      "mvn -B -ntp -Pbench -pl bench -am verify -Dit.test=EdgeCoreKillBench";
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final int KILLS = Integer.getInteger("bench.kills", 10);
  private static final int UPDATES = Integer.getInteger("bench.updates", 5_000);
  private static final int EDGE_KEYS = 10;
  private static final int CLOUD_KEYS = 10;

  /** What edge pods may do with ConfigMaps through cloudcore here (aggregated into its role). */
  static final String RBAC =
      "apiVersion: rbac.authorization.k8s.io/v1\n"
          + "kind: ClusterRole\n"
          + "metadata:\n"
          + "  name: bench-edgecore-kill\n"
          + "  labels: {rbac/aggregate-to-cloudcore: \"true\"}\n"
          + "rules:\n"
          + "- apiGroups: [\"\"]\n"
          + "  resources: [\"configmaps\"]\n"
          + "  verbs: [\"get\", \"list\", \"watch\", \"create\", \"update\", \"patch\", \"delete\"]\n";

  @TempDir Path dir;

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  static ConfigMap cm(String name) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .addToData("n", "0")
        .build();
  }

  static Map<String, String> truth(KubernetesClient admin, String ns) {
    Map<String, String> m = new TreeMap<>();
    for (ConfigMap c : admin.configMaps().inNamespace(ns).list().getItems()) {
      m.put(c.getMetadata().getName(), c.getMetadata().getResourceVersion());
    }
    return m;
  }

  private HttpResponse<String> send(URI base, String method, String path, String patch)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(Duration.ofSeconds(30))
            .header("Accept", "application/json");
    if (patch != null) {
      b.header("Content-Type", "application/merge-patch+json")
          .method(method, HttpRequest.BodyPublishers.ofString(patch));
    } else {
      b.GET();
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private boolean answers(URI base, String path) {
    try {
      return send(base, "GET", path, null).statusCode() == 200;
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void killEdgecoreDuringUpdates(ControlPlane plane, KubernetesClient admin) throws Exception {
    admin
        .resourceList(
            admin.load(new ByteArrayInputStream(RBAC.getBytes(StandardCharsets.UTF_8))).items())
        .serverSideApply();
    String ns = "bench-kill-" + UUID.randomUUID().toString().substring(0, 6);
    admin
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    for (int i = 0; i < EDGE_KEYS; i++) {
      admin.configMaps().inNamespace(ns).resource(cm("e" + i)).create();
    }
    for (int i = 0; i < CLOUD_KEYS; i++) {
      admin.configMaps().inNamespace(ns).resource(cm("c" + i)).create();
    }
    String list = "/api/v1/namespaces/" + ns + "/configmaps";
    List<Long> answeredMs = new ArrayList<>();
    List<Long> reconnectedMs = new ArrayList<>();
    long convergedMs;
    AtomicInteger edgeWrites = new AtomicInteger();
    AtomicInteger cloudWrites = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    try (CloudCoreProcess cloud =
            CloudCoreProcess.start(
                plane,
                dir.resolve("cloudcore"),
                "modules.dynamicController.enable=true",
                "modules.dynamicController.identity=cloudcore",
                "modules.dynamicController.tokenlessIdentity=cloudcore");
        EdgeCoreProcess edge =
            EdgeCoreProcess.start(
                dir.resolve("edge"),
                "bench-kill",
                cloud.hubUri(),
                cloud.bootstrapUri(),
                cloud.token(),
                "modules.metaManager.metaServer.enable=true")) {
      URI base = edge.metaServerUri();
      edge.awaitConnections(1, WAIT);
      Waits.until(
          "the edge caches the namespace", WAIT, () -> answers(base, list + "?resourceVersion=0"));

      AtomicBoolean running = new AtomicBoolean(true);
      AtomicLongArray acked = new AtomicLongArray(EDGE_KEYS);
      Thread edgeWriter =
          new Thread(
              () -> {
                long n = 0;
                while (running.get()) {
                  n++;
                  int k = (int) (n % EDGE_KEYS);
                  try {
                    HttpResponse<String> r =
                        send(base, "PATCH", list + "/e" + k, "{\"data\":{\"n\":\"" + n + "\"}}");
                    if (r.statusCode() == 200) {
                      acked.set(k, n);
                      edgeWrites.incrementAndGet();
                    } else {
                      refused.incrementAndGet();
                      Thread.sleep(50);
                    }
                  } catch (InterruptedException e) {
                    return;
                  } catch (Exception e) {
                    refused.incrementAndGet(); // edgecore is down
                    sleepQuietly(50);
                  }
                }
              },
              "edge-writer");
      Thread cloudWriter =
          new Thread(
              () -> {
                long n = 0;
                while (running.get()) {
                  n++;
                  String name = "c" + (n % CLOUD_KEYS);
                  long v = n;
                  try {
                    admin
                        .configMaps()
                        .inNamespace(ns)
                        .withName(name)
                        .edit(
                            c -> {
                              c.getData().put("n", Long.toString(v));
                              return c;
                            });
                    cloudWrites.incrementAndGet();
                  } catch (RuntimeException e) {
                    LOG.info("update of {} failed: {}", name, e.getMessage());
                  }
                }
              },
              "cloud-writer");
      edgeWriter.start();
      cloudWriter.start();
      try {
        for (int round = 1; round <= KILLS; round++) {
          int at = UPDATES * round / (KILLS + 1);
          Waits.until(
              at + " updates",
              Duration.ofMinutes(10),
              () -> edgeWrites.get() + cloudWrites.get() >= at);
          edge.kill();
          edge.process().waitFor(Duration.ofSeconds(30));
          long t0 = System.nanoTime();
          edge.startProcess();
          Waits.until(
              "MetaServer answers (restart " + round + ")",
              WAIT,
              () -> answers(base, list + "?resourceVersion=0"));
          answeredMs.add((System.nanoTime() - t0) / 1_000_000);
          edge.awaitConnections(round + 1, WAIT);
          reconnectedMs.add((System.nanoTime() - t0) / 1_000_000);
          LOG.info(
              "restart {}: answered after {} ms, connected after {} ms; {} + {} updates",
              round,
              answeredMs.get(round - 1),
              reconnectedMs.get(round - 1),
              edgeWrites.get(),
              cloudWrites.get());
        }
        Waits.until(
            UPDATES + " updates",
            Duration.ofMinutes(10),
            () -> edgeWrites.get() + cloudWrites.get() >= UPDATES);
      } finally {
        running.set(false);
        edgeWriter.join(60_000);
        cloudWriter.join(60_000);
      }
      assertThat(edge.log())
          .doesNotContain("integrity check")
          .doesNotContain("Exception in thread");
      for (int k = 0; k < EDGE_KEYS; k++) {
        ConfigMap c = admin.configMaps().inNamespace(ns).withName("e" + k).get();
        assertThat(Long.parseLong(c.getData().get("n")))
            .as("e" + k + " holds its last acknowledged update")
            .isGreaterThanOrEqualTo(acked.get(k));
      }
      long t0 = System.nanoTime();
      Waits.until(
          "the cache converges",
          WAIT,
          () -> {
            JsonNode l = Json.parse(send(base, "GET", list + "?resourceVersion=0", null).body());
            Map<String, String> m = new TreeMap<>();
            for (JsonNode i : l.path("items")) {
              m.put(
                  i.path("metadata").path("name").asString(),
                  i.path("metadata").path("resourceVersion").asString());
            }
            return m.equals(truth(admin, ns));
          });
      convergedMs = (System.nanoTime() - t0) / 1_000_000;
      Map<String, String> end = truth(admin, ns);
      edge.kill();
      edge.process().waitFor(Duration.ofSeconds(30));
      try (SqliteStore store = SqliteStore.open(StoreSettings.defaults(edge.database()))) {
        Map<String, String> stored = new TreeMap<>();
        for (StoredObject o : store.list(new Scope(Gvr.core("configmaps"), ns), "", 0).objects()) {
          stored.put(
              o.name(), Json.parse(o.json()).path("metadata").path("resourceVersion").asString());
        }
        assertThat(stored).isEqualTo(end);
      }
    }
    List<Long> a = new ArrayList<>(answeredMs);
    List<Long> c = new ArrayList<>(reconnectedMs);
    Collections.sort(a);
    Collections.sort(c);
    BenchmarkReport.section("edgecore-kill", "edgecore kill -9 during updates", COMMAND)
        .line(
            "Real cloudcore and edgecore processes (edge JVM flags) against the local kube-apiserver"
                + " v1.20.2 on the same cores. Updates go to ConfigMaps in a namespace the edge keeps"
                + " cached: merge patches through MetaServer and edits directly at the apiserver;"
                + " edgecore gets `kill -9` at evenly spaced points. After each kill the store must"
                + " reopen and MetaServer answer; at the end no update MetaServer acknowledged may be"
                + " missing at the apiserver, the cache must converge, and after one more `kill -9`"
                + " the database must open holding exactly the apiserver's state (all held).")
        .line("")
        .table(
            List.of("measure", "value"),
            List.of(
                List.of("kills", Integer.toString(KILLS)),
                List.of(
                    "updates (through MetaServer + at the apiserver)",
                    (edgeWrites.get() + cloudWrites.get())
                        + " ("
                        + edgeWrites.get()
                        + " + "
                        + cloudWrites.get()
                        + ")"),
                List.of(
                    "writes refused or unanswered while edgecore was down or offline",
                    Integer.toString(refused.get())),
                List.of(
                    "restart → MetaServer answers from the store, p50 / max ms",
                    a.get(a.size() / 2) + " / " + a.get(a.size() - 1)),
                List.of(
                    "restart → connected to the cloud, p50 / max ms",
                    c.get(c.size() / 2) + " / " + c.get(c.size() - 1)),
                List.of("cache converged after the last update, ms", Long.toString(convergedMs))))
        .write();
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
