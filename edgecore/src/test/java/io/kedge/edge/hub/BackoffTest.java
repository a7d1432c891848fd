package io.kedge.edge.hub;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void growsExponentiallyWithinBounds() {
    Backoff b = Backoff.ofSeconds(1, 30);
    for (int attempt = 0; attempt < 40; attempt++) {
      long ceiling = Math.min(30_000, 1000L << Math.min(attempt, 20));
      for (int i = 0; i < 50; i++) {
        long d = b.delay(attempt).toMillis();
        assertThat(d).isBetween(Math.max(1000, ceiling / 2), ceiling);
      }
    }
  }

  @Test
  void jitters() {
    Backoff b = Backoff.ofSeconds(1, 30);
    Set<Duration> seen = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      seen.add(b.delay(5));
    }
    assertThat(seen.size()).isGreaterThan(5);
  }

  @Test
  void repairsNonsenseBounds() {
    Backoff b = Backoff.ofSeconds(0, -3);
    assertThat(b.delay(3).toMillis()).isEqualTo(100);
  }
}
