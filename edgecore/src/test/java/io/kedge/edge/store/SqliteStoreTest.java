package io.kedge.edge.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteStoreTest {
  static final Gvr CM = Gvr.core("configmaps");

  @TempDir Path dir;
  SqliteStore store;

  @BeforeEach
  void open() {
    store = SqliteStore.open(StoreSettings.defaults(dir.resolve("edge.db")).withEventLogSize(20));
  }

  @AfterEach
  void close() {
    store.close();
  }

  static ObjectChange cm(String ns, String name, String uid, long rv, String value) {
    return ObjectChange.upsert(
        CM,
        "ConfigMap",
        Json.parse(
            "{\"metadata\":{\"name\":\""
                + name
                + "\",\"namespace\":\""
                + ns
                + "\",\"uid\":\""
                + uid
                + "\",\"resourceVersion\":\""
                + rv
                + "\",\"labels\":{\"app\":\"x\"}},\"data\":{\"v\":\""
                + value
                + "\"}}"));
  }

  static ObjectChange del(String ns, String name, long rv) {
    return ObjectChange.delete(
        CM,
        "ConfigMap",
        Json.parse(
            "{\"metadata\":{\"name\":\""
                + name
                + "\",\"namespace\":\""
                + ns
                + "\",\"resourceVersion\":\""
                + rv
                + "\"}}"),
        ns,
        name);
  }

  static String value(StoredObject o) {
    return Json.parse(o.json()).path("data").path("v").asString();
  }

  @Test
  void keepsTheNewestVersionAndIgnoresStaleOnes() throws Exception {
    assertThat(store.apply(cm("a", "c1", "u1", 10, "one")).get().changed()).isTrue();
    ApplyResult stale = store.apply(cm("a", "c1", "u1", 9, "older")).get();
    assertThat(stale.changed()).isFalse();
    assertThat(stale.ignoredBecause()).contains("stale");
    assertThat(store.apply(cm("a", "c1", "u1", 10, "one")).get().ignoredBecause())
        .contains("duplicate");
    ApplyResult newer = store.apply(cm("a", "c1", "u1", 12, "two")).get();
    assertThat(newer.events()).extracting(StoreEvent::type).containsExactly(EventType.MODIFIED);
    assertThat(newer.events().get(0).previous()).isNotNull();

    StoredObject o = store.get(CM, "a", "c1").orElseThrow();
    assertThat(o.resourceVersion()).isEqualTo(12);
    assertThat(value(o)).isEqualTo("two");
    // apiVersion and kind were filled in
    assertThat(Json.parse(o.json()).path("kind").asString()).isEqualTo("ConfigMap");
    assertThat(Json.parse(o.json()).path("apiVersion").asString()).isEqualTo("v1");
  }

  @Test
  void anObjectReadByKeyIsReadAgainAfterEveryKindOfChange() throws Exception {
    store.apply(cm("a", "c1", "u1", 10, "one")).get();
    store.apply(cm("a", "c2", "u2", 11, "two")).get();
    // read twice: the second answer comes from the objects read lately
    assertThat(value(store.get(CM, "a", "c1").orElseThrow())).isEqualTo("one");
    assertThat(value(store.get(CM, "a", "c1").orElseThrow())).isEqualTo("one");
    store.apply(cm("a", "c1", "u1", 12, "updated")).get();
    assertThat(value(store.get(CM, "a", "c1").orElseThrow())).isEqualTo("updated");
    // a write to another object counts too
    assertThat(value(store.get(CM, "a", "c2").orElseThrow())).isEqualTo("two");
    store.apply(del("a", "c2", 13)).get();
    assertThat(store.get(CM, "a", "c2")).isEmpty();
    store
        .reconcile(new Scope(CM, "a"), List.of(cm("a", "c1", "u1", 14, "listed")), 14, o -> true)
        .get();
    assertThat(value(store.get(CM, "a", "c1").orElseThrow())).isEqualTo("listed");
    store.reconcile(new Scope(CM, "a"), List.of(), 15, o -> true).get();
    assertThat(store.get(CM, "a", "c1")).isEmpty();
    // nothing kept is answered once the store is closed
    store.apply(cm("a", "c3", "u3", 16, "three")).get();
    assertThat(store.get(CM, "a", "c3")).isPresent();
    store.close();
    assertThatThrownBy(() -> store.get(CM, "a", "c3")).isInstanceOf(StoreException.class);
  }

  @Test
  void aDeletionKeepsLateOlderVersionsOut() throws Exception {
    store.apply(cm("a", "c1", "u1", 10, "one")).get();
    ApplyResult d = store.apply(del("a", "c1", 15)).get();
    assertThat(d.events()).extracting(StoreEvent::type).containsExactly(EventType.DELETED);
    assertThat(d.events().get(0).resourceVersion()).isEqualTo(15);
    assertThat(store.get(CM, "a", "c1")).isEmpty();
    assertThat(store.apply(cm("a", "c1", "u1", 12, "late")).get().changed()).isFalse();
    assertThat(store.get(CM, "a", "c1")).isEmpty();
    // a newer incarnation comes back
    assertThat(store.apply(cm("a", "c1", "u2", 20, "again")).get().events())
        .extracting(StoreEvent::type)
        .containsExactly(EventType.ADDED);
    // a stale delete does not remove it
    assertThat(store.apply(del("a", "c1", 18)).get().changed()).isFalse();
    assertThat(store.get(CM, "a", "c1")).isPresent();
  }

  @Test
  void aDeleteOfAnUnknownObjectIsRememberedAgainstOlderInserts() throws Exception {
    assertThat(store.apply(del("a", "ghost", 30)).get().changed()).isFalse();
    assertThat(store.apply(cm("a", "ghost", "u", 25, "x")).get().changed()).isFalse();
    assertThat(store.apply(cm("a", "ghost", "u", 31, "x")).get().changed()).isTrue();
  }

  @Test
  void aNewUidUnderTheSameNameIsADeletionAndAnAddition() throws Exception {
    store.apply(cm("a", "c1", "u1", 10, "one")).get();
    ApplyResult r = store.apply(cm("a", "c1", "u2", 14, "new")).get();
    assertThat(r.events())
        .extracting(StoreEvent::type)
        .containsExactly(EventType.DELETED, EventType.ADDED);
  }

  @Test
  void listsInEtcdKeyOrderPerNamespaceWithPages() throws Exception {
    store
        .applyAll(
            List.of(
                cm("a", "x", "1", 1, ""),
                cm("a-b", "y", "2", 2, ""),
                cm("a", "w", "3", 3, ""),
                cm("b", "z", "4", 4, "")))
        .get();
    ObjectPage all = store.list(Scope.all(CM), "", 0);
    // etcd orders "a-b/y" before "a/w" ('-' < '/')
    assertThat(all.objects())
        .extracting(StoredObject::sortKey)
        .containsExactly("a-b/y", "a/w", "a/x", "b/z");
    assertThat(all.state().highwater()).isEqualTo(4);
    assertThat(all.more()).isFalse();

    ObjectPage inA = store.list(new Scope(CM, "a"), "", 0);
    assertThat(inA.objects()).extracting(StoredObject::name).containsExactly("w", "x");

    ObjectPage p1 = store.list(Scope.all(CM), "", 2);
    assertThat(p1.objects()).hasSize(2);
    assertThat(p1.more()).isTrue();
    ObjectPage p2 = store.list(Scope.all(CM), p1.objects().get(1).sortKey(), 2);
    assertThat(p2.objects()).extracting(StoredObject::sortKey).containsExactly("a/x", "b/z");
    assertThat(p2.more()).isFalse();
    assertThat(store.list(new Scope(CM, "a"), "a/w", 5).objects())
        .extracting(StoredObject::name)
        .containsExactly("x");
  }

  @Test
  void aCountedPageSaysHowManyObjectsOfItsScopeFollowIt() throws Exception {
    store
        .applyAll(
            List.of(
                cm("a", "v", "1", 1, ""),
                cm("a", "w", "2", 2, ""),
                cm("a", "x", "3", 3, ""),
                cm("a-b", "y", "4", 4, ""),
                cm("b", "z", "5", 5, "")))
        .get();
    store.apply(ObjectChange.delete(CM, "ConfigMap", null, "a", "x")).get();
    // a deleted object is not counted, nor objects of other namespaces
    ObjectPage inA = store.list(new Scope(CM, "a"), "", 1, true);
    assertThat(inA.objects()).extracting(StoredObject::name).containsExactly("v");
    assertThat(inA.more()).isTrue();
    assertThat(inA.rest()).isEqualTo(1);
    ObjectPage all = store.list(Scope.all(CM), "", 2, true);
    assertThat(all.objects()).extracting(StoredObject::sortKey).containsExactly("a-b/y", "a/v");
    assertThat(all.rest()).isEqualTo(2);
    ObjectPage last = store.list(Scope.all(CM), "a/v", 2, true);
    assertThat(last.more()).isFalse();
    assertThat(last.rest()).isZero();
    assertThat(store.list(Scope.all(CM), "", 2).rest()).isEqualTo(-1); // not asked
  }

  @Test
  void resumeFindsWhereAClientLeftOff() throws Exception {
    store.apply(cm("a", "c1", "u1", 10, "")).get();
    store.apply(cm("a", "c2", "u2", 20, "")).get();
    // arrives late: lower version than the highwater
    store.apply(cm("a", "c3", "u3", 15, "")).get();
    store.apply(cm("a", "c4", "u4", 30, "")).get();
    List<StoreEvent> log = store.events(CM, 0, 100);
    assertThat(log).extracting(StoreEvent::highwater).containsExactly(10L, 20L, 20L, 30L);

    // a client at 10 has seen the first event only
    long after10 = store.resumeAfter(CM, 10).getAsLong();
    assertThat(store.events(CM, after10, 100))
        .extracting(StoreEvent::name)
        .containsExactly("c2", "c3", "c4");
    // a client at 20 (from a list then) gets the late one too
    long after20 = store.resumeAfter(CM, 20).getAsLong();
    assertThat(store.events(CM, after20, 100))
        .extracting(StoreEvent::name)
        .containsExactly("c3", "c4");
    // a version between events: the next event is new to it
    long after25 = store.resumeAfter(CM, 25).getAsLong();
    assertThat(store.events(CM, after25, 100)).extracting(StoreEvent::name).containsExactly("c4");
    assertThat(store.resumeAfter(CM, 30).isPresent()).isTrue();
    assertThat(store.events(CM, store.resumeAfter(CM, 30).getAsLong(), 100)).isEmpty();
    assertThat(store.resumeAfter(CM, 31)).isEqualTo(OptionalLong.empty());
  }

  @Test
  void theLogIsBoundedAndRemembersWhatItDropped() throws Exception {
    for (int i = 1; i <= 60; i++) {
      store.apply(cm("a", "c" + (i % 7), "u" + (i % 7), i, "v" + i)).get();
    }
    List<StoreEvent> log = store.events(CM, 0, 1000);
    assertThat(log.size()).isBetween(20, 22);
    ResourceState st = store.resourceState(CM);
    assertThat(st.highwater()).isEqualTo(60);
    assertThat(st.trimmedHighwater()).isEqualTo(log.get(0).highwater() - 1);
  }

  @Test
  void theLogStaysWithinItsBoundWhenATrimCannotCommit() throws Exception {
    store.close();
    store =
        SqliteStore.open(StoreSettings.defaults(dir.resolve("bounded.db")).withEventLogSize(100));
    int rv = 0;
    for (; rv < 110; rv++) { // the bound plus its tenth: not trimmed yet
      store.apply(cm("a", "c" + (rv % 7), "u" + (rv % 7), rv + 1, "v")).get();
    }
    assertThat(store.events(CM, 0, 1000)).hasSize(110);
    // A batch whose trim fails as it records what it dropped (as a full disk or an I/O error
    // would): the whole batch is rolled back, the log is as it was.
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("bounded.db"))) {
      c.createStatement()
          .execute(
              "CREATE TRIGGER trim_fails BEFORE UPDATE OF trimmed_hw ON resources"
                  + " WHEN NEW.trimmed_hw <> OLD.trimmed_hw"
                  + " BEGIN SELECT RAISE(ABORT, 'disk trouble'); END");
    }
    List<ObjectChange> batch = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      batch.add(cm("b", "c" + i, "ub" + i, 1000 + i, "v"));
    }
    assertThatThrownBy(() -> store.applyAll(batch).get()).hasMessageContaining("disk trouble");
    assertThat(store.events(CM, 0, 1000)).hasSize(110);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("bounded.db"))) {
      c.createStatement().execute("DROP TRIGGER trim_fails");
    }
    for (int i = 0; i < 10; i++) {
      store.apply(cm("a", "c" + (i % 7), "u" + (i % 7), 2000 + i, "v")).get();
      assertThat(store.events(CM, 0, 1000).size())
          .as("the log after %d more events", i + 1)
          .isLessThanOrEqualTo(110);
    }
  }

  @Test
  void closingWaitsForReadsUnderWayAndClosesTheirConnections() throws Exception {
    java.util.concurrent.CountDownLatch inRead = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicReference<Connection> lent =
        new java.util.concurrent.atomic.AtomicReference<>();
    Thread reader =
        new Thread(
            () ->
                store.read(
                    rc -> {
                      lent.set(rc.connection);
                      inRead.countDown();
                      try {
                        release.await();
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                      return null;
                    }));
    reader.start();
    inRead.await();
    Thread closer = new Thread(store::close);
    closer.start();
    Thread.sleep(300); // close() is under way while the read still holds its connection
    release.countDown();
    closer.join(30_000);
    reader.join(30_000);
    assertThat(lent.get().isClosed()).as("the connection the read had").isTrue();
    assertThatThrownBy(() -> store.get(CM, "a", "c1")).isInstanceOf(StoreException.class);
  }

  @Test
  void reconcileMakesAScopeEqualToAList() throws Exception {
    store
        .applyAll(
            List.of(
                cm("a", "keep", "1", 5, "old"),
                cm("a", "gone", "2", 6, ""),
                cm("a", "newer", "3", 50, "fresh"),
                cm("b", "other", "4", 7, "")))
        .get();
    List<StoreEvent> ev =
        store
            .reconcile(
                new Scope(CM, "a"),
                List.of(
                    cm("a", "keep", "1", 8, "updated"),
                    cm("a", "added", "5", 9, ""),
                    cm("a", "newer", "3", 40, "stale")),
                40,
                o -> true)
            .get();
    assertThat(ev)
        .extracting(e -> e.type() + " " + e.name())
        .containsExactly("MODIFIED keep", "ADDED added", "DELETED gone", "SYNC -");
    StoreEvent gone = ev.get(2);
    assertThat(gone.resourceVersion()).isEqualTo(40);
    assertThat(Json.parse(gone.object()).path("metadata").path("resourceVersion").asString())
        .isEqualTo("40");
    assertThat(store.list(new Scope(CM, "a"), "", 0).objects())
        .extracting(StoredObject::name)
        .containsExactly("added", "keep", "newer");
    assertThat(value(store.get(CM, "a", "newer").orElseThrow())).isEqualTo("fresh");
    assertThat(store.get(CM, "b", "other")).isPresent();
    assertThat(store.resourceState(CM).highwater()).isEqualTo(50);
    // a client at the highwater from before the list has not seen what came after "newer"
    assertThat(store.events(CM, store.resumeAfter(CM, 50).getAsLong(), 100))
        .extracting(e -> e.type() + " " + e.name())
        .containsExactly("ADDED other", "MODIFIED keep", "ADDED added", "DELETED gone", "SYNC -");
  }

  @Test
  void aClientAtTheListVersionResumesAfterTheSyncMark() throws Exception {
    store.apply(cm("a", "c1", "1", 5, "")).get();
    List<StoreEvent> ev =
        store
            .reconcile(new Scope(CM, "a"), List.of(cm("a", "c1", "1", 5, "")), 70, o -> true)
            .get();
    assertThat(ev).extracting(StoreEvent::type).containsExactly(EventType.SYNC);
    assertThat(store.resourceState(CM).highwater()).isEqualTo(70);
    assertThat(store.resumeAfter(CM, 70).getAsLong()).isEqualTo(ev.get(0).seq());
    store.apply(cm("a", "c2", "2", 71, "")).get();
    assertThat(store.events(CM, store.resumeAfter(CM, 70).getAsLong(), 10))
        .extracting(StoreEvent::name)
        .containsExactly("c2");
  }

  @Test
  void oneFailingWriteDoesNotSinkTheOthersInItsBatch() throws Exception {
    List<CompletableFuture<?>> fs = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      fs.add(store.apply(cm("a", "c" + i, "u" + i, i + 1, "")));
      if (i == 25) {
        fs.add(
            store.reconcile(
                new Scope(CM, "a"),
                List.of(
                    ObjectChange.upsert(
                        Gvr.core("secrets"),
                        "Secret",
                        Json.parse("{\"metadata\":{\"name\":\"s\"}}"))),
                1,
                o -> true));
      }
    }
    for (int i = 0; i < fs.size(); i++) {
      if (i == 26) {
        CompletableFuture<?> f = fs.get(i);
        assertThatThrownBy(f::get).isInstanceOf(ExecutionException.class);
      } else {
        fs.get(i).get();
      }
    }
    assertThat(store.list(new Scope(CM, "a"), "", 0).objects()).hasSize(50);
  }

  @Test
  void blobsAndScopes() throws Exception {
    store
        .putBlob("discovery/api|json", "application/json", "{}".getBytes(StandardCharsets.UTF_8))
        .get();
    store
        .putBlob("discovery/apis|json", "application/json", "[]".getBytes(StandardCharsets.UTF_8))
        .get();
    store.putBlob("token/x", "application/json", "t".getBytes(StandardCharsets.UTF_8)).get();
    assertThat(store.blob("discovery/api|json").orElseThrow().contentType())
        .isEqualTo("application/json");
    assertThat(store.blobs("discovery/"))
        .extracting(Blob::key)
        .containsExactly("discovery/apis|json", "discovery/api|json"); // 's' < '|'
    assertThat(store.deleteBlob("token/x").get()).isTrue();
    assertThat(store.blob("token/x")).isEmpty();

    store.saveScope(new ScopeRecord(new Scope(CM, "a"), "app-1", 0)).get();
    store.saveScope(new ScopeRecord(new Scope(CM, "a"), "app-1", 42)).get();
    assertThat(store.scopes()).containsExactly(new ScopeRecord(new Scope(CM, "a"), "app-1", 42));
    assertThat(store.deleteScope(new Scope(CM, "a")).get()).isTrue();
    assertThat(store.scopes()).isEmpty();
  }

  @Test
  void listenersHearCommittedEventsInOrder() throws Exception {
    List<StoreEvent> heard = new CopyOnWriteArrayList<>();
    store.addListener(heard::addAll);
    store.apply(cm("a", "c1", "u1", 1, "")).get();
    store.apply(cm("a", "c1", "u1", 2, "")).get();
    store.apply(del("a", "c1", 3)).get();
    assertThat(heard)
        .extracting(StoreEvent::type)
        .containsExactly(EventType.ADDED, EventType.MODIFIED, EventType.DELETED);
    assertThat(heard.get(2).seq()).isEqualTo(store.headSeq());
  }

  @Test
  void whatCompletedIsOnDiskWithoutAClose() throws Exception {
    store.apply(cm("a", "c1", "u1", 7, "durable")).get();
    // Another connection, as a restarted process would open it, sees the write at once.
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("edge.db"));
        ResultSet r =
            c.createStatement().executeQuery("SELECT rv FROM objects WHERE name = 'c1'")) {
      assertThat(r.next()).isTrue();
      assertThat(r.getLong(1)).isEqualTo(7);
    }
  }

  @Test
  void reopensWithItsDataAndSchemaVersion() throws Exception {
    store.apply(cm("a", "c1", "u1", 7, "kept")).get();
    store.putBlob("k", "text/plain", new byte[] {1}).get();
    store.close();
    store = SqliteStore.open(StoreSettings.defaults(dir.resolve("edge.db")));
    assertThat(value(store.get(CM, "a", "c1").orElseThrow())).isEqualTo("kept");
    assertThat(store.resourceState(CM).highwater()).isEqualTo(7);
    assertThat(store.headSeq()).isEqualTo(1);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("edge.db"));
        ResultSet r = c.createStatement().executeQuery("PRAGMA user_version")) {
      r.next();
      assertThat(r.getInt(1)).isEqualTo(Schema.MIGRATIONS.size());
    }
  }

  @Test
  void refusesADatabaseFromTheFuture() throws Exception {
    store.close();
    Path f = dir.resolve("future.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + f)) {
      c.createStatement().execute("PRAGMA user_version = 99");
    }
    assertThatThrownBy(() -> SqliteStore.open(StoreSettings.defaults(f)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("newer");
    store = SqliteStore.open(StoreSettings.defaults(dir.resolve("edge.db")));
  }

  @Test
  void refusesAFileThatIsNotADatabase() throws Exception {
    Path f = dir.resolve("garbage.db");
    Files.write(
        f,
        "this is not sqlite at all, not even close to a header"
            .repeat(100)
            .getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> SqliteStore.open(StoreSettings.defaults(f)))
        .isInstanceOf(StoreException.class);
  }

  @Test
  void rejectsObjectsWithoutAName() {
    assertThatThrownBy(() -> ObjectChange.upsert(CM, "ConfigMap", Json.parse("{\"metadata\":{}}")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ObjectChange.upsert(CM, "ConfigMap", Json.parse("[1]")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(ObjectChange.parseResourceVersion("12x")).isZero();
    assertThat(ObjectChange.parseResourceVersion("99999999999999999999")).isZero();
    assertThat(ObjectChange.parseResourceVersion("123")).isEqualTo(123);
  }
}
