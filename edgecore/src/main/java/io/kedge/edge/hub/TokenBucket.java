package io.kedge.edge.hub;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Rate limit for edge-initiated messages ({@code messageQPS}, {@code messageBurst}), as KubeEdge's
 * EdgeHub applies: a caller over the rate waits for its turn rather than losing its message.
 */
final class TokenBucket {
  private final double perNano;
  private final double capacity;
  private final LongSupplier clock;
  private double tokens;
  private long last;

  TokenBucket(int qps, int burst) {
    this(qps, burst, System::nanoTime);
  }

  TokenBucket(int qps, int burst, LongSupplier clock) {
    this.perNano = Math.max(qps, 1) / 1e9;
    this.capacity = Math.max(burst, 1);
    this.clock = clock;
    this.tokens = capacity;
    this.last = clock.getAsLong();
  }

  /**
   * Takes one token; returns how long the caller must wait before sending (zero when a token was
   * free). The token is reserved either way, so waiting callers keep their order.
   */
  synchronized Duration reserve() {
    long now = clock.getAsLong();
    tokens = Math.min(capacity, tokens + (now - last) * perNano);
    last = now;
    tokens -= 1;
    if (tokens >= 0) {
      return Duration.ZERO;
    }
    return Duration.ofNanos((long) Math.ceil(-tokens / perNano));
  }

  /** Gives back a reserved token (the caller gave up). */
  synchronized void refund() {
    tokens = Math.min(capacity, tokens + 1);
  }
}
