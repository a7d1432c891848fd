package io.kedge.edge.edged;

import io.kedge.edge.metamanager.CloudQueries;
import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectPage;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.Scope;
import io.kedge.edge.store.StoredObject;
import io.kedge.protocol.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * {@link EdgeObjects} over the edge store: pods of this node, and ConfigMaps / Secrets from the
 * store when there (the cloud pushes their changes), else asked from the cloud through {@link
 * CloudQueries}, which keeps the answer in the store.
 */
public final class StoreEdgeObjects implements EdgeObjects {
  private static final Logger log = LoggerFactory.getLogger(StoreEdgeObjects.class);
  static final Gvr PODS = Gvr.core("pods");
  static final Gvr CONFIGMAPS = Gvr.core("configmaps");
  static final Gvr SECRETS = Gvr.core("secrets");

  private final ObjectStore store;
  private final CloudQueries queries;
  private final String nodeName;

  public StoreEdgeObjects(ObjectStore store, CloudQueries queries, String nodeName) {
    this.store = store;
    this.queries = queries;
    this.nodeName = nodeName;
  }

  @Override
  public List<JsonNode> pods() {
    List<JsonNode> out = new ArrayList<>();
    String after = "";
    while (true) {
      ObjectPage page = store.list(Scope.all(PODS), after, 500);
      for (StoredObject o : page.objects()) {
        JsonNode pod = Json.parse(o.json());
        if (nodeName.equals(pod.path("spec").path("nodeName").asString(""))) {
          out.add(pod);
        }
        after = o.sortKey();
      }
      if (!page.more() || page.objects().isEmpty()) {
        return out;
      }
    }
  }

  @Override
  public CompletionStage<Optional<JsonNode>> configMap(String namespace, String name) {
    return lookup(CONFIGMAPS, namespace, name, () -> queries.configMap(namespace, name));
  }

  @Override
  public CompletionStage<Optional<JsonNode>> secret(String namespace, String name) {
    return lookup(SECRETS, namespace, name, () -> queries.secret(namespace, name));
  }

  private CompletionStage<Optional<JsonNode>> lookup(
      Gvr gvr,
      String namespace,
      String name,
      java.util.function.Supplier<CompletableFuture<JsonNode>> cloud) {
    Optional<StoredObject> local = store.get(gvr, namespace, name);
    if (local.isPresent()) {
      return CompletableFuture.completedFuture(Optional.of(Json.parse(local.get().json())));
    }
    return cloud
        .get()
        .thenApply(Optional::of)
        .exceptionally(
            e -> {
              Throwable c =
                  e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
              if (!(c instanceof CloudQueries.QueryException q && q.code() == 404)) {
                log.info(
                    "{} {}/{} is not available: {}", gvr.resource(), namespace, name, c.toString());
              }
              return Optional.empty();
            });
  }
}
