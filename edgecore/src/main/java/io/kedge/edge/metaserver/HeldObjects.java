package io.kedge.edge.metaserver;

import io.kedge.edge.auth.SyncedAccessPolicies;
import io.kedge.edge.hub.CloudLinkListener;
import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectChange;
import io.kedge.edge.store.ObjectPage;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.ResourceCatalog;
import io.kedge.edge.store.ResourceCatalog.ApiResource;
import io.kedge.edge.store.Scope;
import io.kedge.edge.store.StoredObject;
import io.kedge.protocol.Json;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Objects the edge holds outside the scopes it keeps current — read once by a consistent GET or
 * LIST — would otherwise be served offline as they were when last read. Each time the link comes
 * back they are read again from the cloud, one by one in the background: changed ones are updated,
 * those the apiserver no longer has are removed.
 */
final class HeldObjects implements CloudLinkListener {
  private static final Logger LOG = LoggerFactory.getLogger(HeldObjects.class);
  private static final int PAGE = 200;

  private final ObjectStore store;
  private final CloudApi cloud;
  private final ResourceCatalog catalog;
  private final Subscriptions subscriptions;
  private final long timeoutMillis;
  private final ExecutorService executor =
      Executors.newSingleThreadExecutor(new DefaultThreadFactory("metaserver-held", true));
  private final AtomicBoolean running = new AtomicBoolean();
  private final AtomicBoolean again = new AtomicBoolean();

  HeldObjects(
      ObjectStore store,
      CloudApi cloud,
      ResourceCatalog catalog,
      Subscriptions subscriptions,
      java.time.Duration timeout) {
    this.store = store;
    this.cloud = cloud;
    this.catalog = catalog;
    this.subscriptions = subscriptions;
    this.timeoutMillis = timeout.toMillis();
  }

  @Override
  public void connected() {
    if (!running.compareAndSet(false, true)) {
      again.set(true);
      return;
    }
    try {
      executor.execute(this::runAll);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      running.set(false); // closed
    }
  }

  @Override
  public void disconnected() {}

  void close() {
    executor.shutdownNow();
  }

  private void runAll() {
    try {
      do {
        again.set(false);
        refreshAll();
      } while (again.get() && cloud.online());
    } catch (RuntimeException e) {
      // the store closing under it (shutdown), or a store failure: the next connect tries again
      LOG.info("metaserver: refreshing held objects stopped: {}", e.toString());
    } finally {
      running.set(false);
    }
  }

  private void refreshAll() {
    long start = System.nanoTime();
    int checked = 0;
    int changed = 0;
    for (Gvr gvr : store.types()) {
      Optional<ApiResource> res = catalog.resource(gvr);
      if (res.isEmpty() || !res.get().supports("get")) {
        continue; // not a type the cloud serves as such
      }
      if (gvr.equals(SyncedAccessPolicies.GVR)) {
        // The cloud sends this node its ServiceAccountAccess objects and their deletions; reading
        // them back needs a get that KubeEdge's cloudcore is not granted (list/watch only).
        continue;
      }
      List<Scope> kept = subscriptions.scopes();
      String after = "";
      while (true) {
        ObjectPage page = store.list(Scope.all(gvr), after, PAGE);
        for (StoredObject o : page.objects()) {
          after = o.sortKey();
          Scope own = new Scope(gvr, o.namespace());
          if (kept.stream().anyMatch(s -> s.covers(own))) {
            continue;
          }
          if (!cloud.online() || Thread.currentThread().isInterrupted()) {
            LOG.info("metaserver: refreshing held objects stopped: the cloud is unreachable");
            return;
          }
          checked++;
          if (refresh(res.get(), o)) {
            changed++;
          }
        }
        if (!page.more()) {
          break;
        }
      }
    }
    if (checked > 0) {
      LOG.info(
          "metaserver: {} held objects outside cached scopes read again, {} changed, in {} ms",
          checked,
          changed,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }
  }

  /** Reads {@code o} from the cloud and stores the answer; whether the store changed. */
  private boolean refresh(ApiResource res, StoredObject o) {
    Gvr g = o.gvr();
    String base =
        g.group().isEmpty() ? "/api/" + g.version() : "/apis/" + g.group() + "/" + g.version();
    String path =
        base
            + (o.namespace().isEmpty() ? "" : "/namespaces/" + o.namespace())
            + "/"
            + g.resource()
            + "/"
            + o.name();
    RequestInfo info =
        new RequestInfo(
            true,
            path,
            "GET",
            "get",
            g.group(),
            g.version(),
            o.namespace(),
            g.resource(),
            o.name(),
            "",
            List.of());
    CloudApi.Reply r;
    try {
      r =
          cloud
              .send(new CloudApi.Request(info, "", "application/json", "", null, ""))
              .get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (Exception e) {
      return false; // unreachable or slow: the next reconnect tries again
    }
    if (!r.json()) {
      return false;
    }
    JsonNode body = Json.parse(r.body());
    if (r.code() == 404) {
      // Only "this object is gone", never "this type is unknown" (details name the object).
      if ("NotFound".equals(body.path("reason").asString(""))
          && o.name().equals(body.path("details").path("name").asString(""))) {
        store.apply(ObjectChange.delete(g, res.kind(), null, o.namespace(), o.name())).join();
        LOG.info(
            "metaserver: {} {}/{} is gone at the apiserver; removed", g, o.namespace(), o.name());
        return true;
      }
      return false;
    }
    if (r.code() != 200 || !body.path("metadata").path("name").isString()) {
      return false;
    }
    long rv =
        ObjectChange.parseResourceVersion(
            body.path("metadata").path("resourceVersion").asString(""));
    if (rv == o.resourceVersion()) {
      return false;
    }
    store.apply(ObjectChange.upsert(g, res.kind(), body)).join();
    return true;
  }
}
