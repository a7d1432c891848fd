package io.kedge.cloud.kube;

import tools.jackson.databind.JsonNode;

/**
 * resourceVersions as the numbers etcd makes them (the apiserver calls them opaque; they order).
 */
public final class ResourceVersions {
  private ResourceVersions() {}

  /** An etcd revision; 0 for an empty or non-numeric one, which says nothing about order. */
  public static long parse(String rv) {
    try {
      return rv == null || rv.isEmpty() ? 0 : Long.parseLong(rv);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** An object's {@code metadata.resourceVersion}, as {@link #parse}. */
  public static long of(JsonNode obj) {
    return parse(obj.path("metadata").path("resourceVersion").asString(""));
  }
}
