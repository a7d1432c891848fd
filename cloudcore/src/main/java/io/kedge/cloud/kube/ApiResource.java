package io.kedge.cloud.kube;

import java.util.List;
import java.util.Objects;

/**
 * A resource type as discovery describes it.
 *
 * @param group API group ("" for core)
 * @param version API version
 * @param resource plural name
 * @param kind kind of its objects
 * @param namespaced whether objects live in namespaces
 * @param verbs verbs the resource supports
 */
public record ApiResource(
    String group,
    String version,
    String resource,
    String kind,
    boolean namespaced,
    List<String> verbs) {

  public ApiResource {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(resource, "resource");
    Objects.requireNonNull(kind, "kind");
    verbs = verbs == null ? List.of() : List.copyOf(verbs);
  }

  public String apiVersion() {
    return group.isEmpty() ? version : group + "/" + version;
  }

  /** {@code resource.group/version}, for logs and map keys. */
  public String gvr() {
    return resource + (group.isEmpty() ? "" : "." + group) + "/" + version;
  }

  /** {@code resource} or {@code resource.group}, as the apiserver names it in messages. */
  public String groupResource() {
    return group.isEmpty() ? resource : resource + "." + group;
  }

  @Override
  public String toString() {
    return gvr();
  }
}
