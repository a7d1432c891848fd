package io.kedge.cloud.dynamiccontroller;

import io.kedge.cloud.authz.Subject;
import io.kedge.cloud.hub.DeliveryException;
import io.kedge.cloud.hub.EdgeMessenger;
import io.kedge.cloud.kube.ApiResource;
import io.kedge.cloud.kube.ApiStatusException;
import io.kedge.cloud.kube.ResourceVersions;
import io.kedge.cloud.kube.SharedInformers;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.message.Sources;
import io.kedge.protocol.selector.FieldSelector;
import io.kedge.protocol.selector.LabelSelector;
import io.kedge.protocol.status.KubeStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Edge watches ("listeners"): per node and request id, each on one resource type with a namespace,
 * name and label/field selectors. All listeners of a type share cloudcore's one informer of that
 * type; each change is matched against that type's listeners and handed to {@link
 * EdgeMessenger#deliver} once per interested node, as KubeEdge's MetaServer expects it: {@code
 * insert}/{@code update}/{@code delete} on {@code <ns|null>/<lowercase kind>/<name>} with the
 * object's {@code resourceversion}. A new listener first gets the current matching objects as
 * {@code insert}s, on the type's event thread, so that nothing is missed between that snapshot and
 * the events that follow.
 *
 * <p>A Kedge edge also hears, now and then, up to which resourceVersion it holds each of its
 * watches' scopes ({@link Operations#KEDGE_WATCH_PROGRESS}): the type's version as far as every
 * change sent for the watch is acknowledged. It resumes from there after a disconnect, instead of
 * from where it last connected. Its watch events are delivered with {@link
 * EdgeMessenger#deliverEach}: no version replaces another on the way, so that the edge's event log
 * has every event the apiserver's watch has. When the cloud ends one of its watches on its own
 * ({@link #stop}), or a change cannot be queued for it, the edge is told ({@link
 * Operations#KEDGE_WATCH_STOPPED}) so that it never serves the scope as current meanwhile.
 */
final class WatchRegistry implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WatchRegistry.class);
  private static final String ALL_NAMESPACES = "";

  /** One edge watch. */
  static final class Listener {
    final String node;
    final String id;
    final ApiResource resource;
    final String namespace;
    final String name;
    final LabelSelector labels;
    final FieldSelector fields;
    final Subject subject;
    final String callerDescription;
    final String podUid;

    /** Whether the edge is told how far it holds the scope (Kedge edges). */
    final boolean progress;

    volatile boolean active = true;

    // Progress, type's event thread only: versions sent and not yet acknowledged (with how many
    // messages each), the version last announced, and whether a change sent was lost (then no
    // more announcements: the edge resumes from the last one).
    final TreeMap<Long, Integer> unacked = new TreeMap<>();
    long announced;
    boolean lost;

    /**
     * Changes held back while the apiserver's older events are replayed to a resumed watch (type's
     * event thread only); null when changes go out as they come.
     */
    List<Held> held;

    Listener(
        String node,
        String id,
        ApiResource resource,
        String namespace,
        String name,
        LabelSelector labels,
        FieldSelector fields,
        Caller caller,
        boolean progress) {
      this.node = node;
      this.progress = progress;
      this.id = id;
      this.resource = resource;
      this.namespace = namespace == null || namespace.isEmpty() ? null : namespace;
      this.name = name == null || name.isEmpty() ? null : name;
      this.labels = labels;
      this.fields = fields;
      // Keep who it is for, not the token.
      this.subject = caller.subject();
      this.callerDescription = caller.describe();
      this.podUid = caller instanceof Caller.Pod p ? p.identity().podUid() : null;
    }

    boolean matches(JsonNode obj) {
      JsonNode meta = obj.path("metadata");
      if (namespace != null && !namespace.equals(meta.path("namespace").asString(""))) {
        return false;
      }
      if (name != null && !name.equals(meta.path("name").asString(""))) {
        return false;
      }
      return labels.matches(obj) && fields.matches(obj);
    }

    @Override
    public String toString() {
      return "watch "
          + id
          + " of node "
          + node
          + " on "
          + resource.gvr()
          + (namespace == null ? "" : " in " + namespace)
          + (name == null ? "" : " name " + name)
          + (labels.isEverything() ? "" : " labels " + labels)
          + (fields.isEverything() ? "" : " fields " + fields)
          + " as "
          + callerDescription;
    }
  }

  /** A change held back for a resumed watch. */
  record Held(String op, JsonNode object, long resourceVersion) {}

  private final SharedInformers informers;
  private final EdgeMessenger messenger;
  private final DefaultMasterFilter filter;
  private final Object lock = new Object();
  private final Map<String, Map<String, Listener>> byNode = new HashMap<>();
  private final Map<String, TypeWatch> types = new HashMap<>();

  private final ScheduledFuture<?> announcing;

  WatchRegistry(SharedInformers informers, EdgeMessenger messenger, DefaultMasterFilter filter) {
    this(informers, messenger, filter, null, null);
  }

  /**
   * @param timer announces progress to Kedge edges every {@code progressEvery}; null for never
   */
  WatchRegistry(
      SharedInformers informers,
      EdgeMessenger messenger,
      DefaultMasterFilter filter,
      ScheduledExecutorService timer,
      Duration progressEvery) {
    this.informers = informers;
    this.messenger = messenger;
    this.filter = filter;
    this.announcing =
        timer == null
            ? null
            : timer.scheduleWithFixedDelay(
                this::announceProgress,
                progressEvery.toMillis(),
                progressEvery.toMillis(),
                TimeUnit.MILLISECONDS);
  }

  /** Tells Kedge edges, type by type on its event thread, how far they hold their watches. */
  void announceProgress() {
    List<TypeWatch> all;
    synchronized (lock) {
      all = new ArrayList<>(types.values());
    }
    for (TypeWatch t : all) {
      try {
        t.handle.execute(t::announce);
      } catch (RuntimeException e) {
        LOG.debug("progress of {} not announced: {}", t.handle.resource().gvr(), e.toString());
      }
    }
  }

  /**
   * Adds {@code l} (replacing a listener of the same node and id). Completes once its initial
   * objects have been handed to the messenger; fails with the informer's Status when the type
   * cannot be watched, and the listener is then gone.
   */
  CompletableFuture<Void> add(Listener l) {
    TypeWatch t = register(l);
    CompletableFuture<Void> done = new CompletableFuture<>();
    t.handle
        .synced()
        .whenComplete(
            (v, err) -> {
              if (err != null) {
                remove(l);
                done.completeExceptionally(err);
                return;
              }
              t.handle.execute(
                  view -> {
                    try {
                      if (l.active) {
                        t.attach(l, view);
                      }
                      done.complete(null);
                    } catch (RuntimeException e) {
                      done.completeExceptionally(e);
                    }
                  });
            });
    return done;
  }

  /**
   * Adds {@code l} (replacing a listener of the same node and id) for an edge that already holds
   * the scope's state at resourceVersion {@code from}: instead of the current objects it gets the
   * apiserver's own events since {@code from} ({@code replay}), each version of an object only
   * after the edge acknowledged the one before, then the changes that came meanwhile. Completes,
   * once the edge acknowledged every replayed event, with the version up to which it then holds the
   * scope; fails with the replay's Status (410 {@code Expired} when {@code from} is older than the
   * apiserver's watch cache), and the listener is then gone. Only attaching (the type's informer
   * synced) is bounded by {@code attachTimeout}: the replay then takes as long as the edge takes to
   * acknowledge it, which grows with how far behind it is, and cutting it short would make the edge
   * start over from the same version with even more to replay.
   */
  CompletableFuture<Long> resume(
      Listener l,
      long from,
      LongFunction<CompletableFuture<List<WatchReplay.Event>>> replay,
      java.time.Duration attachTimeout) {
    TypeWatch t = register(l);
    CompletableFuture<Long> attached = new CompletableFuture<>();
    attached.orTimeout(attachTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    t.handle
        .synced()
        .whenComplete(
            (v, err) -> {
              if (err != null) {
                attached.completeExceptionally(err);
                return;
              }
              t.handle.execute(
                  view -> {
                    if (!l.active) {
                      attached.completeExceptionally(
                          ApiStatusException.of(409, "Conflict", "the watch was replaced"));
                      return;
                    }
                    // From here on the informer's changes are held; what came before is the
                    // replay's.
                    l.held = new ArrayList<>();
                    t.index.add(l);
                    attached.complete(view.resourceVersion());
                  });
            });
    CompletableFuture<Long> done =
        attached.thenCompose(
            upTo ->
                replay
                    .apply(from)
                    .thenCompose(events -> t.replay(l, events, from, upTo))
                    .thenCompose(n -> t.release(l, upTo, n))
                    .thenApply(x -> Math.max(upTo, from)));
    return done.whenComplete(
        (v, err) -> {
          if (err != null) {
            remove(l);
          }
        });
  }

  private TypeWatch register(Listener l) {
    TypeWatch tw;
    Listener replaced;
    synchronized (lock) {
      replaced = byNode.computeIfAbsent(l.node, k -> new LinkedHashMap<>()).put(l.id, l);
      tw = types.get(l.resource.gvr());
      if (tw == null) {
        tw = new TypeWatch(informers.acquire(l.resource));
        types.put(l.resource.gvr(), tw);
      }
      tw.count++;
    }
    if (replaced != null) {
      detach(replaced);
    }
    return tw;
  }

  /** Removes a node's listener; returns whether there was one. */
  boolean remove(String node, String id) {
    Listener l;
    synchronized (lock) {
      Map<String, Listener> m = byNode.get(node);
      l = m == null ? null : m.get(id);
    }
    return l != null && remove(l);
  }

  /** Removes every listener of {@code node}; returns how many. */
  int removeNode(String node) {
    return removeIf(l -> l.node.equals(node));
  }

  /** Removes every listener for which {@code p} holds; returns how many. */
  int removeIf(Predicate<Listener> p) {
    List<Listener> gone = new ArrayList<>();
    synchronized (lock) {
      for (Map<String, Listener> m : byNode.values()) {
        for (Listener l : m.values()) {
          if (p.test(l)) {
            gone.add(l);
          }
        }
      }
    }
    int n = 0;
    for (Listener l : gone) {
      if (remove(l)) {
        n++;
      }
    }
    return n;
  }

  /**
   * Removes {@code l} because the cloud may no longer (or can no longer) serve it, and tells a
   * Kedge edge so with {@code status}; returns whether it was still there. The message is sent
   * once: if it is lost with the connection, the edge's {@code watchapp/sync} after reconnecting
   * asks for the watch again and gets the same answer as any new watch.
   */
  boolean stop(Listener l, ObjectNode status) {
    if (!remove(l)) {
      return false;
    }
    if (!l.progress) {
      LOG.info("stopped {}: {}", l, status.path("message").asString(""));
    } else {
      ObjectNode c = Json.object();
      c.put("applicationId", l.id);
      c.set("status", status);
      Message m =
          Message.of(
              new MessageRoute(
                  Sources.DYNAMIC_CONTROLLER,
                  Sources.GROUP_RESOURCE,
                  Operations.KEDGE_WATCH_STOPPED,
                  ResourcePath.format(l.namespace, l.resource.kind().toLowerCase(Locale.ROOT), "")),
              c);
      boolean told = messenger.send(l.node, m);
      LOG.info(
          "stopped {}: {}; the node {}",
          l,
          status.path("message").asString(""),
          told ? "was told" : "is not connected (it asks again when it reconnects)");
    }
    return true;
  }

  /** Stops every listener for which {@code p} holds (see {@link #stop}); returns how many. */
  int stopIf(Predicate<Listener> p, java.util.function.Function<Listener, ObjectNode> status) {
    int n = 0;
    for (Listener l : all()) {
      if (p.test(l) && stop(l, status.apply(l))) {
        n++;
      }
    }
    return n;
  }

  /** A node's listeners by id. */
  Map<String, Listener> listeners(String node) {
    synchronized (lock) {
      Map<String, Listener> m = byNode.get(node);
      return m == null ? Map.of() : new LinkedHashMap<>(m);
    }
  }

  List<Listener> all() {
    List<Listener> out = new ArrayList<>();
    synchronized (lock) {
      for (Map<String, Listener> m : byNode.values()) {
        out.addAll(m.values());
      }
    }
    return out;
  }

  int size() {
    synchronized (lock) {
      int n = 0;
      for (Map<String, Listener> m : byNode.values()) {
        n += m.size();
      }
      return n;
    }
  }

  private boolean remove(Listener l) {
    synchronized (lock) {
      Map<String, Listener> m = byNode.get(l.node);
      if (m == null || m.get(l.id) != l) {
        return false;
      }
      m.remove(l.id);
      if (m.isEmpty()) {
        byNode.remove(l.node);
      }
    }
    detach(l);
    return true;
  }

  /** Takes a listener (already out of {@code byNode}) off its type; stops the type when unused. */
  private void detach(Listener l) {
    l.active = false;
    TypeWatch tw;
    boolean last;
    synchronized (lock) {
      tw = types.get(l.resource.gvr());
      if (tw == null) {
        return;
      }
      tw.count--;
      last = tw.count == 0;
      if (last) {
        types.remove(l.resource.gvr());
      }
    }
    TypeWatch t = tw;
    t.handle.execute(view -> t.index.remove(l));
    if (last) {
      t.handle.unsubscribe(t);
      t.handle.close();
    }
    LOG.debug("removed {}", l);
  }

  @Override
  public void close() {
    if (announcing != null) {
      announcing.cancel(false);
    }
    List<TypeWatch> all;
    synchronized (lock) {
      all = new ArrayList<>(types.values());
      types.clear();
      byNode.clear();
    }
    for (TypeWatch t : all) {
      t.handle.close();
    }
  }

  /** The listeners of one type, indexed by namespace; touched only on the type's event thread. */
  private final class TypeWatch implements SharedInformers.Subscriber {
    final SharedInformers.Handle handle;
    final Index index = new Index();
    int count; // guarded by lock

    TypeWatch(SharedInformers.Handle handle) {
      this.handle = handle;
      handle.subscribe(this);
    }

    void attach(Listener l, SharedInformers.View view) {
      index.add(l);
      Collection<JsonNode> objs;
      if (l.name != null && (l.namespace != null || !l.resource.namespaced())) {
        JsonNode one = view.get(l.namespace, l.name);
        objs = one == null ? List.of() : List.of(one);
      } else {
        objs = view.list(l.namespace);
      }
      int n = 0;
      for (JsonNode o : objs) {
        if (l.matches(o)) {
          track(List.of(l), o, send(l.node, Operations.INSERT, o, l.progress));
          n++;
        }
      }
      LOG.info("added {}: {} initial objects", l, n);
    }

    @Override
    public void onEvent(SharedInformers.EventType type, JsonNode old, JsonNode obj) {
      String ns = obj.path("metadata").path("namespace").asString("");
      Map<String, String> ops = new LinkedHashMap<>();
      Map<String, List<Listener>> by = new HashMap<>();
      index.forCandidates(
          ns,
          l -> {
            String op = opFor(l, type, old, obj);
            if (op == null) {
              return;
            }
            if (l.held != null) {
              l.held.add(new Held(op, obj, ResourceVersions.of(obj)));
            } else {
              ops.merge(l.node, op, WatchRegistry::stronger);
              if (l.progress) {
                by.computeIfAbsent(l.node, k -> new ArrayList<>()).add(l);
              }
            }
          });
      for (Map.Entry<String, String> e : ops.entrySet()) {
        List<Listener> tracked = by.getOrDefault(e.getKey(), List.of());
        track(tracked, obj, send(e.getKey(), e.getValue(), obj, !tracked.isEmpty()));
      }
    }

    /**
     * Counts {@code obj}'s version as unacknowledged for {@code tracked} (watches that announce
     * progress) until {@code sent} completes (event thread). Superseded is as good as acknowledged:
     * the newer version is then unacknowledged in its place.
     */
    private void track(List<Listener> tracked, JsonNode obj, CompletableFuture<Void> sent) {
      if (tracked.isEmpty()) {
        return;
      }
      long rv = ResourceVersions.of(obj);
      for (Listener l : tracked) {
        l.unacked.merge(rv, 1, Integer::sum);
      }
      sent.whenComplete(
          (v, t) -> {
            boolean delivered = delivered(t);
            handle.execute(
                view -> {
                  for (Listener l : tracked) {
                    l.unacked.computeIfPresent(rv, (k, n) -> n > 1 ? n - 1 : null);
                    if (!delivered) {
                      l.lost = true;
                    }
                  }
                });
            if (!delivered && !reconnectMendsIt(t)) {
              for (Listener l : tracked) {
                undeliverable(l, t);
              }
            }
          });
    }

    /** Tells each Kedge edge up to which version it holds its watches of this type. */
    void announce(SharedInformers.View view) {
      long applied = view.resourceVersion();
      for (Listener l : index.all()) {
        if (!l.progress || !l.active || l.held != null || l.lost) {
          continue;
        }
        long upTo = l.unacked.isEmpty() ? applied : l.unacked.firstKey() - 1;
        if (upTo <= l.announced) {
          continue;
        }
        ObjectNode c = Json.object();
        c.put("applicationId", l.id);
        c.put("resourceVersion", Long.toString(upTo));
        Message m =
            Message.of(
                new MessageRoute(
                    Sources.DYNAMIC_CONTROLLER,
                    Sources.GROUP_RESOURCE,
                    Operations.KEDGE_WATCH_PROGRESS,
                    ResourcePath.format(
                        l.namespace, handleResource().kind().toLowerCase(Locale.ROOT), "")),
                c);
        if (messenger.send(l.node, m)) {
          l.announced = upTo;
        }
      }
    }

    /**
     * Hands the replayed events above {@code from} and up to {@code upTo} to the edge in order, a
     * version of an object only once the edge acknowledged its previous one (so that none replaces
     * another in the delivery queue); completes when all are acknowledged (or refused) with how
     * many were sent.
     */
    CompletableFuture<Integer> replay(
        Listener l, List<WatchReplay.Event> events, long from, long upTo) {
      Map<String, CompletableFuture<Void>> last = new HashMap<>();
      List<CompletableFuture<Void>> all = new ArrayList<>();
      for (WatchReplay.Event e : events) {
        if (e.resourceVersion() <= from || (upTo > 0 && e.resourceVersion() > upTo)) {
          continue; // the edge has it, or the informer's changes bring it
        }
        String op =
            switch (e.type()) {
              case "ADDED" -> Operations.INSERT;
              case "DELETED" -> Operations.DELETE;
              default -> Operations.UPDATE;
            };
        JsonNode meta = e.object().path("metadata");
        String key = meta.path("namespace").asString("") + "/" + meta.path("name").asString("");
        CompletableFuture<Void> before =
            last.getOrDefault(key, CompletableFuture.completedFuture(null));
        CompletableFuture<Void> f =
            before
                .handle((x, t) -> null)
                .thenCompose(x -> send(l.node, op, e.object(), l.progress));
        if (l.progress) {
          f.whenComplete(
              (x, t) -> {
                if (!delivered(t)) {
                  handle.execute(view -> l.lost = true);
                  if (!reconnectMendsIt(t)) {
                    undeliverable(l, t);
                  }
                }
              });
        }
        last.put(key, f);
        all.add(f);
      }
      return CompletableFuture.allOf(
              all.stream().map(f -> f.handle((x, t) -> null)).toArray(CompletableFuture[]::new))
          .thenApply(x -> all.size());
    }

    /**
     * Ends the hold of a resumed listener on the type's event thread: the changes after {@code
     * upTo} that came meanwhile go out, and later ones as they come.
     */
    CompletableFuture<Void> release(Listener l, long upTo, int replayed) {
      CompletableFuture<Void> done = new CompletableFuture<>();
      handle.execute(
          view -> {
            List<Held> held = l.held;
            l.held = null;
            int n = 0;
            if (l.active && held != null) {
              for (Held h : held) {
                if (h.resourceVersion() > upTo) {
                  track(List.of(l), h.object(), send(l.node, h.op(), h.object(), l.progress));
                  n++;
                }
              }
            }
            LOG.info(
                "resumed {}: {} events replayed up to version {}, {} held changes after it",
                l,
                replayed,
                upTo,
                n);
            done.complete(null);
          });
      return done;
    }

    /**
     * Hands one change to {@code node}: with {@code each} (a Kedge edge's watch) no other version
     * of the object replaces it on the way.
     */
    private CompletableFuture<Void> send(String node, String op, JsonNode obj, boolean each) {
      JsonNode content = obj;
      if (DefaultMasterFilter.concerns(handleResource().group(), handleResource().resource())) {
        JsonNode f = filter.apply(obj);
        if (f != null) {
          content = f;
        }
      }
      JsonNode meta = obj.path("metadata");
      String kind = obj.path("kind").asString(handleResource().kind());
      Message draft =
          Message.of(
              new MessageRoute(
                  Sources.DYNAMIC_CONTROLLER,
                  Sources.GROUP_RESOURCE,
                  op,
                  ResourcePath.format(
                      meta.path("namespace").asString(""),
                      kind.toLowerCase(Locale.ROOT),
                      meta.path("name").asString(""))),
              content);
      Message m =
          draft.withHeader(
              draft.header().withResourceVersion(meta.path("resourceVersion").asString("")));
      try {
        return (each ? messenger.deliverEach(node, m) : messenger.deliver(node, m))
            .whenComplete(
                (v, t) -> {
                  if (t != null) {
                    LOG.debug("{} to node {} not acknowledged: {}", m, node, t.toString());
                  }
                });
      } catch (RuntimeException e) {
        LOG.warn("cannot hand {} to node {}: {}", m, node, e.toString());
        return CompletableFuture.failedFuture(e);
      }
    }

    private ApiResource handleResource() {
      return handle.resource();
    }
  }

  /**
   * A change for Kedge watch {@code l} could not be queued for its edge, which is connected: its
   * scope would miss an event. The watch is stopped and the edge told, so that it resumes the scope
   * from where it holds it (getting the apiserver's events since then) or stops serving it.
   */
  private void undeliverable(Listener l, Throwable t) {
    if (!l.active) {
      return;
    }
    Throwable c = ApiStatusException.unwrap(t);
    LOG.warn("{}: a change could not be delivered ({}); stopping it", l, c.getMessage());
    stop(
        l,
        KubeStatus.failure(
            503,
            "ServiceUnavailable",
            "a change of this watch could not be delivered to the node: " + c.getMessage()));
  }

  /**
   * Whether the edge gets what a delivery that ended with {@code t} failed to bring when it
   * reconnects: the node is not connected (any more), and a Kedge edge then resumes its watches
   * from what it acknowledged.
   */
  private static boolean reconnectMendsIt(Throwable t) {
    return ApiStatusException.unwrap(t) instanceof DeliveryException d
        && (d.reason() == DeliveryException.Reason.SESSION_CLOSED
            || d.reason() == DeliveryException.Reason.NOT_CONNECTED);
  }

  /** Whether a delivery that ended with {@code t} (null: acknowledged) reached the edge. */
  private static boolean delivered(Throwable t) {
    if (t == null) {
      return true;
    }
    return ApiStatusException.unwrap(t) instanceof DeliveryException d
        && d.reason() == DeliveryException.Reason.SUPERSEDED;
  }

  /** insert/update/delete for one listener, or null when the change does not concern it. */
  static String opFor(Listener l, SharedInformers.EventType type, JsonNode old, JsonNode obj) {
    switch (type) {
      case ADDED:
        return l.matches(obj) ? Operations.INSERT : null;
      case DELETED:
        return l.matches(obj) ? Operations.DELETE : null;
      default:
        boolean now = l.matches(obj);
        boolean before = old != null && l.matches(old);
        if (now) {
          return before ? Operations.UPDATE : Operations.INSERT;
        }
        return before ? Operations.DELETE : null;
    }
  }

  /** A node that sees the object through any listener gets it; delete only if all say delete. */
  static String stronger(String a, String b) {
    if (a.equals(Operations.DELETE)) {
      return b;
    }
    if (b.equals(Operations.DELETE)) {
      return a;
    }
    return a.equals(Operations.UPDATE) || b.equals(Operations.UPDATE) ? Operations.UPDATE : a;
  }

  /** Listeners by namespace ("" = all namespaces or cluster-scoped). */
  private static final class Index {
    private final Map<String, List<Listener>> byNamespace = new HashMap<>();

    void add(Listener l) {
      byNamespace.computeIfAbsent(key(l), k -> new ArrayList<>()).add(l);
    }

    void remove(Listener l) {
      List<Listener> list = byNamespace.get(key(l));
      if (list != null) {
        list.remove(l);
        if (list.isEmpty()) {
          byNamespace.remove(key(l));
        }
      }
    }

    List<Listener> all() {
      List<Listener> out = new ArrayList<>();
      byNamespace.values().forEach(out::addAll);
      return out;
    }

    void forCandidates(String namespace, java.util.function.Consumer<Listener> c) {
      if (!namespace.isEmpty()) {
        List<Listener> ns = byNamespace.get(namespace);
        if (ns != null) {
          ns.forEach(c);
        }
      }
      List<Listener> all = byNamespace.get(ALL_NAMESPACES);
      if (all != null) {
        all.forEach(c);
      }
    }

    private static String key(Listener l) {
      return l.namespace == null ? ALL_NAMESPACES : l.namespace;
    }
  }
}
