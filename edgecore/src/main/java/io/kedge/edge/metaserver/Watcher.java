package io.kedge.edge.metaserver;

import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectPage;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.Scope;
import io.kedge.edge.store.StoreEvent;
import io.kedge.edge.store.StoredObject;
import io.kedge.protocol.Json;
import io.kedge.protocol.selector.FieldSelector;
import io.kedge.protocol.selector.LabelSelector;
import io.kedge.protocol.status.KubeStatus;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One client's watch, served from the store as the apiserver serves watches: first the current
 * objects as ADDED (resourceVersion 0 or unset) or the logged events after the client's
 * resourceVersion, then live events; objects entering or leaving the selectors become ADDED or
 * DELETED; bookmarks when asked for; ends at {@code timeoutSeconds}. Live events wait in a bounded
 * queue: a client that falls further behind is ended with an ERROR event (410 Expired) so that it
 * re-lists, and nothing else waits for it. Everything but {@link #offer} runs on the channel's
 * event loop; output is written only while the channel is writable.
 */
final class Watcher {
  private static final Logger LOG = LoggerFactory.getLogger(Watcher.class);
  private static final int PAGE = 200;

  enum Start {
    /** current objects as ADDED, then live */
    SNAPSHOT,
    /** logged events after a sequence number, then live */
    REPLAY,
    /** only what happens from now on */
    LIVE
  }

  record Spec(
      Scope scope,
      LabelSelector labels,
      FieldSelector fields,
      Negotiation.Choice choice,
      String includeObject,
      boolean bookmarks,
      String kind,
      String apiVersion,
      Duration timeout,
      Start start,
      long replayAfter,
      long clientVersion) {}

  private enum Phase {
    SNAPSHOT,
    REPLAY,
    LIVE,
    ENDED
  }

  private final Spec spec;
  private final WatchSink sink;
  private final ObjectStore store;
  private final WatchHub hub;
  private final int queueLimit;
  private final Duration bookmarkInterval;
  private final Runnable onEnd;
  private final boolean everything;

  private final ArrayDeque<StoreEvent> queue = new ArrayDeque<>(); // guarded by itself
  private boolean overflow; // guarded by queue
  private long offeredHighwater; // guarded by queue
  private final AtomicBoolean pumpScheduled = new AtomicBoolean();

  // event loop only
  private Phase phase;
  private long deliveredAfter;
  private List<StoredObject> snapshot; // the objects a SNAPSHOT start sends, read at once
  private int snapshotNext;
  private long progress;
  private long lastBookmark;
  private boolean tableHeaderSent;
  private ScheduledFuture<?> timeout;
  private ScheduledFuture<?> bookmarks;

  Watcher(
      Spec spec,
      WatchSink sink,
      ObjectStore store,
      WatchHub hub,
      int queueLimit,
      Duration bookmarkInterval,
      Runnable onEnd) {
    this.spec = spec;
    this.sink = sink;
    this.store = store;
    this.hub = hub;
    this.queueLimit = queueLimit;
    this.bookmarkInterval = bookmarkInterval;
    this.onEnd = onEnd;
    this.everything = spec.labels().isEverything() && spec.fields().isEverything();
    this.progress = spec.clientVersion();
  }

  Gvr gvr() {
    return spec.scope().gvr();
  }

  Scope scope() {
    return spec.scope();
  }

  /**
   * Ends the watch with an ERROR event carrying {@code status} (any thread): its scope is no longer
   * kept current, and the client is to list again.
   */
  void expire(ObjectNode status) {
    sink.channel()
        .eventLoop()
        .execute(
            () -> {
              if (phase != Phase.ENDED) {
                LOG.info(
                    "metaserver: watch of {} ended: {}",
                    spec.scope(),
                    status.path("message").asString(""));
                end(status);
              }
            });
  }

  /** Registers for live events, sends the head and starts sending. Event loop only. */
  void start() {
    hub.add(this); // before reading the store: nothing committed after the read is missed
    switch (spec.start()) {
      case SNAPSHOT -> phase = Phase.SNAPSHOT;
      case REPLAY -> {
        phase = Phase.REPLAY;
        deliveredAfter = spec.replayAfter();
      }
      case LIVE -> {
        phase = Phase.LIVE;
        deliveredAfter = store.headSeq();
      }
    }
    sink.begin();
    timeout =
        sink.channel()
            .eventLoop()
            .schedule(() -> end(null), spec.timeout().toMillis(), TimeUnit.MILLISECONDS);
    if (spec.bookmarks() && spec.choice().format() == Negotiation.Format.JSON) {
      long every = Math.max(100, bookmarkInterval.toMillis());
      bookmarks =
          sink.channel()
              .eventLoop()
              .scheduleAtFixedRate(this::bookmark, every, every, TimeUnit.MILLISECONDS);
    }
    pump();
  }

  /** Ends the watch because the client went away. */
  void closed() {
    if (phase != Phase.ENDED) {
      phase = Phase.ENDED;
      cleanup();
    }
  }

  /** New committed events of this type (store writer thread): queue them, never block. */
  void offer(List<StoreEvent> events) {
    boolean schedule = false;
    synchronized (queue) {
      if (overflow) {
        return;
      }
      for (StoreEvent e : events) {
        offeredHighwater = Math.max(offeredHighwater, e.highwater());
        if (e.isSync()
            || spec.scope().allNamespaces()
            || spec.scope().namespace().equals(e.namespace())) {
          queue.add(e);
        }
      }
      if (queue.size() > queueLimit) {
        overflow = true;
        queue.clear();
      }
      schedule = true;
    }
    if (schedule && pumpScheduled.compareAndSet(false, true)) {
      sink.channel().eventLoop().execute(this::pumpFromSchedule);
    }
  }

  private void pumpFromSchedule() {
    pumpScheduled.set(false);
    pump();
  }

  /** Writes what there is to write while the channel takes it (event loop). */
  void pump() {
    if (phase == Phase.ENDED) {
      return;
    }
    try {
      boolean wrote = false;
      while (phase != Phase.ENDED && sink.writable()) {
        if (overflowed()) {
          LOG.info(
              "metaserver: watch of {} fell more than {} events behind; ended with 410",
              spec.scope(),
              queueLimit);
          end(
              KubeStatus.failure(
                  410,
                  "Expired",
                  "the watch fell more than "
                      + queueLimit
                      + " events behind and was ended; list again"));
          return;
        }
        boolean more =
            switch (phase) {
              case SNAPSHOT -> snapshotPage();
              case REPLAY -> replayPage();
              case LIVE -> liveEvent();
              default -> false;
            };
        wrote = true;
        if (!more) {
          break;
        }
      }
      if (wrote && phase != Phase.ENDED) {
        sink.flush();
      }
    } catch (RuntimeException e) {
      LOG.warn("metaserver: watch of {} failed: {}", spec.scope(), e.toString(), e);
      end(KubeStatus.failure(500, "InternalError", "the watch failed: " + e.getMessage()));
    }
  }

  private boolean overflowed() {
    synchronized (queue) {
      return overflow;
    }
  }

  /**
   * Sends the next objects of the snapshot. The snapshot is read whole, in one read of the store,
   * with the log position it is consistent with: read page by page, an object changed between two
   * reads would be sent as of the later one and then again by the log, out of order.
   */
  private boolean snapshotPage() {
    if (snapshot == null) {
      ObjectPage all = store.list(spec.scope(), "", 0);
      snapshot = all.objects();
      deliveredAfter = all.headSeq();
      progress = Math.max(progress, all.state().highwater());
    }
    int end = Math.min(snapshot.size(), snapshotNext + PAGE);
    for (; snapshotNext < end; snapshotNext++) {
      StoredObject o = snapshot.get(snapshotNext);
      if (everything || matches(Json.parse(o.json()))) {
        sink.write(event("ADDED", o.json()));
      }
    }
    if (snapshotNext >= snapshot.size()) {
      snapshot = null;
      phase = Phase.LIVE;
    }
    return true;
  }

  private boolean replayPage() {
    List<StoreEvent> evs = store.events(gvr(), deliveredAfter, PAGE);
    for (StoreEvent e : evs) {
      deliveredAfter = e.seq();
      if (spec.scope().allNamespaces()
          || e.isSync()
          || spec.scope().namespace().equals(e.namespace())) {
        render(e);
      } else {
        progress = Math.max(progress, e.highwater());
      }
    }
    if (evs.size() < PAGE) {
      phase = Phase.LIVE;
    }
    return true;
  }

  private boolean liveEvent() {
    StoreEvent e;
    synchronized (queue) {
      e = queue.poll();
    }
    if (e == null) {
      return false;
    }
    if (e.seq() > deliveredAfter) {
      deliveredAfter = e.seq();
      render(e);
    }
    return true;
  }

  /** Writes what {@code e} means to this watch, if anything. */
  private void render(StoreEvent e) {
    progress = Math.max(progress, e.highwater());
    if (e.isSync() || e.resourceVersion() <= spec.clientVersion()) {
      // A version the client's own starting point holds already (the edge got it after the
      // client, which listed it through the cloud): sending it would take the client back.
      return;
    }
    if (everything) {
      if (e.object() != null) {
        sink.write(event(e.type().name(), e.object()));
      }
      return;
    }
    JsonNode prev = e.previous() == null ? null : Json.parse(e.previous());
    switch (e.type()) {
      case ADDED -> {
        if (e.object() != null && matches(Json.parse(e.object()))) {
          sink.write(event("ADDED", e.object()));
        }
      }
      case MODIFIED -> {
        boolean cur = e.object() != null && matches(Json.parse(e.object()));
        boolean was = prev != null && matches(prev);
        if (cur) {
          sink.write(event(was ? "MODIFIED" : "ADDED", e.object()));
        } else if (was
            && prev instanceof ObjectNode p
            && p.path("metadata") instanceof ObjectNode m) {
          // It left the selection: to this watch it is gone, as of this version.
          m.put("resourceVersion", Long.toString(e.resourceVersion()));
          sink.write(event("DELETED", Json.bytes(p)));
        }
      }
      case DELETED -> {
        JsonNode basis = prev != null ? prev : e.object() == null ? null : Json.parse(e.object());
        if (basis != null && matches(basis) && e.object() != null) {
          sink.write(event("DELETED", e.object()));
        }
      }
      default -> {}
    }
  }

  private boolean matches(JsonNode o) {
    return spec.labels().matches(o) && spec.fields().matches(o);
  }

  private byte[] event(String type, byte[] object) {
    if (spec.choice().format() == Negotiation.Format.TABLE) {
      boolean header = !tableHeaderSent;
      tableHeaderSent = true;
      ObjectNode t =
          Encoding.table(
              List.of(object),
              spec.choice().tableVersion(),
              "",
              "",
              -1,
              spec.includeObject(),
              header);
      return Encoding.event(type, Json.bytes(t));
    }
    return Encoding.event(type, object);
  }

  private void bookmark() {
    if (phase != Phase.LIVE || !sink.writable()) {
      return;
    }
    long rv;
    synchronized (queue) {
      if (!queue.isEmpty() || overflow) {
        return;
      }
      rv = Math.max(progress, offeredHighwater);
    }
    if (rv <= lastBookmark || rv <= 0) {
      return;
    }
    lastBookmark = rv;
    ObjectNode o = Json.object();
    o.put("kind", spec.kind());
    o.put("apiVersion", spec.apiVersion());
    ObjectNode meta = o.putObject("metadata");
    meta.put("resourceVersion", Long.toString(rv));
    meta.putNull("creationTimestamp");
    sink.write(Encoding.event("BOOKMARK", Json.bytes(o)));
    sink.flush();
  }

  /** Ends the stream, after an ERROR event carrying {@code status} when it is not null. */
  void end(ObjectNode status) {
    if (phase == Phase.ENDED) {
      return;
    }
    phase = Phase.ENDED;
    cleanup();
    if (!sink.channel().isActive()) {
      onEnd.run();
      return;
    }
    if (status != null) {
      sink.write(Encoding.event("ERROR", Json.bytes(status)));
    }
    sink.end(onEnd);
  }

  private void cleanup() {
    hub.remove(this);
    snapshot = null;
    if (timeout != null) {
      timeout.cancel(false);
    }
    if (bookmarks != null) {
      bookmarks.cancel(false);
    }
    synchronized (queue) {
      queue.clear();
    }
  }
}
