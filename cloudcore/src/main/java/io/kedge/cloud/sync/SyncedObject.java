package io.kedge.cloud.sync;

import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.ResourcePath;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * One (Cluster)ObjectSync: which version of an object a node has acknowledged. Named {@code
 * <node>.<objectUID>}, in the object's namespace; cluster-scoped objects are ClusterObjectSyncs.
 *
 * @param namespace the object's namespace, null when cluster-scoped
 * @param resourceVersion the acknowledged version ({@code status.objectResourceVersion}); empty
 *     when none was recorded yet
 */
public record SyncedObject(
    String node,
    String uid,
    String namespace,
    String apiVersion,
    String kind,
    String name,
    String resourceVersion) {

  /** UIDs have a fixed length: the node name is everything before the last 37 characters. */
  private static final int UID_SUFFIX = 37;

  /** API version and kind of the resource types the EdgeController and PolicyController send. */
  static final Map<String, String[]> KINDS =
      Map.of(
          "pod", new String[] {"v1", "Pod"},
          "configmap", new String[] {"v1", "ConfigMap"},
          "secret", new String[] {"v1", "Secret"},
          "node", new String[] {"v1", "Node"},
          "service", new String[] {"v1", "Service"},
          "endpoints", new String[] {"v1", "Endpoints"},
          "persistentvolume", new String[] {"v1", "PersistentVolume"},
          "persistentvolumeclaim", new String[] {"v1", "PersistentVolumeClaim"},
          "serviceaccountaccess",
              new String[] {"policy.kubeedge.io/v1alpha1", "ServiceAccountAccess"});

  public String syncName() {
    return node + "." + uid;
  }

  public boolean clusterScoped() {
    return namespace == null;
  }

  /** Cache key: {@code ns/name} or {@code name}. */
  public String key() {
    return namespace == null ? syncName() : namespace + "/" + syncName();
  }

  public SyncedObject withResourceVersion(String rv) {
    return new SyncedObject(node, uid, namespace, apiVersion, kind, name, rv);
  }

  /** The node part of a sync object's name, or null when the name is not {@code <node>.<uid>}. */
  static String nodeOf(String syncName) {
    if (syncName == null
        || syncName.length() <= UID_SUFFIX
        || syncName.charAt(syncName.length() - UID_SUFFIX) != '.') {
      return null;
    }
    return syncName.substring(0, syncName.length() - UID_SUFFIX);
  }

  static String uidOf(String syncName) {
    return syncName.substring(syncName.length() - UID_SUFFIX + 1);
  }

  /**
   * What an acknowledged delivery tells: the object it carried, or null when the message names no
   * object (no UID, or a type whose API version is unknown).
   */
  static SyncedObject fromDelivered(String node, Message m) {
    JsonNode meta = m.content().path("metadata");
    String uid = meta.path("uid").asString("");
    if (uid.length() != UID_SUFFIX - 1) {
      return null;
    }
    ResourcePath p = ResourcePath.parse(m.resource());
    String name = meta.path("name").asString(p.name());
    String ns = meta.path("namespace").asString("");
    String namespace = ns.isEmpty() ? p.namespace() : ns;
    String apiVersion = m.content().path("apiVersion").asString("");
    String kind = m.content().path("kind").asString("");
    if (apiVersion.isEmpty() || kind.isEmpty()) {
      String[] k = KINDS.get(p.type());
      if (k == null) {
        return null;
      }
      apiVersion = k[0];
      kind = k[1];
    }
    if (name.isEmpty()) {
      return null;
    }
    return new SyncedObject(
        node, uid, namespace, apiVersion, kind, name, m.header().resourceVersion());
  }

  /** Whether version {@code a} is newer than {@code b} (numeric when both are, else different). */
  public static boolean newer(String a, String b) {
    if (a == null || a.isEmpty()) {
      return false;
    }
    if (b == null || b.isEmpty()) {
      return true;
    }
    try {
      return Long.parseLong(a) > Long.parseLong(b);
    } catch (NumberFormatException e) {
      return !a.equals(b);
    }
  }
}
