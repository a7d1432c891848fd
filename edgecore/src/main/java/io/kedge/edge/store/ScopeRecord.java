package io.kedge.edge.store;

/**
 * A subscribed scope: the id of its watch Application at the cloud, {@code syncedSince}, the
 * highwater at which the event log became complete for it (0 when it never synced), and {@code
 * resumeRv}, the resourceVersion up to which the store holds every change of the scope (from which
 * the cloud replays the apiserver's events after a reconnect; 0 when unknown).
 */
public record ScopeRecord(Scope scope, String applicationId, long syncedSince, long resumeRv) {

  public ScopeRecord(Scope scope, String applicationId, long syncedSince) {
    this(scope, applicationId, syncedSince, 0);
  }

  public boolean everSynced() {
    return syncedSince > 0;
  }
}
