package io.kedge.edge.hub;

import io.kedge.protocol.message.Message;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/** The edge's connection to the cloud (EdgeHub), as other edge components use it. */
public interface CloudLink {

  boolean isConnected();

  /**
   * Sends {@code request} and completes with the cloud's reply (the message whose {@code
   * parent_msg_id} is the request's id). Fails at once with {@link NotConnectedException} when
   * offline, and with {@link java.util.concurrent.TimeoutException} after {@code timeout}.
   */
  CompletableFuture<Message> request(Message request, Duration timeout);

  /**
   * Like {@link #request(Message, Duration)}, the reply handed over on {@code replies} (e.g. the
   * caller's own event loop, so that what it chains runs there without a further thread switch;
   * what is chained must not block), or as that method does when {@code replies} is null.
   */
  default CompletableFuture<Message> request(Message request, Duration timeout, Executor replies) {
    CompletableFuture<Message> f = request(request, timeout);
    return replies == null ? f : f.thenApplyAsync(m -> m, replies);
  }

  /**
   * Sends without waiting for a reply (ACKs, status, events). May block briefly when the outbound
   * queue is full (back-pressure, never a silent drop).
   *
   * @throws NotConnectedException when offline
   */
  void send(Message message);

  void addListener(CloudLinkListener listener);
}
