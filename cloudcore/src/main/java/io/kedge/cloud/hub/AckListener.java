package io.kedge.cloud.hub;

import io.kedge.protocol.message.Message;

/**
 * Told when an edge acknowledged an ACK-required message (what the edge now durably has). Called on
 * the node's I/O thread: implementations hand work to their own executor.
 */
@FunctionalInterface
public interface AckListener {
  void acknowledged(String node, Message delivered);

  /**
   * Whether {@code node} has acknowledged the object {@code m} carries at {@code m}'s
   * resourceVersion or a newer one, as far as the ACKs this node's I/O thread handled so far tell.
   * Called on that thread.
   */
  default boolean holds(String node, Message m) {
    return false;
  }

  AckListener NONE = (node, delivered) -> {};
}
