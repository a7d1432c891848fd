package io.kedge.cloud.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.cloud.kube.KeyedWorkQueue.Result;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class KeyedWorkQueueTest {

  @Test
  void keysAddedWhilePendingAreMerged() throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    CountDownLatch gate = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(3);
    try (KeyedWorkQueue q =
        new KeyedWorkQueue(
            "t",
            k -> {
              if (k.equals("block")) {
                await(gate);
              }
              seen.add(k);
              done.countDown();
              return Result.DONE;
            })) {
      q.add("block");
      for (int i = 0; i < 10; i++) {
        q.add("a");
        q.add("b");
      }
      gate.countDown();
      assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
      Thread.sleep(100);
      assertThat(seen).containsExactly("block", "a", "b");
    }
  }

  @Test
  void failedKeysAreRetriedWithBackoff() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    CountDownLatch ok = new CountDownLatch(1);
    try (KeyedWorkQueue q =
        new KeyedWorkQueue(
            "t",
            k -> {
              if (attempts.incrementAndGet() < 3) {
                throw new IllegalStateException("conflict");
              }
              ok.countDown();
              return Result.DONE;
            },
            Duration.ofMillis(10),
            Duration.ofMillis(50))) {
      q.add("k");
      assertThat(ok.await(5, TimeUnit.SECONDS)).isTrue();
      assertThat(attempts.get()).isEqualTo(3);
    }
  }

  private static void await(CountDownLatch l) {
    try {
      l.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
