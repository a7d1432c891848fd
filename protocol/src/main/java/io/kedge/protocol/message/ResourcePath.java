package io.kedge.protocol.message;

import java.util.Set;

/**
 * A resource string as it travels on the wire: {@code <namespace>/<type>[/<name>]}. Cluster-scoped
 * objects use the namespace {@code null}; before KubeEdge v1.23 the edge wrote {@code
 * default/node/…} and the cloud {@code namespace/node/…}, and both are read as cluster scope for
 * cluster-scoped types. {@link #raw()} keeps the exact string so that replies can echo it.
 *
 * @param raw the string as received
 * @param namespace the namespace, or {@code null} (Java null) for cluster scope
 * @param type the resource type, e.g. {@code pod}, {@code configmap}, {@code nodepatch}
 * @param name the object name, empty when the string names no object
 */
public record ResourcePath(String raw, String namespace, String type, String name) {

  /** The namespace token for cluster-scoped objects on the wire. */
  public static final String CLUSTER_SCOPE = "null";

  /** Types that never have a namespace, whatever token precedes them. */
  private static final Set<String> CLUSTER_TYPES =
      Set.of(
          "node",
          "nodestatus",
          "nodepatch",
          "persistentvolume",
          "volumeattachment",
          "certificatesigningrequest",
          "namespace",
          "clusterrole",
          "clusterrolebinding",
          "customresourcedefinition",
          "clusterobjectsync");

  // Common resource types, for readers.
  public static final String POD = "pod";
  public static final String POD_STATUS = "podstatus";
  public static final String POD_PATCH = "podpatch";
  public static final String CONFIGMAP = "configmap";
  public static final String SECRET = "secret";
  public static final String NODE = "node";
  public static final String NODE_STATUS = "nodestatus";
  public static final String NODE_PATCH = "nodepatch";
  public static final String LEASE = "lease";
  public static final String EVENT = "event";
  public static final String SERVICE_ACCOUNT_TOKEN = "serviceaccounttoken";
  public static final String SERVICE_ACCOUNT_ACCESS = "serviceaccountaccess";
  public static final String CSR = "certificatesigningrequest";
  public static final String K8S_CA = "k8s/ca.crt";
  public static final String WATCHAPP_SYNC = "watchapp/sync";
  public static final String APPLICATION_REPLY = "ignore/Application/ignore";

  /**
   * Parses {@code ns/type[/name]}. Names cannot contain '/', so anything after the second slash is
   * the name. Strings with fewer than two parts (e.g. {@code node}, {@code null}) parse with an
   * empty type.
   */
  public static ResourcePath parse(String s) {
    String raw = s == null ? "" : s;
    int a = raw.indexOf('/');
    if (a < 0) {
      return new ResourcePath(raw, null, "", "");
    }
    String ns = raw.substring(0, a);
    int b = raw.indexOf('/', a + 1);
    String type = b < 0 ? raw.substring(a + 1) : raw.substring(a + 1, b);
    String name = b < 0 ? "" : raw.substring(b + 1);
    String namespace = ns;
    if (CLUSTER_SCOPE.equals(ns) || ns.isEmpty()) {
      namespace = null;
    } else if (CLUSTER_TYPES.contains(type) && ("default".equals(ns) || "namespace".equals(ns))) {
      namespace = null;
    }
    return new ResourcePath(raw, namespace, type, name);
  }

  /** The wire form Kedge writes: {@code ns/type/name}, {@code null/type/name} for cluster scope. */
  public static String format(String namespace, String type, String name) {
    String ns = namespace == null || namespace.isEmpty() ? CLUSTER_SCOPE : namespace;
    return name == null || name.isEmpty() ? ns + "/" + type : ns + "/" + type + "/" + name;
  }

  public boolean clusterScoped() {
    return namespace == null;
  }

  public boolean hasName() {
    return !name.isEmpty();
  }

  /** The canonical form of this path (may differ from {@link #raw()} for legacy forms). */
  public String canonical() {
    return format(namespace, type, name);
  }
}
