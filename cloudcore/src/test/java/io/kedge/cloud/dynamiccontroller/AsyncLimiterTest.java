package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class AsyncLimiterTest {
  @Test
  void startsAtMostTheLimitAndTheRestInOrder() {
    AsyncLimiter l = new AsyncLimiter(2);
    List<CompletableFuture<Integer>> ops = new ArrayList<>();
    List<CompletableFuture<Integer>> results = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      CompletableFuture<Integer> op = new CompletableFuture<>();
      ops.add(op);
      results.add(l.submit(() -> op));
    }
    assertThat(l.running()).isEqualTo(2);
    assertThat(l.waiting()).isEqualTo(3);
    ops.get(0).complete(0);
    assertThat(results.get(0)).isCompletedWithValue(0);
    assertThat(l.running()).isEqualTo(2);
    assertThat(l.waiting()).isEqualTo(2);
    ops.get(1).completeExceptionally(new IllegalStateException("x"));
    assertThat(results.get(1)).isCompletedExceptionally();
    for (int i = 2; i < 5; i++) {
      ops.get(i).complete(i);
    }
    assertThat(results.get(4)).isCompletedWithValue(4);
    assertThat(l.running()).isZero();
  }

  @Test
  void anOperationThatThrowsReleasesItsSlot() {
    AsyncLimiter l = new AsyncLimiter(1);
    CompletableFuture<Object> f =
        l.submit(
            () -> {
              throw new IllegalStateException("boom");
            });
    assertThat(f).isCompletedExceptionally();
    assertThat(l.running()).isZero();
  }

  @Test
  void aColdLimiterRunsOneUntilOneSucceeds() {
    AsyncLimiter l = new AsyncLimiter(3, true);
    List<CompletableFuture<Integer>> ops = new ArrayList<>();
    List<CompletableFuture<Integer>> results = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      CompletableFuture<Integer> op = new CompletableFuture<>();
      ops.add(op);
      results.add(l.submit(() -> op));
    }
    assertThat(l.running()).isEqualTo(1);
    // a failure proves nothing about the connection: still one at a time
    ops.get(0).completeExceptionally(new IllegalStateException("refused"));
    assertThat(results.get(0)).isCompletedExceptionally();
    assertThat(l.running()).isEqualTo(1);
    assertThat(l.waiting()).isEqualTo(4);
    // the first success opens up to the limit at once
    ops.get(1).complete(1);
    assertThat(l.running()).isEqualTo(3);
    assertThat(l.waiting()).isEqualTo(1);
    for (int i = 2; i < 6; i++) {
      ops.get(i).complete(i);
    }
    assertThat(results.get(5)).isCompletedWithValue(5);
    assertThat(l.running()).isZero();
    assertThat(l.waiting()).isZero();
  }
}
