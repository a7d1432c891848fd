package io.kedge.cloud.hub;

import io.kedge.protocol.message.Message;

/**
 * Receives edge→cloud messages that CloudHub does not answer itself (keepalives, ACKs and {@code
 * k8s/ca.crt} it handles). CloudHub routes by {@code route.source}: {@code metaserver} to the
 * DynamicController, everything else to the EdgeController. Implementations must not block the
 * caller: CloudHub calls from the session's I/O thread.
 */
@FunctionalInterface
public interface UpstreamHandler {
  /**
   * @param node the node of the session the message arrived on (from its authenticated connection,
   *     never from the message)
   */
  void handle(String node, Message message);
}
