package io.kedge.cloud.hub;

import io.kedge.cloud.CloudMetrics;
import io.kedge.cloud.hub.DeliveryException.Reason;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.Operations;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Reliable delivery to one node: ACK-required messages keyed by object (UID), at most {@code
 * window} unacknowledged at a time, each resent with the same {@code msg_id} until the edge
 * answers. A newer version of an object replaces a queued older one; while one is in flight the
 * newer waits (so that the edge never sees versions out of order) and is sent on the ACK, or
 * instead of the next resend. Bounded: beyond {@code limit} objects further ones are refused, never
 * dropped silently. Confined to the session's event loop.
 *
 * <p>Messages offered with {@code each} (watch events for an edge that keeps an event log of them)
 * are never replaced: they wait behind the version in flight, in the order offered, each sent once
 * the one before it is acknowledged. They are keyed apart from the others, so that a version sent
 * for another purpose (EdgeController's copy of the same object) does not replace them either.
 * Every waiting version counts against {@code limit}.
 */
final class DeliveryQueue {
  private static final Logger LOG = LoggerFactory.getLogger(DeliveryQueue.class);

  /** Where messages go. */
  interface Sink {
    boolean writable();

    void write(Message m);
  }

  private enum State {
    READY,
    IN_FLIGHT,
    BACKOFF
  }

  private record Waiting(Message msg, CompletableFuture<Void> future) {}

  private static final class Entry {
    final String key;
    final boolean each;
    Message msg;
    CompletableFuture<Void> future = new CompletableFuture<>();
    Message next;
    CompletableFuture<Void> nextFuture;

    /** Versions waiting behind {@code msg} in an {@code each} entry, oldest first. */
    final ArrayDeque<Waiting> waiting = new ArrayDeque<>();

    State state = State.READY;
    int sends;
    int rounds;
    long sentNanos;
    ScheduledFuture<?> timer;

    Entry(String key, Message msg, boolean each) {
      this.key = key;
      this.msg = msg;
      this.each = each;
    }

    /** The newest version offered for this entry. */
    Message latest() {
      if (!waiting.isEmpty()) {
        return waiting.peekLast().msg();
      }
      return next != null ? next : msg;
    }
  }

  private final String node;
  private final EventExecutor loop;
  private final Sink sink;
  private final AckRetryPolicy retry;
  private final int window;
  private final int limit;
  private final AckListener acks;
  private final CloudMetrics metrics;
  private final Map<String, Entry> byKey = new HashMap<>();
  private final Map<String, Entry> byMsgId = new HashMap<>();
  private final ArrayDeque<Entry> ready = new ArrayDeque<>();
  private int inFlight;
  private int waitingCount;
  private long refused;
  private DeliveryException closed;

  DeliveryQueue(
      String node,
      EventExecutor loop,
      Sink sink,
      AckRetryPolicy retry,
      int window,
      int limit,
      AckListener acks) {
    this(node, loop, sink, retry, window, limit, acks, CloudMetrics.detached());
  }

  DeliveryQueue(
      String node,
      EventExecutor loop,
      Sink sink,
      AckRetryPolicy retry,
      int window,
      int limit,
      AckListener acks,
      CloudMetrics metrics) {
    this.metrics = metrics;
    this.node = node;
    this.loop = loop;
    this.sink = sink;
    this.retry = retry;
    this.window = Math.max(1, window);
    this.limit = Math.max(1, limit);
    this.acks = acks;
  }

  /**
   * The identity under which versions of one object replace each other: its UID. A reply to an edge
   * request is its own entry: the edge waits for exactly that message.
   */
  static String keyOf(Message m) {
    if (m.header().hasParent()) {
      return "reply|" + m.id();
    }
    JsonNode uid = m.content().path("metadata").path("uid");
    if (uid.isString() && !uid.asString().isEmpty()) {
      return uid.asString();
    }
    return m.source() + "|" + m.resource();
  }

  /** How an offered version relates to the other versions of its object. */
  enum Mode {
    /** A newer version replaces a queued older one. */
    LATEST,
    /** As {@code LATEST}, and nothing is sent when the edge holds this version already. */
    RESEND,
    /** Every version reaches the edge, in order. */
    EACH
  }

  CompletableFuture<Void> offer(Message m) {
    return offer(m, Mode.LATEST);
  }

  /**
   * Queues {@code m} as {@code mode} says: {@link Mode#LATEST} replaces a queued older version of
   * its object; {@link Mode#RESEND} does the same but sends nothing when the edge has acknowledged
   * this version of the object or a newer one (for resends decided before the latest ACKs arrived);
   * {@link Mode#EACH} never replaces another version (see the class comment), and an older version
   * than one already queued is refused as superseded: the edge gets the newer one after every
   * version queued before it.
   */
  CompletableFuture<Void> offer(Message m, Mode mode) {
    boolean each = mode == Mode.EACH;
    assert loop.inEventLoop();
    if (closed != null) {
      return CompletableFuture.failedFuture(closed);
    }
    String key = each ? "each|" + keyOf(m) : keyOf(m);
    Entry e = byKey.get(key);
    if (e == null && mode == Mode.RESEND && acks.holds(node, m)) {
      LOG.debug("cloudhub: node {} acknowledged {} meanwhile; not sent again", node, m);
      return CompletableFuture.completedFuture(null);
    }
    if (e == null || each) {
      if (byKey.size() + waitingCount >= limit && !(e != null && compare(m, e.latest()) <= 0)) {
        metrics.deliveryRefused();
        if (refused++ % 1000 == 0) {
          LOG.warn(
              "cloudhub: node {}: delivery queue full ({} objects); refused {} (refusals so far: {});"
                  + " the sync controller delivers it later",
              node,
              limit,
              m,
              refused);
        }
        return CompletableFuture.failedFuture(
            new DeliveryException(
                Reason.QUEUE_FULL, "delivery queue of node " + node + " is full"));
      }
      if (e == null) {
        e = new Entry(key, m, each);
        byKey.put(key, e);
        ready.addLast(e);
        pump();
        return e.future;
      }
    }
    Message latest = e.latest();
    int cmp = compare(m, latest);
    if (cmp < 0) {
      return CompletableFuture.failedFuture(
          new DeliveryException(Reason.SUPERSEDED, "a newer version is already queued: " + latest));
    }
    if (cmp == 0) {
      if (!e.waiting.isEmpty()) {
        return e.waiting.peekLast().future();
      }
      return e.next != null ? e.nextFuture : e.future; // the same version is on its way
    }
    if (e.each) {
      Waiting w = new Waiting(m, new CompletableFuture<>());
      e.waiting.addLast(w);
      waitingCount++;
      return w.future();
    }
    if (e.state == State.IN_FLIGHT) {
      if (e.next != null) {
        e.nextFuture.completeExceptionally(superseded(m));
      }
      e.next = m;
      e.nextFuture = new CompletableFuture<>();
      return e.nextFuture;
    }
    // READY or BACKOFF: replace in place
    e.future.completeExceptionally(superseded(m));
    byMsgId.remove(e.msg.id());
    e.msg = m;
    e.future = new CompletableFuture<>();
    e.sends = 0;
    e.rounds = 0;
    if (e.state == State.BACKOFF) {
      cancelTimer(e);
      e.state = State.READY;
      ready.addLast(e);
      pump();
    }
    return e.future;
  }

  /** Completes the delivery {@code msgId} answers; false when it is not one of ours. */
  boolean ack(String msgId) {
    Entry e = byMsgId.remove(msgId);
    if (e == null || closed != null) {
      return false;
    }
    cancelTimer(e);
    if (e.state == State.IN_FLIGHT) {
      inFlight--;
    }
    metrics.acknowledged(e.sentNanos);
    Message delivered = e.msg;
    // The listener first: whoever waits for the delivery finds the ACK already recorded.
    try {
      acks.acknowledged(node, delivered);
    } catch (RuntimeException ex) {
      LOG.warn("cloudhub: node {}: ACK listener failed for {}: {}", node, delivered, ex.toString());
    }
    e.future.complete(null);
    if (!e.waiting.isEmpty()) {
      Waiting w = e.waiting.pollFirst();
      waitingCount--;
      e.msg = w.msg();
      e.future = w.future();
      e.sends = 0;
      e.rounds = 0;
      e.state = State.READY;
      ready.addFirst(e);
    } else if (e.next != null) {
      e.msg = e.next;
      e.future = e.nextFuture;
      e.next = null;
      e.nextFuture = null;
      e.sends = 0;
      e.rounds = 0;
      e.state = State.READY;
      ready.addFirst(e);
    } else {
      byKey.remove(e.key);
    }
    pump();
    return true;
  }

  /** Sends what the window and the connection allow. */
  void pump() {
    while (closed == null && inFlight < window && !ready.isEmpty() && sink.writable()) {
      Entry e = ready.pollFirst();
      e.state = State.IN_FLIGHT;
      inFlight++;
      send(e);
    }
  }

  private void send(Entry e) {
    e.sends++;
    e.sentNanos = System.nanoTime();
    byMsgId.put(e.msg.id(), e);
    sink.write(e.msg);
    e.timer =
        loop.schedule(() -> timedOut(e), retry.ackTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  private void timedOut(Entry e) {
    if (closed != null || e.state != State.IN_FLIGHT || byKey.get(e.key) != e) {
      return;
    }
    if (e.next != null) {
      byMsgId.remove(e.msg.id());
      e.future.completeExceptionally(superseded(e.next));
      e.msg = e.next;
      e.future = e.nextFuture;
      e.next = null;
      e.nextFuture = null;
      e.sends = 0;
      send(e);
      return;
    }
    if (!sink.writable()) {
      // The edge is not reading; resending would only grow the buffer.
      e.timer =
          loop.schedule(() -> timedOut(e), retry.ackTimeout().toMillis(), TimeUnit.MILLISECONDS);
      return;
    }
    if (e.sends < retry.maxSends()) {
      send(e);
      return;
    }
    e.state = State.BACKOFF;
    inFlight--;
    e.rounds++;
    long wait = retry.backoff(e.rounds).toMillis();
    LOG.info(
        "cloudhub: node {}: no ACK for {} after {} sends; next round in {} ms",
        node,
        e.msg,
        e.sends,
        wait);
    e.timer =
        loop.schedule(
            () -> {
              if (closed == null && e.state == State.BACKOFF && byKey.get(e.key) == e) {
                e.state = State.READY;
                e.sends = 0;
                ready.addLast(e);
                pump();
              }
            },
            wait,
            TimeUnit.MILLISECONDS);
    pump();
  }

  /** Fails everything still queued: the session is over. */
  void close(String why) {
    if (closed != null) {
      return;
    }
    closed =
        new DeliveryException(Reason.SESSION_CLOSED, "session of node " + node + " ended: " + why);
    for (Entry e : byKey.values()) {
      cancelTimer(e);
      e.future.completeExceptionally(closed);
      if (e.nextFuture != null) {
        e.nextFuture.completeExceptionally(closed);
      }
      for (Waiting w : e.waiting) {
        w.future().completeExceptionally(closed);
      }
      e.waiting.clear();
    }
    waitingCount = 0;
    byKey.clear();
    byMsgId.clear();
    ready.clear();
    inFlight = 0;
  }

  int size() {
    return byKey.size();
  }

  /** Versions waiting behind another of their object in {@code each} entries. */
  int waiting() {
    return waitingCount;
  }

  int inFlight() {
    return inFlight;
  }

  private static void cancelTimer(Entry e) {
    if (e.timer != null) {
      e.timer.cancel(false);
      e.timer = null;
    }
  }

  private static DeliveryException superseded(Message by) {
    return new DeliveryException(Reason.SUPERSEDED, "superseded by " + by);
  }

  /**
   * Orders two versions of one object: a delete is the last word; otherwise numeric
   * resourceVersions compare as numbers (etcd's are), anything else counts as newer unless equal.
   */
  static int compare(Message a, Message b) {
    boolean delA = Operations.DELETE.equals(a.operation());
    boolean delB = Operations.DELETE.equals(b.operation());
    if (delA != delB) {
      return delA ? 1 : -1;
    }
    String ra = a.header().resourceVersion();
    String rb = b.header().resourceVersion();
    if (ra.equals(rb)) {
      return 0;
    }
    try {
      return Long.compare(Long.parseLong(ra), Long.parseLong(rb));
    } catch (NumberFormatException ex) {
      return 1;
    }
  }
}
