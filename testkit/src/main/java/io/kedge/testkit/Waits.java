package io.kedge.testkit;

import java.time.Duration;
import java.util.concurrent.Callable;
import org.awaitility.Awaitility;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Waits in tests: a generous upper bound, and a log line with the time it actually took. No test
 * asserts on elapsed time; the log is there to notice drift.
 */
public final class Waits {
  private static final Logger LOG = LoggerFactory.getLogger(Waits.class);

  private Waits() {}

  /** Waits until {@code condition} holds, at most {@code atMost}; returns the time taken. */
  public static Duration until(String what, Duration atMost, Callable<Boolean> condition) {
    long t0 = System.nanoTime();
    Awaitility.await(what)
        .atMost(atMost)
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(condition);
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    LOG.info("waited {} ms for: {}", took.toMillis(), what);
    return took;
  }
}
