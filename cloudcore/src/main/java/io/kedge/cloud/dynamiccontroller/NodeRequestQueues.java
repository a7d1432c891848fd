package io.kedge.cloud.dynamiccontroller;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounded, fair execution of edge requests: each node has a queue of at most {@code maxQueued}
 * waiting requests and at most {@code maxInFlight} running ones; at most {@code maxTotal} run at
 * once overall, taken from the nodes in turn so that one busy node cannot starve the others. A full
 * queue refuses at once (the caller answers 429) instead of stalling the sender. Tasks are started
 * on {@code executor}, except that {@link #offerHere} starts one that need not wait on the caller's
 * thread.
 */
final class NodeRequestQueues {
  private static final Logger LOG = LoggerFactory.getLogger(NodeRequestQueues.class);

  private static final class NodeQueue {
    final String node;
    final ArrayDeque<Supplier<CompletableFuture<?>>> waiting = new ArrayDeque<>();
    int inFlight;
    boolean ready; // in the ready ring

    NodeQueue(String node) {
      this.node = node;
    }
  }

  private final Executor executor;
  private final int maxInFlight;
  private final int maxQueued;
  private final int maxTotal;
  private final Map<String, NodeQueue> queues = new HashMap<>();
  private final ArrayDeque<NodeQueue> ready = new ArrayDeque<>();
  private int total;

  NodeRequestQueues(Executor executor, int maxInFlight, int maxQueued, int maxTotal) {
    this.executor = executor;
    this.maxInFlight = maxInFlight;
    this.maxQueued = maxQueued;
    this.maxTotal = maxTotal;
  }

  /**
   * Queues a task of {@code node}; returns false when the node's queue is full. The task returns
   * the future of its work; its slot is freed when that completes.
   */
  boolean offer(String node, Supplier<CompletableFuture<?>> task) {
    synchronized (this) {
      NodeQueue q = queues.computeIfAbsent(node, NodeQueue::new);
      if (q.waiting.size() >= maxQueued + Math.max(0, maxInFlight - q.inFlight)) {
        return false;
      }
      q.waiting.add(task);
      markReady(q);
    }
    pump();
    return true;
  }

  /**
   * Like {@link #offer}, but a task that may start at once (no task of any node waiting, room for
   * it) runs on the caller's thread; for tasks that only start asynchronous work.
   */
  boolean offerHere(String node, Supplier<CompletableFuture<?>> task) {
    NodeQueue q;
    synchronized (this) {
      q = queues.computeIfAbsent(node, NodeQueue::new);
      if (!ready.isEmpty()
          || !q.waiting.isEmpty()
          || q.inFlight >= maxInFlight
          || total >= maxTotal) {
        q = null;
      } else {
        q.inFlight++;
        total++;
      }
    }
    if (q == null) {
      return offer(node, task);
    }
    run(q, task);
    return true;
  }

  /** Drops the waiting (not yet started) tasks of a node; returns how many. */
  synchronized int drop(String node) {
    NodeQueue q = queues.get(node);
    if (q == null) {
      return 0;
    }
    int n = q.waiting.size();
    q.waiting.clear();
    if (q.inFlight == 0) {
      queues.remove(node);
    }
    return n;
  }

  synchronized int waiting(String node) {
    NodeQueue q = queues.get(node);
    return q == null ? 0 : q.waiting.size();
  }

  synchronized int running() {
    return total;
  }

  private void markReady(NodeQueue q) {
    if (!q.ready && !q.waiting.isEmpty() && q.inFlight < maxInFlight) {
      q.ready = true;
      ready.add(q);
    }
  }

  private void pump() {
    while (true) {
      NodeQueue q;
      Supplier<CompletableFuture<?>> task;
      synchronized (this) {
        if (total >= maxTotal || ready.isEmpty()) {
          return;
        }
        q = ready.poll();
        q.ready = false;
        task = q.waiting.poll();
        if (task == null) {
          continue;
        }
        q.inFlight++;
        total++;
        markReady(q); // back to the end of the ring if it has more
      }
      NodeQueue nq = q;
      Supplier<CompletableFuture<?>> t = task;
      executor.execute(() -> run(nq, t));
    }
  }

  private void run(NodeQueue q, Supplier<CompletableFuture<?>> task) {
    CompletableFuture<?> f;
    try {
      f = task.get();
    } catch (RuntimeException e) {
      LOG.error("request of node {} failed to start", q.node, e);
      f = CompletableFuture.completedFuture(null);
    }
    f.whenComplete((v, t) -> finished(q));
  }

  private void finished(NodeQueue q) {
    synchronized (this) {
      q.inFlight--;
      total--;
      if (q.inFlight == 0 && q.waiting.isEmpty()) {
        queues.remove(q.node, q);
      } else {
        markReady(q);
      }
    }
    pump();
  }
}
