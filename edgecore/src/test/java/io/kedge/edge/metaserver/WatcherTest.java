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

    @Override
    public Channel channel() {
      return ch;
    }

    @Override
    public void begin() {}

    @Override
    public void write(byte[] event) {
      events.add(Json.parse(event));
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
            Watcher.Start.LIVE,
            0,
            0);
    return new Watcher(spec, sink, store, hub, queue, Duration.ofMinutes(1), () -> {});
  }

  void change(int i) throws Exception {
    store
        .apply(
            ObjectChange.upsert(
                CM,
                "ConfigMap",
                Json.parse(
                    "{\"metadata\":{\"name\":\"c"
                        + (i % 3)
                        + "\",\"namespace\":\"a\",\"resourceVersion\":\""
                        + i
                        + "\"}}")))
        .get();
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
