package io.kedge.edge.metaserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectChange;
import io.kedge.edge.store.Scope;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import io.kedge.protocol.Json;
import io.kedge.protocol.selector.FieldSelector;
import io.kedge.protocol.selector.LabelSelector;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** Watch delivery: one slow watcher is ended with an ERROR event and holds nobody else up. */
class WatcherTest {
  static final Gvr CM = Gvr.core("configmaps");

  @TempDir Path dir;
  SqliteStore store;
  WatchHub hub;

  @BeforeEach
  void open() {
    store = SqliteStore.open(StoreSettings.defaults(dir.resolve("edge.db")).withFsync(false));
    hub = new WatchHub();
    store.addListener(hub);
  }

  @AfterEach
  void close() {
    store.close();
  }

  static final class RecordingSink implements WatchSink {
    final EmbeddedChannel ch = new EmbeddedChannel();
    final List<JsonNode> events = new CopyOnWriteArrayList<>();
    volatile boolean writable = true;
    volatile boolean ended;

    /** The client stops reading once it has this many events (0: never). */
    volatile int stopReadingAt;

    @Override
    public Channel channel() {
      return ch;
    }

    @Override
    public void begin() {}

    @Override
    public void write(byte[] event) {
      events.add(Json.parse(event));
      if (events.size() == stopReadingAt) {
        writable = false;
      }
    }

    @Override
    public void flush() {}

    @Override
    public void end(Runnable after) {
      ended = true;
      after.run();
    }

    @Override
    public boolean writable() {
      return writable;
    }
  }

  Watcher watcher(RecordingSink sink, int queue) {
    return watcher(sink, queue, Watcher.Start.LIVE, 0, 0);
  }

  Watcher watcher(
      RecordingSink sink, int queue, Watcher.Start start, long replayAfter, long clientVersion) {
    Watcher.Spec spec =
        new Watcher.Spec(
            new Scope(CM, "a"),
            LabelSelector.everything(),
            FieldSelector.everything(),
            Negotiation.choose(""),
            "",
            false,
            "ConfigMap",
            "v1",
            Duration.ofMinutes(5),
            start,
            replayAfter,
            clientVersion);
    return new Watcher(spec, sink, store, hub, queue, Duration.ofMinutes(1), () -> {});
  }

  void change(int i) throws Exception {
    put("c" + (i % 3), i);
  }

  void put(String name, long rv) throws Exception {
    store
        .apply(
            ObjectChange.upsert(
                CM,
                "ConfigMap",
                Json.parse(
                    "{\"metadata\":{\"name\":\""
                        + name
                        + "\",\"namespace\":\"a\",\"resourceVersion\":\""
                        + rv
                        + "\"}}")))
        .get();
  }

  static String describe(JsonNode e) {
    JsonNode m = e.path("object").path("metadata");
    return e.path("type").asString()
        + " "
        + m.path("name").asString()
        + "@"
        + m.path("resourceVersion").asString();
  }

  @Test
  void aSnapshotIsOneConsistentReadNoObjectRepeatedNoVersionOutOfOrder() throws Exception {
    for (int i = 0; i < 450; i++) {
      put(String.format("c%03d", i), 1 + i);
    }
    RecordingSink sink = new RecordingSink();
    sink.stopReadingAt = 200; // one page out, then the client is slow for a moment
    Watcher w = watcher(sink, 1000, Watcher.Start.SNAPSHOT, 0, 0);
    sink.ch.eventLoop().execute(w::start);
    sink.ch.runPendingTasks();
    assertThat(sink.events).hasSize(200);
    // Meanwhile an object not sent yet changes twice.
    put("c300", 1000);
    put("c300", 1001);
    sink.writable = true;
    sink.ch.runPendingTasks();
    w.pump();
    sink.ch.runPendingTasks();

    List<String> seen = sink.events.stream().map(WatcherTest::describe).toList();
    assertThat(seen).hasSize(452);
    assertThat(seen.stream().filter(e -> e.contains(" c300@")))
        .containsExactly("ADDED c300@301", "MODIFIED c300@1000", "MODIFIED c300@1001");
    w.closed();
    sink.ch.finishAndReleaseAll();
  }

  @Test
  void aWatchFromAVersionTheStoreHasNotReachedSendsOnlyLaterVersions() throws Exception {
    put("c1", 100);
    // A client that listed at version 500 through the cloud; the edge is at 100 and receives
    // 400 (which the client's list holds already) and then 600.
    RecordingSink sink = new RecordingSink();
    Watcher w = watcher(sink, 1000, Watcher.Start.REPLAY, store.headSeq(), 500);
    sink.ch.eventLoop().execute(w::start);
    sink.ch.runPendingTasks();
    put("c1", 400);
    put("c2", 450);
    put("c1", 600);
    sink.ch.runPendingTasks();
    assertThat(sink.events.stream().map(WatcherTest::describe)).containsExactly("MODIFIED c1@600");
    w.closed();
    sink.ch.finishAndReleaseAll();
  }

  @Test
  void aWatcherTooFarBehindIsEndedWithExpiredAndOthersGetEverything() throws Exception {
    RecordingSink slow = new RecordingSink();
    RecordingSink fast = new RecordingSink();
    Watcher s = watcher(slow, 5);
    Watcher f = watcher(fast, 5);
    slow.ch.eventLoop().execute(s::start);
    fast.ch.eventLoop().execute(f::start);
    slow.ch.runPendingTasks();
    fast.ch.runPendingTasks();
    slow.writable = false; // the client stopped reading
    for (int i = 1; i <= 20; i++) {
      change(i);
      fast.ch.runPendingTasks(); // the fast one keeps up
    }
    slow.ch.runPendingTasks();
    assertThat(fast.events).hasSize(20);
    assertThat(fast.ended).isFalse();
    slow.writable = true;
    slow.ch.runPendingTasks();
    s.pump();
    assertThat(slow.ended).isTrue();
    JsonNode last = slow.events.get(slow.events.size() - 1);
    assertThat(last.path("type").asString()).isEqualTo("ERROR");
    assertThat(last.path("object").path("code").asInt()).isEqualTo(410);
    assertThat(last.path("object").path("reason").asString()).isEqualTo("Expired");
    assertThat(hub.size()).isEqualTo(1);
    slow.ch.finishAndReleaseAll();
    fast.ch.finishAndReleaseAll();
  }
}
