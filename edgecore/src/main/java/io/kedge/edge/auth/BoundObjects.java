package io.kedge.edge.auth;

import java.util.Optional;

/**
 * What this node knows locally about the objects a token is bound to (answered from the edge store,
 * never from the network).
 */
public interface BoundObjects {

  /**
   * The pod, if this node runs it (the store holds exactly this node's pods).
   *
   * @param uid the pod's UID
   * @param serviceAccountName {@code spec.serviceAccountName} (empty means {@code default})
   */
  record Pod(String uid, String serviceAccountName) {}

  Optional<Pod> pod(String namespace, String name);

  /** The ServiceAccount's UID as the synced ServiceAccountAccess states it, if known. */
  Optional<String> serviceAccountUid(String namespace, String name);

  /** The Secret's UID, if this node has the Secret. */
  Optional<String> secretUid(String namespace, String name);
}
