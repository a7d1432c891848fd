package io.kedge.cloud.hub;

import io.netty.channel.Channel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds the TLS handshakes in progress. When thousands of edges reconnect at once (cloudcore
 * restarted), starting every handshake together shares the CPU among all of them, each takes longer
 * than the handshake timeout, and none completes; the edges retry and the storm repeats. Admitted
 * connections handshake at full speed while the others wait, unread, for a slot. The newest waiter
 * goes first: its client is the least likely to have given up on its own handshake timeout.
 */
final class HandshakeGate {
  private static final Logger LOG = LoggerFactory.getLogger(HandshakeGate.class);

  private record Waiter(Channel channel, Consumer<Channel> start) {}

  private final int limit;
  private final Duration maxWait;
  private final Deque<Waiter> waiting = new ArrayDeque<>();
  private int running;

  /**
   * @param limit handshakes in progress at once
   * @param maxWait how long a connection may wait for a slot before it is closed
   */
  HandshakeGate(int limit, Duration maxWait) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1: " + limit);
    }
    this.limit = limit;
    this.maxWait = maxWait;
  }

  /**
   * Starts the handshake of {@code ch} now or when a slot frees. {@code start} runs on the
   * channel's event loop and must arrange for {@link #release()} once the handshake has ended,
   * either way.
   */
  void admit(Channel ch, Consumer<Channel> start) {
    Waiter w = new Waiter(ch, start);
    synchronized (this) {
      if (running < limit) {
        running++;
      } else {
        waiting.addLast(w);
        w = null;
      }
    }
    if (w != null) {
      start.accept(ch);
      return;
    }
    ch.config().setAutoRead(false);
    ch.closeFuture().addListener(f -> forget(ch));
    ch.eventLoop()
        .schedule(
            () -> {
              if (forget(ch)) {
                LOG.warn(
                    "cloudhub: closing connection from {}: no TLS handshake slot within {} s",
                    ch.remoteAddress(),
                    maxWait.toSeconds());
                ch.close();
              }
            },
            maxWait.toMillis(),
            TimeUnit.MILLISECONDS);
  }

  /** A handshake ended: its slot goes to the newest waiting connection still open. */
  void release() {
    Waiter next;
    synchronized (this) {
      do {
        next = waiting.pollLast();
      } while (next != null && !next.channel().isActive());
      if (next == null) {
        running--;
        return;
      }
    }
    Waiter w = next;
    w.channel()
        .eventLoop()
        .execute(
            () -> {
              if (!w.channel().isActive()) {
                release();
                return;
              }
              w.start().accept(w.channel());
              w.channel().config().setAutoRead(true);
            });
  }

  synchronized int running() {
    return running;
  }

  synchronized int waiting() {
    return waiting.size();
  }

  private synchronized boolean forget(Channel ch) {
    return waiting.removeIf(w -> w.channel() == ch);
  }
}
