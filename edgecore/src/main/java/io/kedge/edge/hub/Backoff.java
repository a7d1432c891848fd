package io.kedge.edge.hub;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential back-off with jitter, bounded: attempt {@code n} waits a random time in {@code [d/2,
 * d]} with {@code d = min(max, min·2^n)}, never less than {@code min}. The jitter spreads thousands
 * of edges reconnecting after a cloudcore restart.
 *
 * @param min the first delay
 * @param max the longest delay
 */
public record Backoff(Duration min, Duration max) {

  public Backoff {
    if (min.isNegative() || min.isZero()) {
      min = Duration.ofMillis(100);
    }
    if (max.compareTo(min) < 0) {
      max = min;
    }
  }

  /** Reconnect back-off from {@code reconnectMinDelay}/{@code reconnectMaxDelay} (seconds). */
  public static Backoff ofSeconds(int minSeconds, int maxSeconds) {
    return new Backoff(Duration.ofSeconds(minSeconds), Duration.ofSeconds(maxSeconds));
  }

  /** The delay before attempt {@code attempt} (0 = the first retry). */
  public Duration delay(int attempt) {
    long minMs = min.toMillis();
    long maxMs = max.toMillis();
    int shift = Math.min(Math.max(attempt, 0), 30);
    long ceiling = minMs << shift;
    long d = ceiling <= 0 || ceiling > maxMs ? maxMs : ceiling;
    long jittered = d / 2 + ThreadLocalRandom.current().nextLong(d - d / 2 + 1);
    return Duration.ofMillis(Math.max(minMs, Math.min(maxMs, jittered)));
  }
}
