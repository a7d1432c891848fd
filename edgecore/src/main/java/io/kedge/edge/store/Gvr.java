package io.kedge.edge.store;

import java.util.Objects;

/**
 * A Kubernetes group/version/resource. The core group is the empty string. {@link #toString()} is
 * the form the store keys rows by ({@code /v1/pods}, {@code apps/v1/deployments}).
 */
public record Gvr(String group, String version, String resource) {

  public Gvr {
    group = group == null ? "" : group;
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(resource, "resource");
  }

  public static Gvr core(String resource) {
    return new Gvr("", "v1", resource);
  }

  /** Parses {@link #toString()}'s form. */
  public static Gvr parse(String s) {
    String[] p = s.split("/", -1);
    if (p.length != 3 || p[1].isEmpty() || p[2].isEmpty()) {
      throw new IllegalArgumentException("not a group/version/resource: " + s);
    }
    return new Gvr(p[0], p[1], p[2]);
  }

  /** {@code v1} or {@code group/version}. */
  public String apiVersion() {
    return group.isEmpty() ? version : group + "/" + version;
  }

  @Override
  public String toString() {
    return group + "/" + version + "/" + resource;
  }
}
