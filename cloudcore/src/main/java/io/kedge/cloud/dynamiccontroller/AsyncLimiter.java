package io.kedge.cloud.dynamiccontroller;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * At most {@code limit} asynchronous operations at a time; later ones start when earlier ones
 * finish, without blocking anyone. Keeps the HTTP/2 connection to the apiserver under its
 * concurrent-stream limit (the JDK client fails requests beyond it instead of waiting).
 *
 * <p>Optionally only one operation runs until one has succeeded: HTTP clients open a connection per
 * request while none is established yet, so a burst on a cold client would otherwise cost a TLS
 * handshake per request (hundreds at once), enough to time out connections on a busy host.
 */
final class AsyncLimiter {
  private final int limit;
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  private int running;
  private boolean warm;

  AsyncLimiter(int limit) {
    this(limit, false);
  }

  /**
   * @param oneUntilFirstSuccess run a single operation until one has completed normally
   */
  AsyncLimiter(int limit, boolean oneUntilFirstSuccess) {
    this.limit = limit;
    this.warm = !oneUntilFirstSuccess;
  }

  private int current() {
    return warm ? limit : 1;
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
                release(t == null);
                if (t != null) {
                  result.completeExceptionally(t);
                } else {
                  result.complete(v);
                }
              });
        };
    boolean now;
    synchronized (this) {
      now = running < current();
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

  private void release(boolean succeeded) {
    List<Runnable> next = new ArrayList<>();
    synchronized (this) {
      running--;
      if (succeeded) {
        warm = true;
      }
      while (running < current() && !waiting.isEmpty()) {
        running++;
        next.add(waiting.poll());
      }
    }
    next.forEach(Runnable::run);
  }

  synchronized int running() {
    return running;
  }

  synchronized int waiting() {
    return waiting.size();
  }
}
