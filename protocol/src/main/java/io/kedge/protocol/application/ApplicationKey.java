package io.kedge.protocol.application;

/**
 * The storage key of an Application: {@code
 * /<group|core>/<version>/<resource>/<ns|null>/<name|null>} (KubeEdge {@code
 * pkg/metaserver/key.go}); other strings are raw non-resource paths.
 *
 * @param group API group, empty for the core group
 * @param version API version
 * @param resource plural resource name
 * @param namespace namespace, or null for cluster scope / all namespaces
 * @param name object name, or null for collections
 */
public record ApplicationKey(
    String group, String version, String resource, String namespace, String name) {

  private static final String NULL = "null";

  /** Parses a resource key; null when {@code key} is a non-resource path. */
  public static ApplicationKey parse(String key) {
    if (key == null || !key.startsWith("/")) {
      return null;
    }
    String[] p = key.substring(1).split("/", -1);
    if (p.length != 5) {
      return null;
    }
    for (String s : p) {
      if (s.isEmpty()) {
        return null;
      }
    }
    String group = "core".equals(p[0]) ? "" : p[0];
    return new ApplicationKey(
        group, p[1], p[2], NULL.equals(p[3]) ? null : p[3], NULL.equals(p[4]) ? null : p[4]);
  }

  public String format() {
    return "/"
        + (group.isEmpty() ? "core" : group)
        + "/"
        + version
        + "/"
        + resource
        + "/"
        + (namespace == null ? NULL : namespace)
        + "/"
        + (name == null ? NULL : name);
  }

  /** apiVersion string: {@code v1} or {@code group/version}. */
  public String apiVersion() {
    return group.isEmpty() ? version : group + "/" + version;
  }
}
