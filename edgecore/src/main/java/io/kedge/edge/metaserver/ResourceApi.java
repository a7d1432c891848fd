package io.kedge.edge.metaserver;

import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectChange;
import io.kedge.edge.store.ObjectPage;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.ResourceCatalog;
import io.kedge.edge.store.ResourceCatalog.ApiResource;
import io.kedge.edge.store.ResourceState;
import io.kedge.edge.store.Scope;
import io.kedge.edge.store.StoreEvent;
import io.kedge.edge.store.StoredObject;
import io.kedge.protocol.Json;
import io.kedge.protocol.selector.FieldSelector;
import io.kedge.protocol.selector.LabelSelector;
import io.kedge.protocol.selector.SelectableFields;
import io.kedge.protocol.selector.SelectorException;
import io.kedge.protocol.status.KubeStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Resource requests ({@code /api/...}, {@code /apis/...}): the read rules, writes and watches.
 *
 * <ul>
 *   <li>Consistent reads (no {@code resourceVersion}) go to the cloud while it is reachable and
 *       refresh the store with what comes back; only when the cloud cannot be reached (offline, no
 *       answer, or 502/503/504 because the apiserver is out of its reach) are they answered from
 *       the store. 403, 404, 409 and every other answer pass through unchanged.
 *   <li>{@code resourceVersion=0} reads and watches are answered from the store once the scope is
 *       kept current (the first such request subscribes it through the cloud).
 *   <li>Writes go to the cloud with their query and body as they came; offline they get 503 with
 *       {@code Retry-After}.
 * </ul>
 */
final class ResourceApi {
  private static final Logger LOG = LoggerFactory.getLogger(ResourceApi.class);
  private static final int SCAN = 200;

  private final ObjectStore store;
  private final CloudApi cloud;
  private final ResourceCatalog catalog;
  private final Subscriptions subscriptions;
  private final DiscoveryApi discovery;
  private final MetaServerSettings settings;
  private final Executor background;

  ResourceApi(
      ObjectStore store,
      CloudApi cloud,
      ResourceCatalog catalog,
      Subscriptions subscriptions,
      DiscoveryApi discovery,
      MetaServerSettings settings,
      Executor background) {
    this(store, cloud, catalog, subscriptions, discovery, settings, background, null);
  }

  /**
   * @param podLogs container logs of this node's pods (Edged), served locally for {@code
   *     pods/{name}/log}; null sends those reads to the cloud like other subresources
   */
  ResourceApi(
      ObjectStore store,
      CloudApi cloud,
      ResourceCatalog catalog,
      Subscriptions subscriptions,
      DiscoveryApi discovery,
      MetaServerSettings settings,
      Executor background,
      io.kedge.edge.edged.PodLogs podLogs) {
    this.podLogs = podLogs;
    this.store = store;
    this.cloud = cloud;
    this.catalog = catalog;
    this.subscriptions = subscriptions;
    this.discovery = discovery;
    this.settings = settings;
    this.background = background;
  }

  private final io.kedge.edge.edged.PodLogs podLogs;

  CompletableFuture<Outcome> handle(Call c) {
    RequestInfo info = c.info();
    Optional<ApiResource> known = catalog.resource(info.group(), info.version(), info.resource());
    String gv = info.apiVersion();
    if (known.isEmpty() && !catalog.learned(gv) && cloud.online()) {
      // A type the edge has not heard of yet (a new CRD): ask the cloud what it is.
      return discovery
          .learn(gv)
          .thenCompose(
              x -> route(c, catalog.resource(info.group(), info.version(), info.resource())));
    }
    return route(c, known);
  }

  private CompletableFuture<Outcome> route(Call c, Optional<ApiResource> known) {
    RequestInfo info = c.info();
    if (known.isEmpty()) {
      return done(DiscoveryApi.notFound());
    }
    ApiResource res = known.get();
    if (!info.extra().isEmpty()
        || (res.namespaced() != info.namespaced()
            && !(res.namespaced() && !info.hasName() && isCollectionRead(info)))
        || (!info.subresource().isEmpty() && !res.subresources().contains(info.subresource()))) {
      return done(DiscoveryApi.notFound());
    }
    if (!info.subresource().isEmpty()) {
      return subresource(c, res);
    }
    return switch (info.verb()) {
      case "get" -> get(c, res);
      case "list" -> list(c, res);
      case "watch" -> watch(c, res);
      default -> write(c, res);
    };
  }

  private static boolean isCollectionRead(RequestInfo info) {
    return info.verb().equals("list") || info.verb().equals("watch");
  }

  // ---------------------------------------------------------------- get

  private CompletableFuture<Outcome> get(Call c, ApiResource res) {
    String rv = c.query().get("resourceVersion");
    Scope scope = new Scope(res.gvr(), c.info().namespace());
    if (rv == null || rv.isEmpty() || !rv.equals("0")) {
      if (rv != null && !rv.isEmpty() && ObjectChange.parseResourceVersion(rv) == 0) {
        return done(badResourceVersion(rv));
      }
      return viaCloud(c, () -> cachedGet(c, res), r -> refreshFromGet(c, res, r));
    }
    return whenCurrent(scope, c.token())
        .handle((x, t) -> null)
        .thenCompose(
            x -> {
              if (servedAsCurrent(scope, c.token())) {
                return done(cachedGet(c, res));
              }
              // The edge does not keep the type current (now), but the caller may still read it.
              return viaCloud(c, () -> cachedGet(c, res), r -> refreshFromGet(c, res, r));
            });
  }

  /**
   * Whether a {@code resourceVersion=0} read of {@code scope} is answered from the store: when the
   * edge keeps it current, or the cloud is out of reach (then the store is all there is). Otherwise
   * it goes to the cloud: what the store holds may be behind.
   */
  private boolean servedAsCurrent(Scope scope, String token) {
    return (subscriptions.synced(scope) && subscriptions.recentRefusal(scope, token) == null)
        || !cloud.online();
  }

  private Outcome cachedGet(Call c, ApiResource res) {
    Negotiation.Choice ch = Negotiation.choose(c.accept());
    if (ch.format() == Negotiation.Format.NONE) {
      return notAcceptable();
    }
    RequestInfo info = c.info();
    Optional<StoredObject> o = store.get(res.gvr(), info.namespace(), info.name());
    if (o.isEmpty()) {
      return Outcome.Response.status(
          KubeStatus.notFound(res.gvr().group(), res.gvr().resource(), info.name()));
    }
    return Outcome.Response.of(
        200, ch.contentType(), Encoding.object(o.get().json(), ch, c.query().get("includeObject")));
  }

  // ---------------------------------------------------------------- list

  private CompletableFuture<Outcome> list(Call c, ApiResource res) {
    QueryParams q = c.query();
    LabelSelector labels = labelSelector(q);
    FieldSelector fields = fieldSelector(q.get("fieldSelector"), res);
    long limit = q.nonNegative("limit", 0);
    String rv = q.get("resourceVersion", "");
    String cont = q.get("continue", "");
    String match = q.get("resourceVersionMatch", "");
    if (!cont.isEmpty() && !rv.isEmpty()) {
      return done(badRequest("specifying resource version is not allowed when using continue"));
    }
    if (!rv.isEmpty() && !rv.equals("0") && ObjectChange.parseResourceVersion(rv) == 0) {
      return done(badResourceVersion(rv));
    }
    if (!match.isEmpty() && rv.isEmpty()) {
      return done(
          badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided"));
    }
    if (!match.isEmpty() && !match.equals("Exact") && !match.equals("NotOlderThan")) {
      return done(badRequest("resourceVersionMatch: unsupported value \"" + match + "\""));
    }
    ListQuery lq =
        new ListQuery(
            new Scope(res.gvr(), c.info().namespace()),
            labels,
            fields,
            (int) Math.min(limit, 100_000),
            cont,
            rv,
            match);
    if (!cont.isEmpty()) {
      ContinueToken.decode(cont); // malformed tokens are a 400 before anything else
    }
    if (rv.equals("0")) {
      ListQuery all = lq.withLimit(0); // as the apiserver's watch cache: no pages for "any version"
      return whenCurrent(lq.scope(), c.token())
          .handle((x, t) -> null)
          .thenCompose(
              x -> {
                if (servedAsCurrent(lq.scope(), c.token())) {
                  return done(cachedList(c, res, all));
                }
                return viaCloud(
                    c, () -> cachedList(c, res, all), r -> refreshFromList(c, res, lq, r));
              });
    }
    if (rv.isEmpty() && cont.isEmpty() && cloud.online() && !subscriptions.synced(lq.scope())) {
      // A list is how a watch starts (kubectl get -w, informers): once the scope is kept current
      // before the cloud answers, a watch from the list's resourceVersion is never older than the
      // edge's event log for it (it would be answered 410 Expired otherwise).
      return whenCurrent(lq.scope(), c.token())
          .handle((x, t) -> null)
          .thenCompose(
              x -> viaCloud(c, () -> cachedList(c, res, lq), r -> refreshFromList(c, res, lq, r)));
    }
    return viaCloud(c, () -> cachedList(c, res, lq), r -> refreshFromList(c, res, lq, r));
  }

  record ListQuery(
      Scope scope,
      LabelSelector labels,
      FieldSelector fields,
      int limit,
      String cont,
      String rv,
      String match) {
    ListQuery withLimit(int l) {
      return new ListQuery(scope, labels, fields, l, cont, rv, match);
    }

    boolean everything() {
      return labels.isEverything() && fields.isEverything();
    }
  }

  private Outcome cachedList(Call c, ApiResource res, ListQuery lq) {
    Negotiation.Choice ch = Negotiation.choose(c.accept());
    if (ch.format() == Negotiation.Format.NONE) {
      return notAcceptable();
    }
    Scope scope = lq.scope();
    String prefix = scope.allNamespaces() ? "" : scope.namespace() + "/";
    String after = "";
    long listRv;
    ResourceState st = store.resourceState(scope.gvr());
    if (!lq.cont().isEmpty()) {
      ContinueToken t = ContinueToken.decode(lq.cont());
      after = prefix + t.lastKey();
      listRv = t.resourceVersion();
      if (changedSince(scope, listRv, after, st)) {
        return Outcome.Response.status(
            KubeStatus.failure(
                410,
                "Expired",
                "The provided continue parameter is too old to display a consistent list result."
                    + " You can start a new list without the continue parameter."));
      }
    } else {
      listRv = 0;
      if (!lq.rv().isEmpty() && !lq.rv().equals("0")) {
        long want = ObjectChange.parseResourceVersion(lq.rv());
        if (want > st.highwater()) {
          return Outcome.Response.status(
              KubeStatus.failure(
                  504,
                  "Timeout",
                  "Too large resource version: " + want + ", current: " + st.highwater()));
        }
        if (lq.match().equals("Exact") && want < st.highwater()) {
          return Outcome.Response.status(
              KubeStatus.failure(
                  410,
                  "Expired",
                  "too old resource version: " + want + " (" + st.highwater() + ")"));
        }
      }
    }
    List<byte[]> items = new ArrayList<>();
    String lastKey = null;
    boolean more = false;
    long remaining = -1;
    long head = -1;
    int limit = lq.limit();
    if (limit > 0 && lq.everything()) {
      // Every object is in the page: one read of it, with what follows it counted in the same
      // snapshot, as the apiserver counts its remainingItemCount (for lists without selectors).
      ObjectPage page = store.list(scope, after, limit, true);
      if (listRv == 0) {
        listRv = page.state().highwater();
      }
      for (StoredObject o : page.objects()) {
        items.add(o.json());
        lastKey = o.sortKey();
      }
      more = page.more();
      remaining = more ? page.rest() : -1;
    } else {
      scan:
      while (true) {
        ObjectPage page = store.list(scope, after, limit > 0 ? Math.max(SCAN, limit + 1) : 0);
        if (head < 0) {
          head = page.headSeq();
          if (listRv == 0) {
            listRv = page.state().highwater();
          }
        }
        for (StoredObject o : page.objects()) {
          if (limit > 0 && items.size() == limit) {
            // As the apiserver pages from etcd: a full page has a continue token when any object
            // follows it in the scope, whether or not the selectors match it (the next page may
            // then be empty).
            more = true;
            break scan;
          }
          after = o.sortKey();
          if (!lq.everything()) {
            JsonNode n = Json.parse(o.json());
            if (!lq.labels().matches(n) || !lq.fields().matches(n)) {
              continue;
            }
          }
          items.add(o.json());
          lastKey = o.sortKey();
        }
        if (!page.more() || limit == 0) {
          break;
        }
      }
    }
    String token =
        more ? ContinueToken.after(listRv, lastKey.substring(prefix.length())).encode() : "";
    String kind = kindOf(res);
    byte[] body =
        Encoding.list(
            kind,
            res.apiVersion(),
            res.custom(),
            listRv > 0 ? Long.toString(listRv) : "",
            token,
            remaining,
            items,
            ch,
            c.query().get("includeObject"));
    return Outcome.Response.of(200, ch.contentType(), body);
  }

  /** Whether anything in {@code scope} after {@code afterKey} changed since version {@code rv}. */
  private boolean changedSince(Scope scope, long rv, String afterKey, ResourceState st) {
    if (st.highwater() <= rv) {
      return false;
    }
    if (st.trimmedHighwater() >= rv) {
      return true; // cannot tell any more
    }
    OptionalLong from = store.resumeAfter(scope.gvr(), rv);
    if (from.isEmpty()) {
      return false;
    }
    long seq = from.getAsLong();
    while (true) {
      List<StoreEvent> evs = store.events(scope.gvr(), seq, SCAN);
      for (StoreEvent e : evs) {
        seq = e.seq();
        if (e.isSync()) {
          continue;
        }
        if (!scope.allNamespaces() && !scope.namespace().equals(e.namespace())) {
          continue;
        }
        if (StoredObject.sortKey(e.namespace(), e.name()).compareTo(afterKey) > 0) {
          return true;
        }
      }
      if (evs.size() < SCAN) {
        return false;
      }
    }
  }

  // ---------------------------------------------------------------- watch

  private CompletableFuture<Outcome> watch(Call c, ApiResource res) {
    QueryParams q = c.query();
    LabelSelector labels = labelSelector(q);
    FieldSelector fields = fieldSelector(q.get("fieldSelector"), res);
    Negotiation.Choice ch = Negotiation.choose(c.accept());
    if (ch.format() == Negotiation.Format.NONE || ch.format() == Negotiation.Format.YAML) {
      return done(notAcceptable());
    }
    String rv = q.get("resourceVersion", "");
    if (!rv.isEmpty() && !rv.equals("0") && ObjectChange.parseResourceVersion(rv) == 0) {
      return done(badResourceVersion(rv));
    }
    long timeoutSeconds = q.nonNegative("timeoutSeconds", 0);
    boolean bookmarks = q.bool("allowWatchBookmarks");
    Duration timeout =
        timeoutSeconds > 0
            ? Duration.ofSeconds(Math.min(timeoutSeconds, 7 * 24 * 3600))
            : randomTimeout();
    Scope scope = new Scope(res.gvr(), c.info().namespace());
    String name = c.info().name();
    FieldSelector effective = fields;
    if (!name.isEmpty()) { // the deprecated /watch/.../{name} form
      effective =
          fieldSelector(
              (fields.isEverything() ? "" : fields + ",")
                  + "metadata.name="
                  + FieldSelector.escape(name),
              res);
    }
    FieldSelector fs = effective;
    return whenCurrent(scope, c.token())
        .handle((x, t) -> t == null ? null : CloudApi.unwrap(t))
        .thenApply(
            err -> {
              if (err instanceof ApiException a && cloud.online()) {
                return (Outcome) Outcome.Response.status(a.status());
              }
              ObjectNode refusal = subscriptions.recentRefusal(scope, c.token());
              if (refusal != null && cloud.online()) {
                return (Outcome) Outcome.Response.status(refusal);
              }
              return plan(
                  scope, labels, fs, ch, q.get("includeObject"), bookmarks, res, timeout, rv);
            });
  }

  private Outcome plan(
      Scope scope,
      LabelSelector labels,
      FieldSelector fields,
      Negotiation.Choice ch,
      String includeObject,
      boolean bookmarks,
      ApiResource res,
      Duration timeout,
      String rv) {
    Watcher.Start start;
    long after = 0;
    long clientRv = 0;
    if (rv.isEmpty() || rv.equals("0")) {
      start = Watcher.Start.SNAPSHOT;
    } else {
      clientRv = ObjectChange.parseResourceVersion(rv);
      // The log's head before the state: the state covers every event up to it, and what is
      // committed from here until the watch registers comes from the log, not the live feed.
      long head = store.headSeq();
      ResourceState st = store.resourceState(scope.gvr());
      if (clientRv >= st.highwater()) {
        start = Watcher.Start.REPLAY;
        after = head;
      } else {
        long since = subscriptions.syncedSince(scope);
        if (since > 0 && clientRv >= since && st.trimmedHighwater() < clientRv) {
          OptionalLong from = store.resumeAfter(scope.gvr(), clientRv);
          start = Watcher.Start.REPLAY;
          after = from.orElse(head);
        } else {
          long oldest = Math.max(since, st.trimmedHighwater() + 1);
          return new Outcome.WatchError(
              KubeStatus.failure(
                  410, "Expired", "too old resource version: " + clientRv + " (" + oldest + ")"),
              ch);
        }
      }
    }
    return new Outcome.Watch(
        new Watcher.Spec(
            scope,
            labels,
            fields,
            ch,
            includeObject,
            bookmarks,
            kindOf(res),
            res.apiVersion(),
            timeout,
            start,
            after,
            clientRv));
  }

  private Duration randomTimeout() {
    long min = settings.minWatchTimeout().toMillis();
    return Duration.ofMillis(min + ThreadLocalRandom.current().nextLong(Math.max(1, min)));
  }

  // ---------------------------------------------------------------- writes and subresources

  private CompletableFuture<Outcome> write(Call c, ApiResource res) {
    String malformed = malformedBody(c);
    if (malformed != null) {
      return done(badRequest(malformed));
    }
    if (!cloud.online()) {
      return done(offlineWrite());
    }
    return cloud
        .send(c.toCloud(), c.loop())
        .handle(
            (r, err) -> {
              if (err != null) {
                Throwable e = CloudApi.unwrap(err);
                if (e instanceof CloudApi.Unavailable u
                    && !(u.getCause() instanceof TimeoutException)) {
                  return offlineWrite();
                }
                return Outcome.Response.status(
                    KubeStatus.failure(
                        504,
                        "Timeout",
                        "the cloud did not answer in time; whether the request took effect is"
                            + " unknown"));
              }
              if (r.successful() && r.json() && !c.info().verb().startsWith("delete")) {
                background.execute(() -> refreshFromWrite(res, r));
              }
              return response(r);
            });
  }

  private CompletableFuture<Outcome> subresource(Call c, ApiResource res) {
    RequestInfo info = c.info();
    boolean read = info.verb().equals("get");
    if (!read) {
      return write(c, res);
    }
    if (podLogs != null
        && info.subresource().equals("log")
        && res.gvr().equals(io.kedge.edge.store.Gvr.core("pods"))) {
      return done(podLog(c));
    }
    // Reads of subresources (status, log, scale, ...) are the cloud's; offline, the status of a
    // stored object is still the object.
    return viaCloud(
        c,
        () -> {
          if (info.subresource().equals("status")) {
            return cachedGet(c, res);
          }
          return unavailable("the cloud is unreachable; " + info.subresource() + " cannot be read");
        },
        r -> {});
  }

  /**
   * The container log as the apiserver serves it: plain text, or a Status (400 for a container that
   * is not there or not started, 404 for a pod that is not on this node). {@code follow} returns
   * what is there now.
   */
  private Outcome podLog(Call c) {
    QueryParams q = c.query();
    try {
      var options =
          io.kedge.edge.edged.PodLogs.LogOptions.fromQuery(
              q.get("container", ""), q.all(), java.time.Instant.now());
      byte[] text = podLogs.read(c.info().namespace(), c.info().name(), options);
      return Outcome.Response.of(200, "text/plain", text);
    } catch (io.kedge.edge.edged.PodLogs.PodLogException e) {
      return Outcome.Response.status(KubeStatus.failure(e.code(), e.reason(), e.getMessage()));
    }
  }

  // ---------------------------------------------------------------- cloud / cache plumbing

  /**
   * Sends {@code c} to the cloud and answers what it says; falls back to {@code cached} only when
   * the cloud cannot be reached. {@code refresh} sees successful answers, after they are sent.
   */
  private CompletableFuture<Outcome> viaCloud(
      Call c,
      java.util.function.Supplier<Outcome> cached,
      java.util.function.Consumer<CloudApi.Reply> refresh) {
    if (!cloud.online()) {
      return done(cached.get());
    }
    return cloud
        .send(c.toCloud(), c.loop())
        .handle(
            (r, err) -> {
              if (err != null || r.unavailable()) {
                LOG.debug(
                    "metaserver: {} {} answered from the store: {}",
                    c.info().verb(),
                    c.info().path(),
                    err != null ? CloudApi.unwrap(err).getMessage() : "cloud answered " + r.code());
                return cached.get();
              }
              background.execute(
                  () -> {
                    try {
                      refresh.accept(r);
                    } catch (RuntimeException e) {
                      LOG.debug(
                          "metaserver: not keeping the answer to {}: {}",
                          c.info().path(),
                          e.toString());
                    }
                  });
              return response(r);
            });
  }

  /**
   * Completes once {@code scope} is current, waiting at most {@code syncWait}; {@code token} is the
   * client's, with which the cloud keeps the scope current.
   */
  private CompletableFuture<Void> whenCurrent(Scope scope, String token) {
    subscriptions.offerToken(scope, token);
    if (subscriptions.synced(scope) || !cloud.online()) {
      return CompletableFuture.completedFuture(null);
    }
    return subscriptions
        .ensure(scope, token)
        .orTimeout(settings.syncWait().toMillis(), TimeUnit.MILLISECONDS)
        .exceptionallyCompose(
            t -> {
              Throwable e = CloudApi.unwrap(t);
              if (e instanceof ApiException) {
                return CompletableFuture.failedFuture(e);
              }
              // Not reachable in time: serve what the edge has.
              return CompletableFuture.completedFuture(null);
            });
  }

  private void refreshFromGet(Call c, ApiResource res, CloudApi.Reply r) {
    RequestInfo info = c.info();
    if (subscriptions.fedByWatch(new Scope(res.gvr(), info.namespace()))) {
      return; // its watch brings every version, in order
    }
    if (r.code() == 404 && r.json()) {
      JsonNode s = Json.parse(r.body());
      if ("NotFound".equals(s.path("reason").asString(""))) {
        store.apply(
            ObjectChange.delete(res.gvr(), kindOf(res), null, info.namespace(), info.name()));
      }
      return;
    }
    if (r.code() != 200 || !r.json()) {
      return;
    }
    JsonNode o = Json.parse(r.body());
    if (isObject(o, res)) {
      ObjectChange change = ObjectChange.upsert(res.gvr(), kindOf(res), o);
      // Most consistent reads find the version the edge holds already: a read of the store spares
      // the writer a transaction (and two thread switches) that would change nothing.
      boolean held =
          store
              .get(change.gvr(), change.namespace(), change.name())
              .filter(
                  s ->
                      s.resourceVersion() == change.resourceVersion()
                          && s.uid().equals(change.uid()))
              .isPresent();
      if (!held) {
        store.apply(change);
      }
    }
  }

  private void refreshFromWrite(ApiResource res, CloudApi.Reply r) {
    JsonNode o = Json.parse(r.body());
    String ns = o.path("metadata").path("namespace").asString("");
    if (isObject(o, res) && !subscriptions.fedByWatch(new Scope(res.gvr(), ns))) {
      store.apply(ObjectChange.upsert(res.gvr(), kindOf(res), o));
    }
  }

  private void refreshFromList(Call c, ApiResource res, ListQuery lq, CloudApi.Reply r) {
    if (r.code() != 200 || !r.json()) {
      return;
    }
    subscriptions.readAllowed(lq.scope(), c.token());
    JsonNode list = Json.parse(r.body());
    if (!list.path("kind").asString("").endsWith("List") || !list.path("items").isArray()) {
      return;
    }
    List<ObjectChange> items = new ArrayList<>();
    for (JsonNode i : list.path("items")) {
      try {
        items.add(ObjectChange.upsert(res.gvr(), kindOf(res), i));
      } catch (IllegalArgumentException e) {
        // not an object of this type; leave the store as it is
      }
    }
    if (subscriptions.fedWithin(lq.scope())) {
      // Objects of scopes a watch keeps current come from that watch only; the others are kept.
      List<ObjectChange> rest =
          items.stream()
              .filter(i -> !subscriptions.fedByWatch(new Scope(i.gvr(), i.namespace())))
              .toList();
      if (!rest.isEmpty()) {
        store.applyAll(rest);
      }
      return;
    }
    long listRv =
        ObjectChange.parseResourceVersion(
            list.path("metadata").path("resourceVersion").asString(""));
    boolean complete =
        lq.limit() == 0
            && lq.cont().isEmpty()
            && list.path("metadata").path("continue").asString("").isEmpty()
            && (lq.rv().isEmpty());
    if (complete && listRv > 0) {
      // A consistent complete list also tells what is gone.
      LabelSelector labels = lq.labels();
      FieldSelector fields = lq.fields();
      store.reconcile(
          lq.scope(), items, listRv, o -> lq.everything() || matches(o, labels, fields));
    } else if (!items.isEmpty()) {
      store.applyAll(items);
    }
  }

  /** The request's label selector as the apiserver reads it; 400 with its message if refused. */
  private static LabelSelector labelSelector(QueryParams q) {
    try {
      return LabelSelector.parse(q.get("labelSelector"));
    } catch (SelectorException e) {
      throw ApiException.of(e.code(), e.getMessage());
    }
  }

  /**
   * A field selector as the apiserver reads it for {@code res}; 400 with its message if refused.
   */
  private static FieldSelector fieldSelector(String text, ApiResource res) {
    Gvr g = res.gvr();
    try {
      return FieldSelector.parse(
          text, SelectableFields.of(g.group(), g.version(), g.resource(), res.namespaced()));
    } catch (SelectorException e) {
      throw ApiException.of(e.code(), e.getMessage());
    }
  }

  private static boolean matches(StoredObject o, LabelSelector l, FieldSelector f) {
    JsonNode n = Json.parse(o.json());
    return l.matches(n) && f.matches(n);
  }

  private static boolean isObject(JsonNode o, ApiResource res) {
    String kind = o.path("kind").asString("");
    return o.isObject()
        && o.path("metadata").path("name").isString()
        && (kind.isEmpty() || kind.equals(res.kind()));
  }

  static String kindOf(ApiResource res) {
    return res.kind();
  }

  private static Outcome response(CloudApi.Reply r) {
    if (r.json() && r.code() >= 400) {
      try {
        JsonNode n = Json.parse(r.body());
        if (n instanceof ObjectNode o && "Status".equals(o.path("kind").asString(""))) {
          Outcome.Response s = Outcome.Response.status(o);
          return new Outcome.Response(r.code(), r.contentType(), r.body(), s.headers());
        }
      } catch (RuntimeException e) {
        // pass the bytes on as they are
      }
    }
    return Outcome.Response.of(r.code(), r.contentType(), r.body());
  }

  private Outcome offlineWrite() {
    ObjectNode s =
        KubeStatus.failure(
            503,
            "ServiceUnavailable",
            "the edge is disconnected from the cloud; writes are possible again once it is back");
    ObjectNode d = s.putObject("details");
    d.put("retryAfterSeconds", settings.retryAfterSeconds());
    return Outcome.Response.status(s);
  }

  private Outcome unavailable(String message) {
    ObjectNode s = KubeStatus.failure(503, "ServiceUnavailable", message);
    s.putObject("details").put("retryAfterSeconds", settings.retryAfterSeconds());
    return Outcome.Response.status(s);
  }

  static Outcome notAcceptable() {
    return Outcome.Response.status(
        KubeStatus.failure(
            406,
            "NotAcceptable",
            "the server was unable to respond with a content type that the client supports"));
  }

  /**
   * Why a write's body cannot be meant, for the bodies the apiserver (1.20) answers a 500 for
   * rather than a 400: a merge patch that is not JSON, and DeleteOptions that are not a JSON
   * object. Null when the body goes to the cloud as it came.
   */
  static String malformedBody(Call c) {
    byte[] body = c.body();
    if (body == null || body.length == 0) {
      return null;
    }
    String ct = c.contentType() == null ? "" : c.contentType();
    int semi = ct.indexOf(';');
    String media =
        (semi < 0 ? ct : ct.substring(0, semi)).trim().toLowerCase(java.util.Locale.ROOT);
    String verb = c.info().verb();
    boolean delete = verb.equals("delete") || verb.equals("deletecollection");
    if (!(verb.equals("patch") && media.equals("application/merge-patch+json"))
        && !(delete && (media.isEmpty() || media.equals("application/json")))) {
      return null;
    }
    JsonNode n;
    try {
      n = Json.parse(body);
    } catch (RuntimeException e) {
      return (delete ? "the DeleteOptions" : "the merge patch") + " is not valid JSON";
    }
    if (n == null || (delete && !n.isObject())) {
      return "the DeleteOptions must be a JSON object";
    }
    return null;
  }

  private static Outcome badRequest(String message) {
    return Outcome.Response.status(KubeStatus.failure(400, "BadRequest", message));
  }

  private static Outcome badResourceVersion(String rv) {
    return badRequest("invalid resource version \"" + rv + "\": must be a non-negative integer");
  }

  private static CompletableFuture<Outcome> done(Outcome o) {
    return CompletableFuture.completedFuture(o);
  }

  static Gvr gvrOf(ApiResource r) {
    return r.gvr();
  }
}
