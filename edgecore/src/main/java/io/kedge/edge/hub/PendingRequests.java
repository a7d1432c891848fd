package io.kedge.edge.hub;

import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.Sources;
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
      CompletableFuture<Message> future,
      ScheduledFuture<?> timeout,
      Executor replies,
      boolean acknowledged) {}

  /**
   * Whether KubeEdge's edge acknowledges the answer to {@code request}: its MetaManager does so for
   * the queries, inserts and updates it forwards for edged (node, lease, ConfigMaps, Secrets,
   * tokens, CSRs), not for patches, MetaServer's Applications or its own {@code k8s/ca.crt}.
   */
  static boolean acknowledgesReply(Message request) {
    return Sources.EDGED.equals(request.source())
        && Sources.GROUP_META.equals(request.group())
        && (Operations.QUERY.equals(request.operation())
            || Operations.INSERT.equals(request.operation())
            || Operations.UPDATE.equals(request.operation()));
  }

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
    Entry entry =
        new Entry(f, t, replies == null ? callbacks : replies, acknowledgesReply(request));
    if (waiting.putIfAbsent(id, entry) != null) {
      t.cancel(false);
      f.completeExceptionally(new IllegalArgumentException("duplicate request id " + id));
    }
    return f;
  }

  /** What completing a reply found. */
  enum Completion {
    /** No request waits for it (it timed out, or was answered already). */
    NONE,
    WAITED,
    /** A request waited whose answer KubeEdge's edge acknowledges. */
    WAITED_ACKNOWLEDGED
  }

  /** Completes the request {@code reply} answers. */
  Completion complete(Message reply) {
    Entry e = waiting.remove(reply.parentId());
    if (e == null) {
      return Completion.NONE;
    }
    e.timeout().cancel(false);
    handOver(e, () -> e.future().complete(reply));
    return e.acknowledged() ? Completion.WAITED_ACKNOWLEDGED : Completion.WAITED;
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
