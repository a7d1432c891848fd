package io.kedge.cloud.dynamiccontroller;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.ThreadExecutorMap;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Deadlines on futures that cost no other thread's wake-up where they can. */
final class Deadlines {
  private Deadlines() {}

  /**
   * Fails {@code f} with a {@link TimeoutException} unless it completes within {@code limit}, as
   * {@link CompletableFuture#orTimeout} does. Called on a Netty event loop, the deadline is kept by
   * that loop: set, and (when {@code f} completes there in time) cancelled, without waking the
   * JDK's timer thread, which {@code orTimeout} does for every future.
   *
   * @return {@code f}
   */
  static <T> CompletableFuture<T> within(CompletableFuture<T> f, Duration limit) {
    EventExecutor here = ThreadExecutorMap.currentExecutor();
    if (here != null) {
      try {
        ScheduledFuture<?> deadline =
            here.schedule(
                () -> f.completeExceptionally(new TimeoutException()),
                limit.toMillis(),
                TimeUnit.MILLISECONDS);
        f.whenComplete((v, t) -> deadline.cancel(false));
        return f;
      } catch (RejectedExecutionException stopping) {
        // the loop is shutting down: the JDK's timer instead
      }
    }
    return f.orTimeout(limit.toMillis(), TimeUnit.MILLISECONDS);
  }
}
