package io.kedge.cloud.hub;

/**
 * A token bucket for one connection: {@code rate} messages per second sustained, {@code burst} at
 * once. Not thread-safe: used from the connection's event loop only.
 */
final class MessageRateLimiter {
  private final double ratePerNano;
  private final double burst;
  private double tokens;
  private long last;

  MessageRateLimiter(int ratePerSecond, int burst, long nowNanos) {
    this.ratePerNano = Math.max(1, ratePerSecond) / 1e9;
    this.burst = Math.max(1, burst);
    this.tokens = this.burst;
    this.last = nowNanos;
  }

  /** Takes one token; false when the connection exceeds its limit. */
  boolean tryAcquire(long nowNanos) {
    long elapsed = nowNanos - last;
    if (elapsed > 0) {
      tokens = Math.min(burst, tokens + elapsed * ratePerNano);
      last = nowNanos;
    }
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }
}
