package io.kedge.edge.store;

/**
 * A resource type in one namespace, or in all namespaces (and for cluster-scoped types) when {@code
 * namespace} is empty: the unit the edge subscribes to and keeps an event log for.
 */
public record Scope(Gvr gvr, String namespace) {

  public Scope {
    namespace = namespace == null ? "" : namespace;
  }

  public static Scope all(Gvr gvr) {
    return new Scope(gvr, "");
  }

  public boolean allNamespaces() {
    return namespace.isEmpty();
  }

  /** True when this scope includes every object of {@code other}. */
  public boolean covers(Scope other) {
    return gvr.equals(other.gvr) && (allNamespaces() || namespace.equals(other.namespace));
  }

  @Override
  public String toString() {
    return gvr + (allNamespaces() ? "" : " in " + namespace);
  }
}
