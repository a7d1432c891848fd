package io.kedge.edge.metamanager;

import io.kedge.edge.hub.DownstreamHandler;
import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectChange;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.ResourceCatalog;
import io.kedge.edge.store.ResourceCatalog.ApiResource;
import io.kedge.edge.store.Scope;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.message.Sources;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Applies cloud→edge object messages to the store: EdgeController's pods, ConfigMaps and Secrets,
 * PolicyController's ServiceAccountAccess objects, DynamicController's watch events ({@code
 * <ns|null>/<lowercase kind>/<name>}, with apiVersion and kind in the content). The returned stage
 * completes only after the change is committed, so the ACK EdgeHub sends then means the object
 * survives a crash. Stale versions are ignored by the store; content that can never be stored is
 * logged and acknowledged (resending it would not help).
 */
public final class MetaManager implements DownstreamHandler {
  private static final Logger LOG = LoggerFactory.getLogger(MetaManager.class);

  /** Wire resource types whose content may lack apiVersion/kind (typed informer objects). */
  static final Map<String, Known> WIRE_TYPES =
      Map.ofEntries(
          Map.entry(ResourcePath.POD, new Known(Gvr.core("pods"), "Pod")),
          Map.entry(ResourcePath.CONFIGMAP, new Known(Gvr.core("configmaps"), "ConfigMap")),
          Map.entry(ResourcePath.SECRET, new Known(Gvr.core("secrets"), "Secret")),
          Map.entry(ResourcePath.NODE, new Known(Gvr.core("nodes"), "Node")),
          Map.entry("service", new Known(Gvr.core("services"), "Service")),
          Map.entry("endpoints", new Known(Gvr.core("endpoints"), "Endpoints")),
          Map.entry(
              "persistentvolume", new Known(Gvr.core("persistentvolumes"), "PersistentVolume")),
          Map.entry(
              "persistentvolumeclaim",
              new Known(Gvr.core("persistentvolumeclaims"), "PersistentVolumeClaim")),
          Map.entry(
              ResourcePath.LEASE,
              new Known(new Gvr("coordination.k8s.io", "v1", "leases"), "Lease")),
          Map.entry(
              ResourcePath.SERVICE_ACCOUNT_ACCESS,
              new Known(
                  new Gvr("policy.kubeedge.io", "v1alpha1", "serviceaccountaccesses"),
                  "ServiceAccountAccess")));

  record Known(Gvr gvr, String kind) {}

  /** Hears how far the cloud says the edge holds a watch's scope. */
  public interface WatchProgress {
    void heldUpTo(String applicationId, long resourceVersion);
  }

  /** Hears that the cloud stopped one of the edge's watches on its own, and why. */
  public interface WatchStops {
    void stopped(String applicationId, JsonNode status);
  }

  private final ObjectStore store;
  private final ResourceCatalog catalog;
  private volatile WatchProgress progress = (id, rv) -> {};
  private volatile WatchStops stops = (id, status) -> {};
  private volatile Predicate<Scope> fedByWatch = scope -> false;

  public MetaManager(ObjectStore store, ResourceCatalog catalog) {
    this.store = store;
    this.catalog = catalog;
  }

  /** Where {@link Operations#KEDGE_WATCH_PROGRESS} messages go. */
  public void onWatchProgress(WatchProgress p) {
    progress = p;
  }

  /**
   * Which scopes get their objects only from the watch that keeps them current (see {@code
   * Subscriptions.fedByWatch}): versions of their objects that come another way (EdgeController,
   * the SyncController's catch-up) are acknowledged and left to that watch, which brings every
   * version in order.
   */
  public void onlyFromTheirWatch(Predicate<Scope> fed) {
    fedByWatch = fed;
  }

  /** Where {@link Operations#KEDGE_WATCH_STOPPED} messages go. */
  public void onWatchStopped(WatchStops s) {
    stops = s;
  }

  @Override
  public CompletionStage<Void> handle(Message message) {
    String op = message.operation();
    if (Operations.KEDGE_WATCH_STOPPED.equals(op)) {
      JsonNode c = content(message);
      String id = c.path("applicationId").asString("");
      if (!id.isEmpty()) {
        stops.stopped(id, c.path("status"));
      }
      return CompletableFuture.completedFuture(null);
    }
    if (Operations.KEDGE_WATCH_PROGRESS.equals(op)) {
      JsonNode c = content(message);
      String id = c.path("applicationId").asString("");
      long rv = ObjectChange.parseResourceVersion(c.path("resourceVersion").asString(""));
      if (!id.isEmpty() && rv > 0) {
        progress.heldUpTo(id, rv);
      }
      return CompletableFuture.completedFuture(null);
    }
    boolean delete = Operations.DELETE.equals(op);
    if (!delete && !Operations.INSERT.equals(op) && !Operations.UPDATE.equals(op)) {
      LOG.info("metamanager: nothing to store for {}", message);
      return CompletableFuture.completedFuture(null);
    }
    ObjectChange change;
    try {
      change = toChange(message, delete);
    } catch (IllegalArgumentException e) {
      LOG.warn("metamanager: cannot store {}: {}", message, e.getMessage());
      return CompletableFuture.completedFuture(null);
    }
    if (change == null) {
      // No object type to file it under: keep the content by its wire key, as KubeEdge's meta
      // table.
      String key = "message/" + ResourcePath.parse(message.resource()).canonical();
      if (delete) {
        return store.deleteBlob(key).thenApply(x -> null);
      }
      return store.putBlob(
          key, "application/json", message.contentAsText().getBytes(StandardCharsets.UTF_8));
    }
    ObjectChange c = change;
    if (!Sources.DYNAMIC_CONTROLLER.equals(message.source())
        && fedByWatch.test(new Scope(c.gvr(), c.namespace()))) {
      LOG.debug(
          "metamanager: {} {} {}/{} at {} left to the watch keeping it current",
          op,
          c.gvr(),
          c.namespace(),
          c.name(),
          c.resourceVersion());
      return CompletableFuture.completedFuture(null);
    }
    return store
        .apply(c)
        .thenAccept(
            r -> {
              if (r.changed()) {
                LOG.debug(
                    "metamanager: {} {} {}/{} at {}",
                    op,
                    c.gvr(),
                    c.namespace(),
                    c.name(),
                    c.resourceVersion());
              } else {
                LOG.debug(
                    "metamanager: {} {} {}/{} ignored: {}",
                    op,
                    c.gvr(),
                    c.namespace(),
                    c.name(),
                    r.ignoredBecause());
              }
            });
  }

  /** The store change a message asks for; null when the message names no known object type. */
  ObjectChange toChange(Message message, boolean delete) {
    ResourcePath path = ResourcePath.parse(message.resource());
    if (path.type().isEmpty() || !path.hasName()) {
      throw new IllegalArgumentException("resource names no object: " + message.resource());
    }
    JsonNode content = content(message);
    Gvr gvr;
    String kind;
    String apiVersion = content.path("apiVersion").asString("");
    String contentKind = content.path("kind").asString("");
    Known known = WIRE_TYPES.get(path.type());
    if (known != null) {
      gvr = known.gvr();
      kind = known.kind();
    } else if (!apiVersion.isEmpty() && !contentKind.isEmpty()) {
      ApiResource r = catalog.resolve(apiVersion, contentKind, !path.clusterScoped());
      gvr = r.gvr();
      kind = r.kind();
    } else {
      return null;
    }
    String ns = path.namespace() == null ? "" : path.namespace();
    ObjectChange c =
        delete
            ? ObjectChange.delete(gvr, kind, content, ns, path.name())
            : ObjectChange.upsert(gvr, kind, content);
    long headerRv = ObjectChange.parseResourceVersion(message.header().resourceVersion());
    if (c.resourceVersion() == 0 && headerRv > 0) {
      c = new ObjectChange(c.op(), c.gvr(), c.namespace(), c.name(), c.uid(), headerRv, c.json());
    }
    return c;
  }

  private static JsonNode content(Message m) {
    JsonNode c = m.content();
    if (c.isString()) {
      try {
        return Json.parse(c.asString());
      } catch (RuntimeException e) {
        return Json.object();
      }
    }
    return c;
  }
}
