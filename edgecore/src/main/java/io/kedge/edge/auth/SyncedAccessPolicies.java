package io.kedge.edge.auth;

import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.Scope;
import io.kedge.edge.store.StoreEvent;
import io.kedge.edge.store.StoreListener;
import io.kedge.edge.store.StoredObject;
import io.kedge.protocol.Json;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ServiceAccountAccess objects the cloud synced to this node, as the edge store has them (so
 * the last synced RBAC decides while offline). Parsed once per change, not per request.
 */
public final class SyncedAccessPolicies
    implements Supplier<Collection<ServiceAccountAccess>>, StoreListener {
  private static final Logger LOG = LoggerFactory.getLogger(SyncedAccessPolicies.class);

  public static final Gvr GVR = new Gvr("policy.kubeedge.io", "v1alpha1", "serviceaccountaccesses");

  /** What {@link #load} read, and the count of changes seen before it began to read. */
  private record Loaded(long changes, List<ServiceAccountAccess> policies) {}

  private final ObjectStore store;
  private final AtomicLong changes = new AtomicLong();
  private volatile Loaded cached;

  public SyncedAccessPolicies(ObjectStore store) {
    this.store = store;
    store.addListener(this);
  }

  @Override
  public Collection<ServiceAccountAccess> get() {
    // A change committed while load() reads must not be hidden by what it read before: the count
    // is taken first, so such a read is cached under a count that is already stale.
    long seen = changes.get();
    Loaded c = cached;
    if (c == null || c.changes() != seen) {
      c = new Loaded(seen, load());
      cached = c;
    }
    return c.policies();
  }

  /** The object for a service account, if synced. */
  public ServiceAccountAccess forServiceAccount(String namespace, String name) {
    for (ServiceAccountAccess a : get()) {
      if (a.namespace().equals(namespace) && a.serviceAccountName().equals(name)) {
        return a;
      }
    }
    return null;
  }

  private List<ServiceAccountAccess> load() {
    List<ServiceAccountAccess> out = new ArrayList<>();
    for (StoredObject o : store.list(Scope.all(GVR), "", 0).objects()) {
      try {
        out.add(ServiceAccountAccess.fromJson(Json.parse(o.json())));
      } catch (RuntimeException e) {
        LOG.warn("ignoring unreadable ServiceAccountAccess {}: {}", o.sortKey(), e.getMessage());
      }
    }
    return List.copyOf(out);
  }

  @Override
  public void committed(List<StoreEvent> events) {
    for (StoreEvent e : events) {
      if (GVR.equals(e.gvr())) {
        changes.incrementAndGet();
        return;
      }
    }
  }
}
