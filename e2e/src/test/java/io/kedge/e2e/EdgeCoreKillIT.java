package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
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
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * The short CI version of killing edgecore during updates: real cloudcore and edgecore processes,
 * updates written through MetaServer and directly at the apiserver while edgecore gets {@code kill
 * -9} several times. Each time the store opens cleanly and MetaServer answers again; no update
 * MetaServer acknowledged is missing at the apiserver; the cache converges to the apiserver's state
 * and still holds it after one more {@code kill -9}, read straight from the database file.
 */
@WithControlPlane
class EdgeCoreKillIT {
  private static final Logger LOG = LoggerFactory.getLogger(EdgeCoreKillIT.class);
  private static final Duration WAIT = Duration.ofSeconds(120);
  private static final int KILLS = 3;
  private static final int EDGE_KEYS = 10;
  private static final int CLOUD_KEYS = 10;

  @TempDir Path dir;

  static ConfigMap cm(String name, long n) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .addToData("n", Long.toString(n))
        .build();
  }

  static Map<String, String> truth(KubernetesClient admin, String ns) {
    Map<String, String> m = new TreeMap<>();
    for (ConfigMap c : admin.configMaps().inNamespace(ns).list().getItems()) {
      m.put(c.getMetadata().getName(), c.getMetadata().getResourceVersion());
    }
    return m;
  }

  static Map<String, String> names(JsonNode list) {
    Map<String, String> m = new TreeMap<>();
    for (JsonNode i : list.path("items")) {
      m.put(
          i.path("metadata").path("name").asString(),
          i.path("metadata").path("resourceVersion").asString());
    }
    return m;
  }

  @Test
  void killedDuringUpdatesTheStoreOpensCleanlyAndConverges(
      ControlPlane plane, KubernetesClient admin) throws Exception {
    MetaServerFixture.apply(admin, MetaServerFixture.CLOUDCORE_EXTRA);
    String ns = MetaServerFixture.namespace(admin, "kill");
    for (int i = 0; i < EDGE_KEYS; i++) {
      admin.configMaps().inNamespace(ns).resource(cm("e" + i, 0)).create();
    }
    for (int i = 0; i < CLOUD_KEYS; i++) {
      admin.configMaps().inNamespace(ns).resource(cm("c" + i, 0)).create();
    }
    String list = "/api/v1/namespaces/" + ns + "/configmaps";
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
                "edge-kill",
                cloud.hubUri(),
                cloud.bootstrapUri(),
                cloud.token(),
                "modules.metaManager.metaServer.enable=true")) {
      EdgeHttp http = new EdgeHttp(edge.metaServerUri().toString());
      edge.awaitConnections(1, WAIT);
      Waits.until(
          "the edge caches the namespace's configmaps",
          WAIT,
          () -> answers(http, list + "?resourceVersion=0"));

      AtomicBoolean running = new AtomicBoolean(true);
      AtomicLongArray acked = new AtomicLongArray(EDGE_KEYS);
      AtomicInteger edgeWrites = new AtomicInteger();
      AtomicInteger refused = new AtomicInteger();
      AtomicInteger cloudWrites = new AtomicInteger();
      Map<String, Integer> codes = new java.util.concurrent.ConcurrentHashMap<>();
      Thread edgeWriter =
          new Thread(
              () -> {
                long n = 0;
                while (running.get()) {
                  n++;
                  int k = (int) (n % EDGE_KEYS);
                  try {
                    EdgeHttp.Answer a =
                        http.send(
                            "PATCH",
                            list + "/e" + k,
                            "application/merge-patch+json",
                            "{\"data\":{\"n\":\"" + n + "\"}}");
                    if (a.code() == 200) {
                      acked.set(k, n);
                      edgeWrites.incrementAndGet();
                    } else {
                      refused.incrementAndGet();
                      codes.merge(
                          a.code() + " " + a.json().path("reason").asString(), 1, Integer::sum);
                      sleep(50);
                    }
                  } catch (RuntimeException e) {
                    refused.incrementAndGet(); // edgecore is down
                    sleep(50);
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
                    LOG.info("update of {} at the apiserver failed: {}", name, e.getMessage());
                  }
                  sleep(10);
                }
              },
              "cloud-writer");
      edgeWriter.start();
      cloudWriter.start();
      try {
        for (int round = 1; round <= KILLS; round++) {
          sleep(ThreadLocalRandom.current().nextLong(1_000, 4_000));
          edge.kill();
          edge.process().waitFor(Duration.ofSeconds(30));
          LOG.info(
              "edgecore killed ({} of {}); {} writes through MetaServer, {} at the apiserver so far",
              round,
              KILLS,
              edgeWrites.get(),
              cloudWrites.get());
          edge.startProcess();
          Duration back =
              Waits.until(
                  "MetaServer answers from the reopened store (round " + round + ")",
                  WAIT,
                  () -> answers(http, list + "?resourceVersion=0"));
          LOG.info("edgecore answered again {} ms after the restart", back.toMillis());
          edge.awaitConnections(round + 1, WAIT);
          int before = edgeWrites.get();
          Duration writing =
              Waits.until(
                  "writes through MetaServer acknowledged again (round " + round + ")",
                  WAIT,
                  () -> edgeWrites.get() > before);
          LOG.info("writes acknowledged again {} ms after reconnecting", writing.toMillis());
          assertThat(edge.process().isAlive()).isTrue();
        }
        sleep(2_000);
      } finally {
        running.set(false);
        edgeWriter.join(60_000);
        cloudWriter.join(60_000);
      }
      LOG.info(
          "{} updates acknowledged by MetaServer ({} refused or unanswered: {}), {} at the"
              + " apiserver",
          edgeWrites.get(),
          refused.get(),
          codes,
          cloudWrites.get());
      assertThat(edgeWrites.get()).isPositive();
      assertThat(edge.log())
          .doesNotContain("integrity check")
          .doesNotContain("Exception in thread");

      // nothing MetaServer acknowledged is missing
      for (int k = 0; k < EDGE_KEYS; k++) {
        ConfigMap c = admin.configMaps().inNamespace(ns).withName("e" + k).get();
        assertThat(Long.parseLong(c.getData().get("n")))
            .as("e" + k + " holds at least its last acknowledged update")
            .isGreaterThanOrEqualTo(acked.get(k));
      }
      // the cache converges
      Duration conv =
          Waits.until(
              "the edge's cache converges to the apiserver",
              WAIT,
              () -> names(http.get(list + "?resourceVersion=0").json()).equals(truth(admin, ns)));
      LOG.info("cache converged {} ms after the updates stopped", conv.toMillis());

      // one more kill -9: what the edge had is in its database, which opens cleanly
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
      cloud.assertNoForbidden(); // the shipped ClusterRoles cover cloudcore's own calls
    }
  }

  private static boolean answers(EdgeHttp http, String path) {
    try {
      return http.get(path).code() == 200;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
