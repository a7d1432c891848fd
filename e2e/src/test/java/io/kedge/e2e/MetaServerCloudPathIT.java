package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ConfigMapList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.kedge.controlplane.ControlPlane;
import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.Scope;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * MetaServer through the real cloud path (CloudHub, DynamicController, EdgeHub over mTLS) against
 * the real control plane, with fabric8 as the edge client: consistent reads, cached informer reads,
 * watches, writes, the cloud going away and coming back.
 */
@WithControlPlane
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetaServerCloudPathIT {
  static final Gvr CMS = Gvr.core("configmaps");

  InProcessKedge kedge;
  KubernetesClient admin;
  KubernetesClient edge;

  @BeforeAll
  void start(ControlPlane plane, @TempDir Path dir) {
    admin = plane.adminClient();
    kedge = InProcessKedge.start(plane, dir, "edge-cloudpath");
    MetaServerFixture.prepare(admin, kedge);
    edge = MetaServerFixture.edgeClient(kedge);
  }

  @AfterAll
  void stop() {
    if (edge != null) {
      edge.close();
    }
    if (kedge != null) {
      kedge.close();
    }
  }

  static ConfigMap cm(String name, Map<String, String> data) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withData(data)
        .build();
  }

  @Test
  void readsWritesAndWatchesGoThroughTheCloudAndTheStoreAnswersOffline() throws Exception {
    String ns = MetaServerFixture.namespace(admin, "cloudpath");
    // write through MetaServer, read back directly and through MetaServer
    ConfigMap created =
        edge.configMaps().inNamespace(ns).resource(cm("made-at-edge", Map.of("a", "1"))).create();
    assertThat(created.getMetadata().getResourceVersion()).isNotEmpty();
    ConfigMap direct = admin.configMaps().inNamespace(ns).withName("made-at-edge").get();
    assertThat(direct.getData()).containsEntry("a", "1");
    ConfigMap viaEdge = edge.configMaps().inNamespace(ns).withName("made-at-edge").get();
    assertThat(viaEdge).isEqualTo(direct);
    admin.configMaps().inNamespace(ns).resource(cm("from-cloud", Map.of("b", "2"))).create();

    // an informer-style list subscribes the scope; then it is answered from the store
    ConfigMapList cached =
        edge.configMaps()
            .inNamespace(ns)
            .list(
                new io.fabric8.kubernetes.api.model.ListOptionsBuilder()
                    .withResourceVersion("0")
                    .build());
    assertThat(cached.getItems())
        .extracting(c -> c.getMetadata().getName())
        .contains("made-at-edge", "from-cloud");
    assertThat(kedge.metaServer.cached(new Scope(CMS, ns))).isTrue();

    // a watch (fabric8: over WebSocket) sees what happens at the apiserver
    List<String> events = new CopyOnWriteArrayList<>();
    Watch w =
        edge.configMaps()
            .inNamespace(ns)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, ConfigMap resource) {
                    events.add(
                        action + " " + resource.getMetadata().getName() + " " + resource.getData());
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
    try {
      admin
          .configMaps()
          .inNamespace(ns)
          .withName("from-cloud")
          .edit(
              c -> {
                c.getData().put("b", "3");
                return c;
              });
      Waits.until(
          "the edge watch sees the change",
          Duration.ofSeconds(60),
          () ->
              events.stream()
                  .anyMatch(e -> e.startsWith("MODIFIED from-cloud") && e.contains("b=3")));
    } finally {
      w.close();
    }

    // the cloud goes away: reads still answered, writes refused with 503
    kedge.stopCloud();
    try {
      assertThat(edge.configMaps().inNamespace(ns).withName("from-cloud").get().getData())
          .containsEntry("b", "3");
      assertThat(edge.configMaps().inNamespace(ns).list().getItems())
          .hasSize(cached.getItems().size());
      KubernetesClientException refused = null;
      try {
        edge.configMaps().inNamespace(ns).resource(cm("while-away", Map.of())).create();
      } catch (KubernetesClientException e) {
        refused = e;
      }
      assertThat(refused).isNotNull();
      assertThat(refused.getCode()).isEqualTo(503);
      // meanwhile the cluster changes
      admin.configMaps().inNamespace(ns).withName("made-at-edge").delete();
      admin
          .configMaps()
          .inNamespace(ns)
          .resource(cm("created-while-away", Map.of("c", "1")))
          .create();
      admin
          .configMaps()
          .inNamespace(ns)
          .withName("from-cloud")
          .edit(
              c -> {
                c.getData().put("b", "4");
                return c;
              });
    } finally {
      kedge.startCloud();
    }
    kedge.awaitConnected();
    // after the cloud is back the store converges to the cluster
    Waits.until(
        "the edge's cache converges",
        Duration.ofSeconds(60),
        () -> {
          var list =
              edge.configMaps()
                  .inNamespace(ns)
                  .list(
                      new io.fabric8.kubernetes.api.model.ListOptionsBuilder()
                          .withResourceVersion("0")
                          .build());
          var truth = admin.configMaps().inNamespace(ns).list();
          return names(list).equals(names(truth))
              && list.getItems().stream()
                  .allMatch(c -> truth.getItems().stream().anyMatch(t -> t.equals(c)));
        });
  }

  static String names(ConfigMapList l) {
    return l.getItems().stream()
        .map(c -> c.getMetadata().getName() + "@" + c.getMetadata().getResourceVersion())
        .sorted()
        .collect(Collectors.joining(","));
  }
}
