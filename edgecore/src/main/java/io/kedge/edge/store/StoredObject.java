package io.kedge.edge.store;

/**
 * One object as the edge keeps it: its raw JSON (with {@code apiVersion} and {@code kind}) and the
 * metadata the store indexes. {@code namespace} is empty for cluster-scoped objects.
 */
public record StoredObject(
    Gvr gvr, String namespace, String name, String uid, long resourceVersion, byte[] json) {

  public StoredObject {
    namespace = namespace == null ? "" : namespace;
    uid = uid == null ? "" : uid;
  }

  /** The key objects are ordered by, as etcd orders them: {@code ns/name}, or {@code name}. */
  public String sortKey() {
    return sortKey(namespace, name);
  }

  public static String sortKey(String namespace, String name) {
    return namespace == null || namespace.isEmpty() ? name : namespace + "/" + name;
  }
}
