package io.kedge.cloud.kube;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A controller work queue: keys added while one is pending are merged, each key is processed by one
 * thread at a time, and a failed key is retried with exponential back-off. Processing happens on
 * one worker thread, so handlers see a consistent order and need no locking of their own.
 */
public final class KeyedWorkQueue implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KeyedWorkQueue.class);

  /** What processing a key decided. */
  public enum Result {
    DONE,
    RETRY
  }

  private final String name;
  private final java.util.function.Function<String, Result> handler;
  private final ScheduledExecutorService worker;
  private final Set<String> pending = new LinkedHashSet<>();
  private final java.util.Map<String, Integer> failures = new java.util.HashMap<>();
  private final Duration minBackoff;
  private final Duration maxBackoff;
  private boolean scheduled;
  private volatile boolean closed;

  public KeyedWorkQueue(
      String name,
      java.util.function.Function<String, Result> handler,
      Duration minBackoff,
      Duration maxBackoff) {
    this.name = name;
    this.handler = handler;
    this.minBackoff = minBackoff;
    this.maxBackoff = maxBackoff;
    this.worker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, name);
              t.setDaemon(true);
              return t;
            });
  }

  public KeyedWorkQueue(String name, java.util.function.Function<String, Result> handler) {
    this(name, handler, Duration.ofMillis(200), Duration.ofSeconds(30));
  }

  /** Queues {@code key} (merged with a pending one). */
  public void add(String key) {
    if (closed) {
      return;
    }
    synchronized (pending) {
      pending.add(key);
      if (scheduled) {
        return;
      }
      scheduled = true;
    }
    worker.execute(this::drain);
  }

  /** Runs {@code task} on the worker thread, after what is queued now. */
  public void execute(Runnable task) {
    if (!closed) {
      worker.execute(task);
    }
  }

  public void addAll(Iterable<String> keys) {
    for (String k : keys) {
      add(k);
    }
  }

  private void drain() {
    while (!closed) {
      String key;
      synchronized (pending) {
        var it = pending.iterator();
        if (!it.hasNext()) {
          scheduled = false;
          return;
        }
        key = it.next();
        it.remove();
      }
      Result r;
      try {
        r = handler.apply(key);
      } catch (RuntimeException e) {
        LOG.warn("{}: {} failed: {}", name, key, e.toString());
        r = Result.RETRY;
      }
      if (r == Result.RETRY) {
        int n = failures.merge(key, 1, Integer::sum);
        long delay = Math.min(maxBackoff.toMillis(), minBackoff.toMillis() << Math.min(n - 1, 20));
        worker.schedule(() -> add(key), delay, TimeUnit.MILLISECONDS);
      } else {
        failures.remove(key);
      }
    }
  }

  /** Consumer-style convenience for handlers that never ask for a retry. */
  public static java.util.function.Function<String, Result> always(Consumer<String> c) {
    return k -> {
      c.accept(k);
      return Result.DONE;
    };
  }

  @Override
  public void close() {
    closed = true;
    worker.shutdownNow();
    try {
      worker.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
