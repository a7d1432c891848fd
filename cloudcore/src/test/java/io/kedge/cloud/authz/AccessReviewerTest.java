package io.kedge.cloud.authz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AccessReviewerTest {
  private static final Subject POD =
      new Subject("system:serviceaccount:demo:app", List.of(), "", Map.of());
  private static final AccessReviewer.Access WATCH_PODS =
      new AccessReviewer.Access("watch", "", "v1", "pods", null, "demo", null);

  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final AtomicBoolean apiserverAllows = new AtomicBoolean(true);
  private final AtomicInteger reviews = new AtomicInteger();

  @AfterEach
  void stop() {
    timer.shutdownNow();
  }

  private AccessReviewer reviewer(Duration debounce, Duration settle) {
    return new AccessReviewer(
        null,
        null,
        Runnable::run,
        timer,
        Duration.ofMinutes(5),
        debounce,
        settle,
        (s, a) -> {
          reviews.incrementAndGet();
          return new AccessReviewer.Decision(apiserverAllows.get(), "");
        });
  }

  @Test
  void aVerdictTheApiserverGaveBeforeItSawTheChangeIsAskedAgainOnceRbacIsQuiet() {
    AccessReviewer r = reviewer(Duration.ofMillis(20), Duration.ofMillis(400));
    List<Boolean> rechecks = new CopyOnWriteArrayList<>();
    r.onRbacChange(() -> rechecks.add(r.review(POD, WATCH_PODS).join().allowed()));
    assertThat(r.review(POD, WATCH_PODS).join().allowed()).isTrue();

    // Our informer saw the RoleBinding go; the apiserver's authorizer has not yet.
    r.rbacChanged();
    await().atMost(Duration.ofSeconds(10)).until(() -> rechecks.size() == 1);
    assertThat(rechecks.get(0)).isTrue();
    apiserverAllows.set(false);

    await().atMost(Duration.ofSeconds(10)).until(() -> rechecks.size() == 2);
    assertThat(rechecks.get(1)).as("second recheck asks the apiserver again").isFalse();
    assertThat(reviews.get()).isEqualTo(3);
  }

  @Test
  void theQuietRecheckWaitsForTheLastChangeOfABurst() throws InterruptedException {
    Duration settle = Duration.ofMillis(500);
    AccessReviewer r = reviewer(Duration.ofMillis(20), settle);
    List<Long> told = new CopyOnWriteArrayList<>();
    r.onRbacChange(() -> told.add(System.nanoTime()));
    long last = 0;
    for (int i = 0; i < 5; i++) {
      last = System.nanoTime();
      r.rbacChanged();
      Thread.sleep(150);
    }
    long lastChange = last;
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> told.stream().anyMatch(t -> t - lastChange >= settle.toNanos()));
    int settled = told.size();
    Thread.sleep(settle.toMillis() * 2);
    assertThat(told).as("one quiet recheck, none after it").hasSize(settled);
    long quietOnes = told.stream().filter(t -> t - lastChange >= settle.toNanos()).count();
    assertThat(quietOnes).isEqualTo(1);
    // The burst lasted longer than the settle time, yet the quiet recheck did not come in its
    // middle: one short recheck at most per change, and the quiet one.
    assertThat(told).hasSizeLessThanOrEqualTo(5 + 1);
  }
}
