package io.kedge.cloud.hub;

import io.kedge.protocol.message.Message;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Sending to edge nodes through their CloudHub sessions. Resource strings in messages are the wire
 * form ({@code ns/type/name}); CloudHub adds nothing and strips nothing.
 */
public interface EdgeMessenger {

  boolean isConnected(String node);

  Set<String> connectedNodes();

  /**
   * Sends a message that needs no acknowledgement (replies, {@code applicationResponse}). Returns
   * false when the node has no session; the message is then dropped.
   */
  boolean send(String node, Message message);

  /**
   * ACK-required delivery of an object change (insert/update/delete with {@code resourceversion}):
   * queued per node, a newer version of the same object supersedes a queued older one, resent with
   * the same {@code msg_id} until the edge acknowledges it. The future completes on ACK, or fails
   * when the message was superseded or the session ended (the sync controller then redelivers what
   * the edge still lacks).
   */
  CompletableFuture<Void> deliver(String node, Message message);

  /**
   * As {@link #deliver}, for a resend decided from an earlier view of the edge's ACKs: nothing is
   * sent (and the future completes) when, by the time the message would be queued, the edge has
   * acknowledged this version of the object or a newer one — an ACK that arrived while the sender
   * compared would otherwise bring the edge the same version twice.
   */
  default CompletableFuture<Void> redeliver(String node, Message message) {
    return deliver(node, message);
  }

  /**
   * As {@link #deliver}, except that no version of the object replaces another: each reaches the
   * edge, in the order given, once the one before it is acknowledged (watch events for an edge that
   * keeps a log of them). Fails with {@code SUPERSEDED} only for a version older than one already
   * queued, which the edge then gets after everything queued before it.
   */
  CompletableFuture<Void> deliverEach(String node, Message message);
}
