package io.kedge.cloud.hub;

import java.time.Duration;

/**
 * How an unacknowledged message is retried: sent again with the same {@code msg_id} every {@code
 * ackTimeout}, up to {@code maxSends} sends; then it waits, with exponential back-off up to {@code
 * maxBackoff}, before the next round (KubeEdge: 5 s, 5 sends, then requeue with back-off).
 */
public record AckRetryPolicy(Duration ackTimeout, int maxSends, Duration maxBackoff) {

  public static AckRetryPolicy kubeEdge(Duration ackTimeout) {
    return new AckRetryPolicy(ackTimeout, 5, Duration.ofMinutes(5));
  }

  /** The wait after round {@code round} (1-based) of sends went unanswered. */
  public Duration backoff(int round) {
    long ms = ackTimeout.toMillis() << Math.min(Math.max(round - 1, 0), 16);
    return Duration.ofMillis(Math.min(ms, maxBackoff.toMillis()));
  }
}
