package io.kedge.edge.edged;

import java.time.Duration;

/**
 * When a restarted container may start again (CrashLoopBackOff): the first restart is immediate,
 * then {@code initial}, doubling up to {@code max}; a container that ran for {@code resetAfter}
 * starts over. The kubelet's numbers are {@link #kubeletDefault()}.
 */
public record RestartBackoff(Duration initial, Duration max, Duration resetAfter) {

  public static RestartBackoff kubeletDefault() {
    return new RestartBackoff(
        Duration.ofSeconds(10), Duration.ofMinutes(5), Duration.ofMinutes(10));
  }

  /** The delay before restart number {@code restarts + 1}, given how many restarts came before. */
  public Duration delay(int restarts) {
    if (restarts <= 0) {
      return Duration.ZERO;
    }
    Duration d = initial;
    for (int i = 1; i < restarts && d.compareTo(max) < 0; i++) {
      d = d.multipliedBy(2);
    }
    return d.compareTo(max) > 0 ? max : d;
  }
}
