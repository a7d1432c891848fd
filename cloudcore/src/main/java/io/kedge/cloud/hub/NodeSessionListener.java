package io.kedge.cloud.hub;

/** Told when an edge node's session starts and ends. Must not block. */
public interface NodeSessionListener {
  default void connected(String node) {}

  default void disconnected(String node) {}
}
