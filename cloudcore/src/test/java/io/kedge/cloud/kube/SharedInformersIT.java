package io.kedge.cloud.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.kedge.testkit.junit.WithControlPlane;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The shared informers on the real apiserver: objects are kept once (as trees here; fabric8's store
 * keeps only names and versions), "synced" still means every listed object is there, and a deletion
 * hands subscribers the object's last state.
 */
@WithControlPlane
class SharedInformersIT {
  private static final ApiResource CONFIGMAPS =
      new ApiResource("", "v1", "configmaps", "ConfigMap", true, List.of("list", "watch"));

  @Test
  void syncedHoldsEveryListedObjectWholeAndDeletionsCarryTheLastState(KubernetesClient admin)
      throws Exception {
    String ns = namespace(admin);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (SharedInformers informers = new SharedInformers(admin, pool)) {
      int count = 40;
      createConfigMaps(admin, ns, count);
      try (SharedInformers.Handle h = informers.acquire(CONFIGMAPS)) {
        h.synced().get(60, TimeUnit.SECONDS);
        // On the event thread right after "synced": everything listed, each object whole.
        CompletableFuture<List<JsonNode>> snapshot = new CompletableFuture<>();
        // (The namespace also holds the controller-manager's kube-root-ca.crt.)
        h.execute(
            v ->
                snapshot.complete(
                    v.list(ns).stream()
                        .filter(o -> o.path("metadata").path("name").asString().startsWith("cm-"))
                        .toList()));
        List<JsonNode> listed = snapshot.get(30, TimeUnit.SECONDS);
        assertThat(listed).hasSize(count);
        for (JsonNode o : listed) {
          String name = o.path("metadata").path("name").asString();
          assertThat(o.path("data").path("k").asString())
              .isEqualTo("value-" + name.substring("cm-".length()));
          assertThat(o.path("kind").asString()).isEqualTo("ConfigMap");
        }

        // Kept once: fabric8's store has the name and version only, not a second copy.
        var kept = h.informerStoreEntry(ns, "cm-5");
        assertThat(kept).isNotNull();
        assertThat(kept.getMetadata().getResourceVersion()).isNotBlank();
        assertThat(kept.getMetadata().getManagedFields()).isNullOrEmpty();
        assertThat(kept.getAdditionalProperties()).doesNotContainKey("data");

        LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();
        h.subscribe(
            (type, old, object) ->
                events.add(
                    type
                        + " "
                        + object.path("metadata").path("name").asString()
                        + " "
                        + object.path("data").path("k").asString()
                        + " old="
                        + (old == null ? "none" : old.path("data").path("k").asString())));
        admin
            .configMaps()
            .inNamespace(ns)
            .withName("cm-3")
            .edit(c -> new ConfigMapBuilder(c).withData(Map.of("k", "changed")).build());
        assertThat(events.poll(30, TimeUnit.SECONDS))
            .isEqualTo("MODIFIED cm-3 changed old=value-3");
        admin.configMaps().inNamespace(ns).withName("cm-3").delete();
        assertThat(events.poll(30, TimeUnit.SECONDS)).isEqualTo("DELETED cm-3 changed old=changed");
        assertThat(h.get(ns, "cm-3")).isNull();
        assertThat(h.get(ns, "cm-4").path("data").path("k").asString()).isEqualTo("value-4");
      }
    } finally {
      pool.shutdownNow();
      admin.namespaces().withName(ns).delete();
    }
  }

  /**
   * Whoever waits for "synced" (the EdgeController, before cloudcore takes edge connections) must
   * find every listed object already handed to the subscribers, not only kept: the last one's
   * notification used to follow the completion, so a node that connected in between was reconciled
   * against an index without it.
   */
  @Test
  void syncedFollowsTheSubscribersSeeingEveryListedObject(KubernetesClient admin) throws Exception {
    String ns = namespace(admin);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    ExecutorService slow = Executors.newCachedThreadPool();
    // fabric8 hands its notifications to the client's task executor: late ones, after the first
    // list is complete, are what "synced" must wait for
    Executor late =
        task ->
            slow.execute(
                () -> {
                  pause(20);
                  task.run();
                });
    try (KubernetesClient client =
            new KubernetesClientBuilder()
                .withConfig(admin.getConfiguration())
                .withTaskExecutor(late)
                .build();
        SharedInformers informers = new SharedInformers(client, pool)) {
      int count = 10;
      createConfigMaps(admin, ns, count);
      Set<String> handedOn = ConcurrentHashMap.newKeySet();
      try (SharedInformers.Handle h = informers.acquire(CONFIGMAPS)) {
        // subscribed before the first list is in; a slow subscriber widens any gap between the
        // completion and the last notification
        h.subscribe(
            (type, old, object) -> {
              if (!ns.equals(object.path("metadata").path("namespace").asString())) {
                return;
              }
              pause(20);
              handedOn.add(object.path("metadata").path("name").asString());
            });
        h.synced().get(120, TimeUnit.SECONDS);
        Set<String> atSync = Set.copyOf(handedOn);
        for (int i = 0; i < count; i++) {
          assertThat(atSync).as("handed on when synced completed").contains("cm-" + i);
        }
      }
    } finally {
      pool.shutdownNow();
      slow.shutdownNow();
      admin.namespaces().withName(ns).delete();
    }
  }

  /** A fresh namespace. */
  private static String namespace(KubernetesClient admin) {
    String ns = "informers-" + UUID.randomUUID().toString().substring(0, 6);
    admin
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    return ns;
  }

  /** ConfigMaps {@code cm-0} … with {@code k: value-<i>}. */
  private static void createConfigMaps(KubernetesClient admin, String ns, int count) {
    for (int i = 0; i < count; i++) {
      admin
          .configMaps()
          .inNamespace(ns)
          .resource(
              new ConfigMapBuilder()
                  .withNewMetadata()
                  .withName("cm-" + i)
                  .endMetadata()
                  .withData(Map.of("k", "value-" + i))
                  .build())
          .create();
    }
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
