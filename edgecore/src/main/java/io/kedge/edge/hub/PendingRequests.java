package io.kedge.edge.hub;

import io.kedge.protocol.message.Message;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Requests waiting for the cloud's reply, keyed by request {@code msg_id}; a reply names it in
 * {@code parent_msg_id}. Callers' futures complete on {@code callbacks} (or an executor the caller
 * names), never on the I/O thread, so what a caller chains onto a reply cannot stall the
 * connection.
 */
final class PendingRequests {
  private record Entry(
      CompletableFuture<Message> future, ScheduledFuture<?> timeout, Executor replies) {}

  private final Map<String, Entry> waiting = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer;
  private final Executor callbacks;

  PendingRequests(ScheduledExecutorService timer, Executor callbacks) {
    this.timer = timer;
    this.callbacks = callbacks;
  }

  /**
   * A future for the reply to {@code request}, failed after {@code timeout}; it completes on {@code
   * replies} ({@code callbacks} when null).
   */
  CompletableFuture<Message> register(Message request, Duration timeout, Executor replies) {
    String id = request.id();
    CompletableFuture<Message> f = new CompletableFuture<>();
    if (id.isEmpty()) {
      f.completeExceptionally(new IllegalArgumentException("a request needs a msg_id"));
      return f;
    }
    // On an event loop the deadline is kept by that loop: set and cancelled there without waking
    // another thread, and gone from its queue once cancelled.
    ScheduledExecutorService clock =
        replies instanceof EventLoop loop && loop.inEventLoop() ? loop : timer;
    ScheduledFuture<?> t =
        clock.schedule(
            () ->
                fail(
                    id,
                    new TimeoutException(
                        "no reply from the cloud within "
                            + timeout.toMillis()
                            + " ms to "
                            + request)),
            Math.max(1, timeout.toMillis()),
            TimeUnit.MILLISECONDS);
    if (waiting.putIfAbsent(id, new Entry(f, t, replies == null ? callbacks : replies)) != null) {
      t.cancel(false);
      f.completeExceptionally(new IllegalArgumentException("duplicate request id " + id));
    }
    return f;
  }

  /** Completes the request {@code reply} answers; false when none waits (e.g. it timed out). */
  boolean complete(Message reply) {
    Entry e = waiting.remove(reply.parentId());
    if (e == null) {
      return false;
    }
    e.timeout().cancel(false);
    handOver(e, () -> e.future().complete(reply));
    return true;
  }

  void fail(String id, Throwable cause) {
    Entry e = waiting.remove(id);
    if (e != null) {
      e.timeout().cancel(false);
      handOver(e, () -> e.future().completeExceptionally(cause));
    }
  }

  /**
   * Runs {@code completion} on the entry's executor, or on {@code callbacks} once that one ended.
   */
  private void handOver(Entry e, Runnable completion) {
    try {
      e.replies().execute(completion);
    } catch (RejectedExecutionException gone) {
      callbacks.execute(completion);
    }
  }

  void failAll(Throwable cause) {
    for (String id : waiting.keySet()) {
      fail(id, cause);
    }
  }

  int size() {
    return waiting.size();
  }
}
