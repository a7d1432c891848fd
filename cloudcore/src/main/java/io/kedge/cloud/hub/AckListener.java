package io.kedge.cloud.hub;

import io.kedge.protocol.message.Message;

/**
 * Told when an edge acknowledged an ACK-required message (what the edge now durably has). Called on
 * the node's I/O thread: implementations hand work to their own executor.
 */
@FunctionalInterface
public interface AckListener {
  void acknowledged(String node, Message delivered);

  AckListener NONE = (node, delivered) -> {};
}
