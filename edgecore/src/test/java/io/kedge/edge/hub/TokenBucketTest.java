package io.kedge.edge.hub;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenBucketTest {

  @Test
  void allowsTheBurstThenPacesAtTheRate() {
    AtomicLong now = new AtomicLong();
    TokenBucket b = new TokenBucket(10, 3, now::get);
    for (int i = 0; i < 3; i++) {
      assertThat(b.reserve()).isEqualTo(Duration.ZERO);
    }
    assertThat(b.reserve()).isEqualTo(Duration.ofMillis(100));
    assertThat(b.reserve()).isEqualTo(Duration.ofMillis(200));
    now.addAndGet(Duration.ofSeconds(10).toNanos());
    assertThat(b.reserve()).isEqualTo(Duration.ZERO);
  }

  @Test
  void refundGivesTheTokenBack() {
    AtomicLong now = new AtomicLong();
    TokenBucket b = new TokenBucket(1, 1, now::get);
    assertThat(b.reserve()).isZero();
    assertThat(b.reserve()).isPositive();
    b.refund();
    assertThat(b.reserve()).isEqualTo(Duration.ofSeconds(1));
  }
}
