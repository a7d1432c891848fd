package io.kedge.cloud.hub;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The current session of each connected node (one per node) and the node limit. */
final class NodeSessionRegistry {
  private final Map<String, NodeSession> sessions = new ConcurrentHashMap<>();
  private final int limit;

  NodeSessionRegistry(int limit) {
    this.limit = limit;
  }

  /** Whether a new session of {@code node} is within the limit (replacing one always is). */
  boolean admits(String node) {
    return sessions.containsKey(node) || sessions.size() < limit;
  }

  /**
   * Makes {@code s} its node's session; returns the session it replaces (or null).
   *
   * @throws IllegalStateException when the node limit is reached
   */
  synchronized NodeSession register(NodeSession s) {
    if (!admits(s.node())) {
      throw new IllegalStateException("node limit " + limit + " reached");
    }
    return sessions.put(s.node(), s);
  }

  /** Forgets {@code s} if it is still its node's session. */
  synchronized boolean remove(NodeSession s) {
    return sessions.remove(s.node(), s);
  }

  NodeSession get(String node) {
    return sessions.get(node);
  }

  Set<String> nodes() {
    return Set.copyOf(sessions.keySet());
  }

  int size() {
    return sessions.size();
  }

  Iterable<NodeSession> all() {
    return sessions.values();
  }
}
