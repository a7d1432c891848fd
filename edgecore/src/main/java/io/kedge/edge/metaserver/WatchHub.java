package io.kedge.edge.metaserver;

import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.Scope;
import io.kedge.edge.store.StoreEvent;
import io.kedge.edge.store.StoreListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import tools.jackson.databind.node.ObjectNode;

/**
 * Hands committed store events to the open watches of their type. Runs on the store's writer thread
 * and only enqueues: a slow watcher never holds up the store or other watchers.
 */
final class WatchHub implements StoreListener {
  private final Map<Gvr, Set<Watcher>> watchers = new ConcurrentHashMap<>();

  void add(Watcher w) {
    watchers.computeIfAbsent(w.gvr(), k -> ConcurrentHashMap.newKeySet()).add(w);
  }

  void remove(Watcher w) {
    Set<Watcher> s = watchers.get(w.gvr());
    if (s != null) {
      s.remove(w);
    }
  }

  /**
   * Ends, with an ERROR event carrying {@code status}, the open watches whose scope {@code scope}
   * covers and {@code current} does not say is still kept current another way.
   */
  void expire(Scope scope, ObjectNode status, Predicate<Scope> current) {
    Set<Watcher> s = watchers.get(scope.gvr());
    if (s == null) {
      return;
    }
    for (Watcher w : s) {
      if (scope.covers(w.scope()) && !current.test(w.scope())) {
        w.expire(status);
      }
    }
  }

  int size() {
    int n = 0;
    for (Set<Watcher> s : watchers.values()) {
      n += s.size();
    }
    return n;
  }

  @Override
  public void committed(List<StoreEvent> events) {
    Gvr current = null;
    List<StoreEvent> run = new ArrayList<>();
    for (StoreEvent e : events) {
      if (!e.gvr().equals(current)) {
        deliver(current, run);
        run = new ArrayList<>();
        current = e.gvr();
      }
      run.add(e);
    }
    deliver(current, run);
  }

  private void deliver(Gvr gvr, List<StoreEvent> run) {
    if (gvr == null || run.isEmpty()) {
      return;
    }
    Set<Watcher> s = watchers.get(gvr);
    if (s == null) {
      return;
    }
    for (Watcher w : s) {
      w.offer(run);
    }
  }
}
