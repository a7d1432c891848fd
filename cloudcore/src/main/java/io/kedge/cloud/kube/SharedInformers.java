package io.kedge.cloud.kube;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.ReducedStateItemStore;
import io.kedge.protocol.Json;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * cloudcore's informers: at most one per resource type, watching all namespaces with cloudcore's
 * own identity, created on first demand and stopped when the last holder lets go. Nothing here
 * blocks: a type that cannot be listed (no such type, RBAC denied) fails only the handles of that
 * type, with the apiserver's Status.
 *
 * <p>Each type has one event thread (a {@link SerialExecutor} on a shared pool). Objects are kept
 * as JSON trees (with {@code apiVersion} and {@code kind}) updated on that thread, so that a
 * subscriber added there sees a snapshot consistent with the events that follow it. Subscribers
 * must treat the trees as read-only.
 */
public final class SharedInformers implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SharedInformers.class);

  public enum EventType {
    ADDED,
    MODIFIED,
    DELETED
  }

  /** Receives a type's changes on its event thread. */
  public interface Subscriber {
    /**
     * @param oldObject the object before the change (null for ADDED)
     * @param object the object after the change (for DELETED: its last state)
     */
    void onEvent(EventType type, JsonNode oldObject, JsonNode object);
  }

  /** Read access to a type's objects. */
  public interface View {
    /** Objects of one namespace, or of all namespaces when {@code namespace} is null. */
    Collection<JsonNode> list(String namespace);

    JsonNode get(String namespace, String name);

    /**
     * On the type's event thread: the highest resourceVersion handed to subscribers so far. Every
     * change of a later version still reaches them; 0 before any.
     */
    default long resourceVersion() {
      return 0;
    }
  }

  private final KubernetesClient client;
  private final Executor dispatch;
  private final Map<String, Informer> informers = new HashMap<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * @param client cloudcore's own client
   * @param dispatch pool for the per-type event threads
   */
  public SharedInformers(KubernetesClient client, Executor dispatch) {
    this.client = client;
    this.dispatch = dispatch;
  }

  /** Holds the informer of {@code resource}, creating and starting it if needed. */
  public Handle acquire(ApiResource resource) {
    Informer inf;
    boolean fresh = false;
    synchronized (informers) {
      if (closed.get()) {
        throw new IllegalStateException("shared informers are closed");
      }
      inf = informers.get(resource.gvr());
      if (inf == null) {
        inf = new Informer(resource);
        informers.put(resource.gvr(), inf);
        fresh = true;
      }
      inf.refs++;
    }
    if (fresh) {
      inf.start();
    }
    return new Handle(inf);
  }

  /** Types with a running informer, e.g. {@code configmaps/v1}. */
  public Set<String> active() {
    synchronized (informers) {
      return new TreeSet<>(informers.keySet());
    }
  }

  @Override
  public void close() {
    List<Informer> all;
    synchronized (informers) {
      closed.set(true);
      all = new ArrayList<>(informers.values());
      informers.clear();
    }
    for (Informer i : all) {
      i.stop();
    }
  }

  private void release(Informer inf) {
    boolean stop = false;
    synchronized (informers) {
      inf.refs--;
      if (inf.refs == 0 && informers.get(inf.resource.gvr()) == inf) {
        informers.remove(inf.resource.gvr());
        stop = true;
      } else if (inf.refs == 0) {
        stop = true; // a failed informer already taken out of the map
      }
    }
    if (stop) {
      inf.stop();
    }
  }

  private void forgetFailed(Informer inf) {
    synchronized (informers) {
      if (informers.get(inf.resource.gvr()) == inf) {
        informers.remove(inf.resource.gvr());
      }
    }
  }

  /** A hold on one type's informer; closing it releases the hold. */
  public final class Handle implements AutoCloseable {
    private final Informer inf;
    private final AtomicBoolean released = new AtomicBoolean();

    private Handle(Informer inf) {
      this.inf = inf;
    }

    public ApiResource resource() {
      return inf.resource;
    }

    /** Completes once the type is listed; fails with an {@link ApiStatusException}. */
    public CompletableFuture<Void> synced() {
      return inf.synced;
    }

    /** Runs {@code task} on the type's event thread. */
    public void execute(Consumer<View> task) {
      inf.events.execute(() -> task.accept(inf));
    }

    /** Adds a subscriber on the event thread; events after this reach it. */
    public void subscribe(Subscriber s) {
      inf.events.execute(() -> inf.subscribers.add(s));
    }

    public void unsubscribe(Subscriber s) {
      inf.events.execute(() -> inf.subscribers.remove(s));
    }

    /** The current object (from any thread), or null. */
    public JsonNode get(String namespace, String name) {
      return inf.get(namespace, name);
    }

    @Override
    public void close() {
      if (released.compareAndSet(false, true)) {
        release(inf);
      }
    }

    /** What fabric8's own store keeps of an object (for tests), or null. */
    GenericKubernetesResource informerStoreEntry(String namespace, String name) {
      SharedIndexInformer<GenericKubernetesResource> i = inf.informer;
      return i == null ? null : i.getStore().getByKey(namespace + "/" + name);
    }
  }

  private final class Informer implements View, ResourceEventHandler<GenericKubernetesResource> {
    final ApiResource resource;
    final SerialExecutor events;
    final CompletableFuture<Void> synced = new CompletableFuture<>();
    final Map<String, Map<String, JsonNode>> objects = new ConcurrentHashMap<>();
    final List<Subscriber> subscribers = new ArrayList<>(); // event thread only
    long appliedRv; // event thread only
    // Until synced (event thread only): the listed objects not applied here yet ("ns/name" to
    // the listed resourceVersion), and the version of every object applied so far.
    Map<String, String> awaiting;
    Map<String, String> seen = new HashMap<>();
    int refs; // guarded by informers
    volatile SharedIndexInformer<GenericKubernetesResource> informer;
    volatile boolean stopped;

    Informer(ApiResource resource) {
      this.resource = resource;
      this.events = new SerialExecutor(dispatch, "informer " + resource.gvr());
    }

    void start() {
      ResourceDefinitionContext ctx =
          new ResourceDefinitionContext.Builder()
              .withGroup(resource.group())
              .withVersion(resource.version())
              .withPlural(resource.resource())
              .withKind(resource.kind())
              .withNamespaced(resource.namespaced())
              .build();
      try {
        SharedIndexInformer<GenericKubernetesResource> i =
            client.genericKubernetesResources(ctx).inAnyNamespace().runnableInformer(0);
        // The objects are kept here, as JSON trees: fabric8's store keeps only what it needs to
        // tell changes apart (namespace, name, resourceVersion), not a second copy of each.
        i.itemStore(
            new ReducedStateItemStore<>(
                ReducedStateItemStore.NAME_KEY_STATE,
                GenericKubernetesResource.class,
                client.getKubernetesSerialization()));
        // The first list must succeed or the type is unusable now (404, 403): fail fast instead
        // of retrying forever; later failures (a dropped watch) are retried.
        i.exceptionHandler((started, t) -> started);
        i.addEventHandler(this);
        informer = i;
        LOG.info("informer {}: starting (cloudcore identity, all namespaces)", resource.gvr());
        i.start()
            .whenComplete(
                (v, t) -> {
                  if (t == null) {
                    // fabric8's store holds everything listed now (keys and versions), its
                    // notifications may still be on their way: "synced" waits until each listed
                    // object has been applied here at its listed version or later, so that a
                    // snapshot here then holds everything listed. The version is read first:
                    // fabric8 records it after the store holds the change, so the store covers
                    // it (including deletions, which leave no object behind to tell their
                    // version).
                    long listedAt = ResourceVersions.parse(i.lastSyncResourceVersion());
                    Map<String, String> listed = new HashMap<>();
                    for (GenericKubernetesResource r : i.getStore().list()) {
                      ObjectMeta m = r.getMetadata();
                      listed.put(
                          key(m.getNamespace() == null ? "" : m.getNamespace(), m.getName()),
                          m.getResourceVersion() == null ? "" : m.getResourceVersion());
                    }
                    events.execute(
                        () -> {
                          appliedRv = Math.max(appliedRv, listedAt);
                          awaiting = listed;
                          awaiting
                              .entrySet()
                              .removeIf(e -> notOlder(seen.get(e.getKey()), e.getValue()));
                          completeSync();
                        });
                  } else {
                    ApiStatusException s =
                        ApiStatusException.from(
                            t, client, "cannot list " + resource.groupResource());
                    LOG.warn(
                        "informer {}: cannot list: {} {}",
                        resource.gvr(),
                        s.code(),
                        s.getMessage());
                    forgetFailed(this);
                    synced.completeExceptionally(s);
                    stopInformer();
                  }
                });
      } catch (RuntimeException e) {
        forgetFailed(this);
        synced.completeExceptionally(
            ApiStatusException.from(e, client, "cannot watch " + resource.groupResource()));
      }
    }

    void stop() {
      stopped = true;
      stopInformer();
      if (!synced.isDone()) {
        synced.completeExceptionally(
            ApiStatusException.of(503, "informer " + resource.gvr() + " stopped"));
      }
      events.execute(
          () -> {
            subscribers.clear();
            objects.clear();
          });
      LOG.info("informer {}: stopped", resource.gvr());
    }

    private void stopInformer() {
      SharedIndexInformer<GenericKubernetesResource> i = informer;
      if (i != null) {
        try {
          i.stop();
        } catch (RuntimeException e) {
          LOG.debug("informer {}: stop failed", resource.gvr(), e);
        }
      }
    }

    // ------------------------------------------------------------------ View

    @Override
    public Collection<JsonNode> list(String namespace) {
      if (namespace != null) {
        Map<String, JsonNode> m = objects.get(namespace);
        return m == null ? List.of() : new ArrayList<>(m.values());
      }
      List<JsonNode> all = new ArrayList<>();
      for (Map<String, JsonNode> m : objects.values()) {
        all.addAll(m.values());
      }
      return all;
    }

    @Override
    public JsonNode get(String namespace, String name) {
      Map<String, JsonNode> m = objects.get(namespace == null ? "" : namespace);
      return m == null ? null : m.get(name);
    }

    @Override
    public long resourceVersion() {
      // Not the reflector's last version: fabric8 records it only after handing the event on, so
      // an event already passed to subscribers here could be newer than it.
      return appliedRv;
    }

    // ------------------------------------------------------------------ fabric8 events

    @Override
    public void onAdd(GenericKubernetesResource obj) {
      JsonNode json = toJson(obj);
      events.execute(() -> apply(EventType.ADDED, json));
    }

    @Override
    public void onUpdate(GenericKubernetesResource oldObj, GenericKubernetesResource newObj) {
      JsonNode json = toJson(newObj);
      events.execute(() -> apply(EventType.MODIFIED, json));
    }

    @Override
    public void onDelete(GenericKubernetesResource obj, boolean finalStateUnknown) {
      JsonNode json = toJson(obj);
      // A deletion found by a relist comes with what fabric8's store kept (name and version):
      // the last state is the tree kept here.
      events.execute(() -> apply(EventType.DELETED, json, finalStateUnknown));
    }

    private void apply(EventType type, JsonNode obj) {
      apply(type, obj, false);
    }

    private void apply(EventType type, JsonNode obj, boolean keptStateIsLast) {
      if (stopped) {
        return;
      }
      JsonNode meta = obj.path("metadata");
      String ns = meta.path("namespace").asString("");
      String name = meta.path("name").asString("");
      appliedRv = Math.max(appliedRv, ResourceVersions.of(obj));
      try {
        store(type, obj, keptStateIsLast, ns, name);
      } finally {
        // only once the object is kept and handed on: "synced" promises both to whoever waits
        if (seen != null) {
          String k = key(ns, name);
          String rv = meta.path("resourceVersion").asString("");
          seen.merge(k, rv, (a, b) -> newer(b, a) ? b : a);
          if (awaiting != null && notOlder(rv, awaiting.get(k))) {
            awaiting.remove(k);
            completeSync();
          }
        }
      }
    }

    /** Keeps the change and hands it to the subscribers. */
    private void store(
        EventType type, JsonNode obj, boolean keptStateIsLast, String ns, String name) {
      JsonNode old;
      if (type != EventType.DELETED) {
        Map<String, JsonNode> m = objects.get(ns);
        JsonNode cur = m == null ? null : m.get(name);
        if (cur != null && !newer(obj, cur)) {
          return; // already known (the initial state), or a late notification of an older version
        }
      }
      if (type == EventType.DELETED) {
        Map<String, JsonNode> m = objects.get(ns);
        old = m == null ? null : m.remove(name);
        if (m != null && m.isEmpty()) {
          objects.remove(ns, m);
        }
        if (keptStateIsLast && old != null) {
          obj = old;
        }
      } else {
        old = objects.computeIfAbsent(ns, k -> new ConcurrentHashMap<>()).put(name, obj);
      }
      EventType effective = type;
      if (type == EventType.ADDED && old != null) {
        effective = EventType.MODIFIED; // a relist re-announces known objects
      } else if (type == EventType.MODIFIED && old == null) {
        effective = EventType.ADDED;
      }
      for (Subscriber s : List.copyOf(subscribers)) {
        try {
          s.onEvent(effective, old, obj);
        } catch (RuntimeException e) {
          LOG.error(
              "informer {}: subscriber failed on {} {}/{}", resource.gvr(), type, ns, name, e);
        }
      }
    }

    /** Once every listed object is applied: the type is synced. */
    private void completeSync() {
      if (awaiting != null && awaiting.isEmpty() && !synced.isDone()) {
        awaiting = null;
        seen = null;
        LOG.info("informer {}: synced, {} objects", resource.gvr(), list(null).size());
        synced.complete(null);
      }
    }

    /** Whether {@code a} is a later version than {@code b} (etcd revisions are numbers). */
    private static boolean newer(JsonNode a, JsonNode b) {
      return newer(
          a.path("metadata").path("resourceVersion").asString(""),
          b.path("metadata").path("resourceVersion").asString(""));
    }

    private static boolean newer(String ra, String rb) {
      try {
        return Long.parseLong(ra) > Long.parseLong(rb);
      } catch (NumberFormatException e) {
        return !ra.equals(rb);
      }
    }

    /** Whether version {@code rv} (null: none) is version {@code listed} or later. */
    private static boolean notOlder(String rv, String listed) {
      return rv != null && listed != null && (rv.equals(listed) || newer(rv, listed));
    }

    private static String key(String namespace, String name) {
      return namespace + "/" + name;
    }

    private JsonNode toJson(GenericKubernetesResource obj) {
      JsonNode n = Json.parse(client.getKubernetesSerialization().asJson(obj));
      if (n instanceof ObjectNode o) {
        if (!o.hasNonNull("apiVersion")) {
          o.put("apiVersion", resource.apiVersion());
        }
        if (!o.hasNonNull("kind")) {
          o.put("kind", resource.kind());
        }
      }
      return n;
    }
  }
}
