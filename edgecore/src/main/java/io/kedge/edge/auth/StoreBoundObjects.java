package io.kedge.edge.auth;

import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectStore;
import io.kedge.protocol.Json;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * {@link BoundObjects} from the edge store: this node's pods, the synced ServiceAccountAccess
 * objects (service-account UIDs) and the Secrets the node has.
 */
public final class StoreBoundObjects implements BoundObjects {
  private static final Gvr PODS = Gvr.core("pods");
  private static final Gvr SECRETS = Gvr.core("secrets");

  private final ObjectStore store;
  private final SyncedAccessPolicies policies;
  private final String node;

  /**
   * @param node this node; a stored pod bound to another node does not count
   */
  public StoreBoundObjects(ObjectStore store, SyncedAccessPolicies policies, String node) {
    this.store = store;
    this.policies = policies;
    this.node = node;
  }

  @Override
  public Optional<Pod> pod(String namespace, String name) {
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
