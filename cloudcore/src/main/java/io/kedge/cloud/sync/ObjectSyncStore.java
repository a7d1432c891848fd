package io.kedge.cloud.sync;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kedge.cloud.hub.AckListener;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.Operations;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ObjectSync / ClusterObjectSync ({@code reliablesyncs.kubeedge.io/v1alpha1}): the record of which
 * object versions each node acknowledged. Updated from ACKs ({@link AckListener}); deleted when a
 * node acknowledged a delete. Reads come from informer caches overlaid with what this process wrote
 * and the cache does not show yet. Writes run off the I/O threads, coalesced per object and ordered
 * per object.
 */
public final class ObjectSyncStore implements AckListener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ObjectSyncStore.class);

  public static final String GROUP = "reliablesyncs.kubeedge.io";
  public static final String API_VERSION = GROUP + "/v1alpha1";
  static final ResourceDefinitionContext OBJECT_SYNCS =
      new ResourceDefinitionContext.Builder()
          .withGroup(GROUP)
          .withVersion("v1alpha1")
          .withPlural("objectsyncs")
          .withKind("ObjectSync")
          .withNamespaced(true)
          .build();
  static final ResourceDefinitionContext CLUSTER_OBJECT_SYNCS =
      new ResourceDefinitionContext.Builder()
          .withGroup(GROUP)
          .withVersion("v1alpha1")
          .withPlural("clusterobjectsyncs")
          .withKind("ClusterObjectSync")
          .withNamespaced(false)
          .build();
  private static final String BY_NODE = "node";
  private static final int WRITERS = 4;

  private record Pending(SyncedObject object, boolean delete) {}

  private final KubernetesClient client;
  private final ExecutorService[] writers = new ExecutorService[WRITERS];
  private final Map<String, Pending> pending = new ConcurrentHashMap<>();

  /** What this process wrote (or is writing) that the informers may not show yet. */
  private final Map<String, Pending> local = new ConcurrentHashMap<>();

  private SharedIndexInformer<GenericKubernetesResource> namespaced;
  private SharedIndexInformer<GenericKubernetesResource> cluster;

  public ObjectSyncStore(KubernetesClient client) {
    this.client = client;
    for (int i = 0; i < WRITERS; i++) {
      int n = i;
      writers[i] =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "objectsync-writer-" + n);
                t.setDaemon(true);
                return t;
              });
    }
  }

  /** Starts the informers and waits until they are synced. */
  public void start() {
    namespaced = informer(client.genericKubernetesResources(OBJECT_SYNCS).inAnyNamespace());
    cluster = informer(client.genericKubernetesResources(CLUSTER_OBJECT_SYNCS));
    var a = namespaced.start();
    var b = cluster.start();
    try {
      a.toCompletableFuture().get(60, TimeUnit.SECONDS);
      b.toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("sync: ObjectSync caches not synced yet: {}", e.toString());
    }
  }

  private SharedIndexInformer<GenericKubernetesResource> informer(
      io.fabric8.kubernetes.client.dsl.Informable<GenericKubernetesResource> source) {
    SharedIndexInformer<GenericKubernetesResource> inf = source.runnableInformer(0);
    inf.addIndexers(
        Map.of(
            BY_NODE,
            o -> {
              String node = SyncedObject.nodeOf(o.getMetadata().getName());
              return node == null ? List.of() : List.of(node);
            }));
    inf.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(GenericKubernetesResource o) {
            settle(o);
          }

          @Override
          public void onUpdate(GenericKubernetesResource old, GenericKubernetesResource o) {
            settle(o);
          }

          @Override
          public void onDelete(GenericKubernetesResource o, boolean unknown) {
            SyncedObject s = toSynced(o);
            if (s != null) {
              local.computeIfPresent(s.key(), (k, p) -> p.delete() ? null : p);
            }
          }
        });
    return inf;
  }

  /** Drops the local overlay once the cache shows the same or a newer version. */
  private void settle(GenericKubernetesResource o) {
    SyncedObject s = toSynced(o);
    if (s != null) {
      local.computeIfPresent(
          s.key(),
          (k, p) ->
              !p.delete() && !SyncedObject.newer(p.object().resourceVersion(), s.resourceVersion())
                  ? null
                  : p);
    }
  }

  static SyncedObject toSynced(GenericKubernetesResource o) {
    String name = o.getMetadata().getName();
    String node = SyncedObject.nodeOf(name);
    if (node == null) {
      return null;
    }
    Map<String, Object> spec = map(o.getAdditionalProperties().get("spec"));
    Map<String, Object> status = map(o.getAdditionalProperties().get("status"));
    return new SyncedObject(
        node,
        SyncedObject.uidOf(name),
        o.getMetadata().getNamespace() == null || o.getMetadata().getNamespace().isEmpty()
            ? null
            : o.getMetadata().getNamespace(),
        str(spec.get("objectAPIVersion")),
        str(spec.get("objectKind")),
        str(spec.get("objectName")),
        str(status.get("objectResourceVersion")));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  private static String str(Object o) {
    return o == null ? "" : o.toString();
  }

  /** The nodes that have acknowledged anything (as far as this process knows). */
  public java.util.Set<String> nodes() {
    java.util.Set<String> out = new java.util.TreeSet<>();
    for (SharedIndexInformer<GenericKubernetesResource> inf : List.of(namespaced, cluster)) {
      if (inf == null) {
        continue;
      }
      for (GenericKubernetesResource o : inf.getStore().list()) {
        String node = SyncedObject.nodeOf(o.getMetadata().getName());
        if (node != null) {
          out.add(node);
        }
      }
    }
    return out;
  }

  /** Everything node {@code node} acknowledged (as far as this process knows). */
  public List<SyncedObject> forNode(String node) {
    Map<String, SyncedObject> out = new java.util.LinkedHashMap<>();
    for (SharedIndexInformer<GenericKubernetesResource> inf : List.of(namespaced, cluster)) {
      if (inf == null) {
        continue;
      }
      for (GenericKubernetesResource o : inf.getIndexer().byIndex(BY_NODE, node)) {
        SyncedObject s = toSynced(o);
        if (s != null) {
          out.put(s.key(), s);
        }
      }
    }
    for (Pending p : local.values()) {
      if (p.object().node().equals(node)) {
        if (p.delete()) {
          out.remove(p.object().key());
        } else {
          out.merge(
              p.object().key(),
              p.object(),
              (cached, mine) ->
                  SyncedObject.newer(mine.resourceVersion(), cached.resourceVersion())
                      ? mine
                      : cached);
        }
      }
    }
    return new ArrayList<>(out.values());
  }

  // ---------------------------------------------------------------- writes

  @Override
  public void acknowledged(String node, Message delivered) {
    SyncedObject s = SyncedObject.fromDelivered(node, delivered);
    if (s == null) {
      LOG.debug("sync: ACK of {} from node {} names no object; not recorded", delivered, node);
      return;
    }
    boolean delete = Operations.DELETE.equals(delivered.operation());
    if (!delete && s.resourceVersion().isEmpty()) {
      return;
    }
    submit(new Pending(s, delete));
  }

  @Override
  public boolean holds(String node, Message m) {
    SyncedObject s = SyncedObject.fromDelivered(node, m);
    if (s == null) {
      return false;
    }
    Pending mine = local.get(s.key());
    if (Operations.DELETE.equals(m.operation())) {
      // The edge acknowledged the deletion already (recorded here, or its record is gone).
      return mine != null ? mine.delete() : cached(s) == null;
    }
    if (s.resourceVersion().isEmpty()) {
      return false;
    }
    String held = "";
    if (mine != null && !mine.delete()) {
      held = mine.object().resourceVersion();
    }
    GenericKubernetesResource c = cached(s);
    SyncedObject cached = c == null ? null : toSynced(c);
    if (cached != null && SyncedObject.newer(cached.resourceVersion(), held)) {
      held = cached.resourceVersion();
    }
    return !held.isEmpty() && !SyncedObject.newer(s.resourceVersion(), held);
  }

  /** Forgets what a node acknowledged about an object (e.g. the object is gone for good). */
  public void forget(SyncedObject s) {
    submit(new Pending(s, true));
  }

  private void submit(Pending p) {
    String key = p.object().key();
    local.put(key, p);
    if (pending.put(key, p) == null) {
      writerFor(key).execute(() -> drain(key));
    }
  }

  private ExecutorService writerFor(String key) {
    return writers[Math.floorMod(key.hashCode(), WRITERS)];
  }

  private void drain(String key) {
    Pending p = pending.remove(key);
    if (p == null) {
      return;
    }
    try {
      if (p.delete()) {
        ops(p.object()).withName(p.object().syncName()).delete();
      } else {
        upsert(p.object());
      }
    } catch (KubernetesClientException e) {
      LOG.warn(
          "sync: cannot record {} of {} {}/{} for node {}: {} (retrying)",
          p.delete() ? "deletion" : "version " + p.object().resourceVersion(),
          p.object().kind(),
          p.object().namespace(),
          p.object().name(),
          p.object().node(),
          e.getMessage());
      java.util.concurrent.CompletableFuture.delayedExecutor(5, TimeUnit.SECONDS)
          .execute(
              () -> {
                if (pending.putIfAbsent(key, p) == null) {
                  writerFor(key).execute(() -> drain(key));
                }
              });
    }
  }

  private NamespacedOps ops(SyncedObject s) {
    if (s.clusterScoped()) {
      return new NamespacedOps(client.genericKubernetesResources(CLUSTER_OBJECT_SYNCS));
    }
    return new NamespacedOps(
        client.genericKubernetesResources(OBJECT_SYNCS).inNamespace(s.namespace()));
  }

  private record NamespacedOps(
      io.fabric8.kubernetes.client.dsl.NonNamespaceOperation<
              GenericKubernetesResource,
              GenericKubernetesResourceList,
              Resource<GenericKubernetesResource>>
          ops) {
    Resource<GenericKubernetesResource> withName(String n) {
      return ops.withName(n);
    }

    GenericKubernetesResource create(GenericKubernetesResource o) {
      return ops.resource(o).create();
    }
  }

  private void upsert(SyncedObject s) {
    NamespacedOps ops = ops(s);
    String statusPatch = "{\"status\":{\"objectResourceVersion\":\"" + s.resourceVersion() + "\"}}";
    GenericKubernetesResource cached = cached(s);
    if (cached == null) {
      GenericKubernetesResource o = new GenericKubernetesResource();
      o.setApiVersion(API_VERSION);
      o.setKind(s.clusterScoped() ? "ClusterObjectSync" : "ObjectSync");
      o.setMetadata(
          new ObjectMetaBuilder().withName(s.syncName()).withNamespace(s.namespace()).build());
      o.setAdditionalProperty(
          "spec",
          Map.of(
              "objectAPIVersion", s.apiVersion(),
              "objectKind", s.kind(),
              "objectName", s.name()));
      try {
        ops.create(o);
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
      }
    } else {
      SyncedObject c = toSynced(cached);
      if (c != null && !SyncedObject.newer(s.resourceVersion(), c.resourceVersion())) {
        return;
      }
    }
    ops.withName(s.syncName())
        .subresource("status")
        .patch(PatchContext.of(PatchType.JSON_MERGE), statusPatch);
  }

  private GenericKubernetesResource cached(SyncedObject s) {
    SharedIndexInformer<GenericKubernetesResource> inf = s.clusterScoped() ? cluster : namespaced;
    return inf == null ? null : inf.getStore().getByKey(s.key());
  }

  @Override
  public void close() {
    for (ExecutorService w : writers) {
      w.shutdown();
    }
    for (ExecutorService w : writers) {
      try {
        w.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (namespaced != null) {
      namespaced.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }
}
