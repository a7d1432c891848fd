package io.kedge.edge.store;

/**
 * A subscribed scope: the id of its watch Application at the cloud, and {@code syncedSince}, the
 * highwater at which the event log became complete for it (0 when it never synced).
 */
public record ScopeRecord(Scope scope, String applicationId, long syncedSince) {
  public boolean everSynced() {
    return syncedSince > 0;
  }
}
