package io.kedge.cloud.hub;

import io.kedge.cloud.CloudMetrics;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageCodec;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One node's WebSocket connection: writes go out as text messages (KubeEdge's form), ACK-required
 * ones through the node's {@link DeliveryQueue}. Ends once, with a reason.
 */
final class NodeSession {
  /** Unacknowledged messages allowed at once per node. */
  static final int WINDOW = 64;

  private final String node;
  private final Channel channel;
  private final DeliveryQueue queue;
  private final AtomicReference<String> closeReason = new AtomicReference<>();
  private final long startedNanos = System.nanoTime();
  private volatile boolean offending;

  private final CloudMetrics metrics;

  NodeSession(String node, Channel channel, CloudHub hub) {
    this.node = node;
    this.channel = channel;
    this.metrics = hub.metrics();
    this.queue =
        new DeliveryQueue(
            node,
            channel.eventLoop(),
            new DeliveryQueue.Sink() {
              @Override
              public boolean writable() {
                return channel.isWritable();
              }

              @Override
              public void write(Message m) {
                metrics.sent(m);
                channel.writeAndFlush(frame(m), channel.voidPromise());
              }
            },
            AckRetryPolicy.kubeEdge(Duration.ofSeconds(Math.max(1, hub.config().ackTimeout()))),
            WINDOW,
            hub.config().deliveryQueueLimit(),
            hub.ackListener(),
            metrics);
  }

  String node() {
    return node;
  }

  SocketAddress remoteAddress() {
    return channel.remoteAddress();
  }

  Duration age() {
    return Duration.ofNanos(System.nanoTime() - startedNanos);
  }

  boolean isOpen() {
    return closeReason.get() == null && channel.isActive();
  }

  /** Writes a message that needs no acknowledgement; false when the session is over. */
  boolean send(Message m) {
    if (!isOpen()) {
      return false;
    }
    metrics.sent(m);
    channel.writeAndFlush(frame(m), channel.voidPromise());
    return true;
  }

  CompletableFuture<Void> deliver(Message m) {
    return deliver(m, DeliveryQueue.Mode.LATEST);
  }

  CompletableFuture<Void> deliver(Message m, DeliveryQueue.Mode mode) {
    if (channel.eventLoop().inEventLoop()) {
      return queue.offer(m, mode);
    }
    CompletableFuture<Void> result = new CompletableFuture<>();
    try {
      channel
          .eventLoop()
          .execute(
              () ->
                  queue
                      .offer(m, mode)
                      .whenComplete(
                          (v, err) -> {
                            if (err != null) {
                              result.completeExceptionally(err);
                            } else {
                              result.complete(null);
                            }
                          }));
    } catch (RuntimeException rejected) {
      result.completeExceptionally(
          new DeliveryException(
              DeliveryException.Reason.SESSION_CLOSED, "session of node " + node + " ended"));
    }
    return result;
  }

  /** Handles an ACK on the event loop; false when it answers nothing this session sent. */
  boolean ack(String parentId) {
    return queue.ack(parentId);
  }

  void writabilityChanged() {
    queue.pump();
  }

  /** Ends the session; the first reason given is the one reported. */
  void closeWith(String reason) {
    closeReason.compareAndSet(null, reason);
    channel.close();
  }

  /** Ends the session because the edge broke the protocol (reported as a warning). */
  void refuse(String reason) {
    if (closeReason.compareAndSet(null, reason)) {
      offending = true;
    }
    channel.close();
  }

  boolean offending() {
    return offending;
  }

  String closeReason() {
    String r = closeReason.get();
    return r == null ? "connection closed" : r;
  }

  /** Fails what is still queued (on the event loop). */
  void endDelivery() {
    if (channel.eventLoop().inEventLoop()) {
      queue.close(closeReason());
    } else {
      channel.eventLoop().execute(() -> queue.close(closeReason()));
    }
  }

  int queued() {
    return queue.size();
  }

  static TextWebSocketFrame frame(Message m) {
    return new TextWebSocketFrame(Unpooled.wrappedBuffer(MessageCodec.encode(m)));
  }

  @Override
  public String toString() {
    return "session of node " + node + " from " + channel.remoteAddress();
  }
}
