package io.kedge.edge.hub;

import io.kedge.protocol.message.Message;
import java.util.concurrent.CompletionStage;

/**
 * Receives cloud→edge messages that are not replies to an edge request (object inserts, updates,
 * deletes, policy objects, watch events). EdgeHub acknowledges an ACK-required message only once
 * the returned stage completes normally — i.e. after the durable write; a failed stage withholds
 * the ACK so the cloud sends it again.
 */
@FunctionalInterface
public interface DownstreamHandler {
  CompletionStage<Void> handle(Message message);
}
