package io.kedge.cloud.dynamiccontroller;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * At most {@code limit} asynchronous operations at a time; later ones start when earlier ones
 * finish, without blocking anyone. Keeps the HTTP/2 connection to the apiserver under its
 * concurrent-stream limit (the JDK client fails requests beyond it instead of waiting).
 */
final class AsyncLimiter {
  private final int limit;
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  private int running;

  AsyncLimiter(int limit) {
    this.limit = limit;
  }

  <T> CompletableFuture<T> submit(Supplier<CompletableFuture<T>> op) {
    CompletableFuture<T> result = new CompletableFuture<>();
    Runnable start =
        () -> {
          CompletableFuture<T> f;
          try {
            f = op.get();
          } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
          }
          f.whenComplete(
              (v, t) -> {
                release();
                if (t != null) {
                  result.completeExceptionally(t);
                } else {
                  result.complete(v);
                }
              });
        };
    boolean now;
    synchronized (this) {
      now = running < limit;
      if (now) {
        running++;
      } else {
        waiting.add(start);
      }
    }
    if (now) {
      start.run();
    }
    return result;
  }

  private void release() {
    Runnable next;
    synchronized (this) {
      next = waiting.poll();
      if (next == null) {
        running--;
      }
    }
    if (next != null) {
      next.run();
    }
  }

  synchronized int running() {
    return running;
  }

  synchronized int waiting() {
    return waiting.size();
  }
}
