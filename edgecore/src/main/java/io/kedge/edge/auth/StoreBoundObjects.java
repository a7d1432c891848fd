package io.kedge.edge.auth;

import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.StoreEvent;
import io.kedge.edge.store.StoreListener;
import io.kedge.protocol.Json;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * {@link BoundObjects} from the edge store: this node's pods, the synced ServiceAccountAccess
 * objects (service-account UIDs) and the Secrets the node has.
 */
public final class StoreBoundObjects implements BoundObjects, StoreListener {
  private static final Gvr PODS = Gvr.core("pods");
  private static final Gvr SECRETS = Gvr.core("secrets");

  private final ObjectStore store;
  private final SyncedAccessPolicies policies;
  private final String node;

  /**
   * Pods as last read, by namespace/name: every authenticated request asks for its pod, and parsing
   * the pod each time costs more than answering a cached read. Dropped when the store changes a
   * pod; {@code podGeneration} keeps a read that raced with such a change out.
   */
  private final Map<String, Optional<Pod>> pods = new HashMap<>();

  private long podGeneration; // guarded by pods

  /** Pods remembered at most; a node runs far fewer. */
  static final int MAX_PODS = 1024;

  /**
   * @param node this node; a stored pod bound to another node does not count
   */
  public StoreBoundObjects(ObjectStore store, SyncedAccessPolicies policies, String node) {
    this.store = store;
    this.policies = policies;
    this.node = node;
    store.addListener(this);
  }

  @Override
  public Optional<Pod> pod(String namespace, String name) {
    String key = namespace + "/" + name;
    long generation;
    synchronized (pods) {
      Optional<Pod> known = pods.get(key);
      if (known != null) {
        return known;
      }
      generation = podGeneration;
    }
    Optional<Pod> read = read(namespace, name);
    synchronized (pods) {
      if (generation == podGeneration) {
        if (pods.size() >= MAX_PODS) {
          pods.clear();
        }
        pods.put(key, read);
      }
    }
    return read;
  }

  @Override
  public void committed(List<StoreEvent> events) {
    for (StoreEvent e : events) {
      if (PODS.equals(e.gvr())) {
        synchronized (pods) {
          podGeneration++;
          pods.clear();
        }
        return;
      }
    }
  }

  private Optional<Pod> read(String namespace, String name) {
    return store
        .get(PODS, namespace, name)
        .map(o -> Json.parse(o.json()))
        .filter(p -> node.equals(p.path("spec").path("nodeName").asString("")))
        .map(
            p ->
                new Pod(
                    p.path("metadata").path("uid").asString(""), serviceAccount(p.path("spec"))));
  }

  private static String serviceAccount(JsonNode spec) {
    String sa = spec.path("serviceAccountName").asString("");
    return sa.isEmpty() ? spec.path("serviceAccount").asString("") : sa;
  }

  @Override
  public Optional<String> serviceAccountUid(String namespace, String name) {
    ServiceAccountAccess a = policies.forServiceAccount(namespace, name);
    return a == null || a.serviceAccountUid().isEmpty()
        ? Optional.empty()
        : Optional.of(a.serviceAccountUid());
  }

  @Override
  public Optional<String> secretUid(String namespace, String name) {
    return store
        .get(SECRETS, namespace, name)
        .map(o -> Json.parse(o.json()).path("metadata").path("uid").asString(""))
        .filter(s -> !s.isEmpty());
  }
}
