package io.kedge.edge.store;

import io.kedge.protocol.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@link ObjectStore} on SQLite (WAL). One writer thread commits queued writes in batches (group
 * commit) and completes their futures only after the commit; a small pool of connections serves
 * reads concurrently with it.
 */
public final class SqliteStore implements ObjectStore {
  private static final Logger LOG = LoggerFactory.getLogger(SqliteStore.class);

  /** What the objects read lately by key may hold (their JSON and a little more each). */
  static final long RECENT_READS_BYTES = 1024 * 1024;

  private final StoreSettings settings;
  private final Connection writeConnection;
  private final BlockingQueue<ReadConnection> readers;
  private final List<ReadConnection> allReaders; // also those lent out, for close()
  private final BlockingQueue<Task<?>> queue;
  private final Thread writer;
  private final ExecutorService completions;
  private final List<StoreListener> listeners = new CopyOnWriteArrayList<>();
  private final RecentReads recentReads = new RecentReads(RECENT_READS_BYTES);
  private final Map<Gvr, ResourceState> states = new ConcurrentHashMap<>();
  private final Map<Gvr, Integer> eventCounts = new HashMap<>(); // writer thread only
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile long headSeq;
  private volatile long eventLogLength; // sum of eventCounts, published after each commit
  private long lastTombstoneSweep = System.currentTimeMillis(); // writer thread only

  private SqliteStore(StoreSettings settings, Connection writeConnection, List<Connection> reads)
      throws SQLException {
    this.settings = settings;
    this.writeConnection = writeConnection;
    this.readers = new ArrayBlockingQueue<>(reads.size());
    List<ReadConnection> all = new ArrayList<>();
    for (Connection c : reads) {
      all.add(new ReadConnection(c));
    }
    this.allReaders = List.copyOf(all);
    readers.addAll(allReaders);
    this.queue = new ArrayBlockingQueue<>(settings.writeQueue());
    loadState();
    this.completions =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "edge-store-completions");
              t.setDaemon(true);
              return t;
            });
    this.writer = new Thread(this::writeLoop, "edge-store-writer");
    writer.setDaemon(true);
    writer.start();
  }

  /**
   * Opens (creating if needed) the database in {@code settings.file()}, checks it, and migrates its
   * schema to the newest version.
   */
  public static SqliteStore open(StoreSettings settings) {
    Path file = settings.file().toAbsolutePath();
    List<Connection> opened = new ArrayList<>();
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      Connection w = connect(file, settings, false);
      opened.add(w);
      check(w, file);
      Schema.migrate(w, file.toString());
      w.setAutoCommit(false);
      List<Connection> reads = new ArrayList<>();
      for (int i = 0; i < settings.readConnections(); i++) {
        Connection r = connect(file, settings, true);
        opened.add(r);
        reads.add(r);
      }
      SqliteStore s = new SqliteStore(settings, w, reads);
      LOG.info(
          "store opened: {} (schema {}, fsync {}, event log {} per type)",
          file,
          Schema.MIGRATIONS.size(),
          settings.fsync(),
          settings.eventLogSize());
      return s;
    } catch (SQLException | IOException e) {
      for (Connection c : opened) {
        closeQuietly(c);
      }
      throw new StoreException("cannot open the store at " + file + ": " + e.getMessage(), e);
    }
  }

  private static Connection connect(Path file, StoreSettings settings, boolean reader)
      throws SQLException {
    Properties p = new Properties();
    p.setProperty("journal_mode", "WAL");
    p.setProperty("synchronous", settings.fsync() ? "FULL" : "NORMAL");
    p.setProperty("busy_timeout", "10000");
    p.setProperty("foreign_keys", "false");
    // Small page caches: the edge runs in a few tens of MB.
    p.setProperty("cache_size", reader ? "-512" : "-2048");
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + file, p);
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("PRAGMA synchronous=" + (settings.fsync() ? "FULL" : "NORMAL"));
      s.execute("PRAGMA busy_timeout=10000");
    }
    return c;
  }

  private static void check(Connection c, Path file) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("PRAGMA quick_check")) {
      String result = r.next() ? r.getString(1) : "no answer";
      if (!"ok".equals(result)) {
        throw new StoreException("store " + file + " failed its integrity check: " + result);
      }
    }
  }

  private void loadState() throws SQLException {
    try (Statement s = writeConnection.createStatement()) {
      try (ResultSet r = s.executeQuery("SELECT gvr, highwater, trimmed_hw FROM resources")) {
        while (r.next()) {
          Gvr g = Gvr.parse(r.getString(1));
          states.put(g, new ResourceState(g, r.getLong(2), r.getLong(3)));
        }
      }
      try (ResultSet r = s.executeQuery("SELECT gvr, count(*) FROM events GROUP BY gvr")) {
        while (r.next()) {
          eventCounts.put(Gvr.parse(r.getString(1)), r.getInt(2));
        }
      }
      try (ResultSet r = s.executeQuery("SELECT seq FROM sqlite_sequence WHERE name = 'events'")) {
        headSeq = r.next() ? r.getLong(1) : 0;
      }
    }
    eventLogLength = sum(eventCounts);
    writeConnection.commit();
  }

  // ---------------------------------------------------------------- writes

  @Override
  public CompletableFuture<ApplyResult> apply(ObjectChange change) {
    return submit(tx -> tx.apply(change));
  }

  @Override
  public CompletableFuture<List<ApplyResult>> applyAll(List<ObjectChange> changes) {
    List<ObjectChange> copy = List.copyOf(changes);
    return submit(
        tx -> {
          List<ApplyResult> out = new ArrayList<>(copy.size());
          for (ObjectChange c : copy) {
            out.add(tx.apply(c));
          }
          return out;
        });
  }

  @Override
  public CompletableFuture<List<StoreEvent>> reconcile(
      Scope scope,
      List<ObjectChange> items,
      long listResourceVersion,
      Predicate<StoredObject> member) {
    List<ObjectChange> copy = List.copyOf(items);
    return submit(tx -> tx.reconcile(scope, copy, listResourceVersion, member));
  }

  @Override
  public CompletableFuture<Void> putBlob(String key, String contentType, byte[] value) {
    return submit(
        tx -> {
          PreparedStatement p =
              tx.prepare(
                  "INSERT INTO blobs (key, content_type, value, updated) VALUES (?, ?, ?, ?)"
                      + " ON CONFLICT (key) DO UPDATE SET content_type = excluded.content_type,"
                      + " value = excluded.value, updated = excluded.updated");
          p.setString(1, key);
          p.setString(2, contentType == null ? "" : contentType);
          p.setBytes(3, value);
          p.setLong(4, System.currentTimeMillis());
          p.executeUpdate();
          return null;
        });
  }

  @Override
  public CompletableFuture<Boolean> deleteBlob(String key) {
    return submit(
        tx -> {
          PreparedStatement p = tx.prepare("DELETE FROM blobs WHERE key = ?");
          p.setString(1, key);
          return p.executeUpdate() > 0;
        });
  }

  @Override
  public CompletableFuture<Void> saveScope(ScopeRecord scope) {
    return submit(
        tx -> {
          PreparedStatement p =
              tx.prepare(
                  "INSERT INTO scopes (gvr, namespace, app_id, synced_since, resume_rv)"
                      + " VALUES (?, ?, ?, ?, ?)"
                      + " ON CONFLICT (gvr, namespace) DO UPDATE SET app_id = excluded.app_id,"
                      + " synced_since = excluded.synced_since, resume_rv = excluded.resume_rv");
          p.setString(1, scope.scope().gvr().toString());
          p.setString(2, scope.scope().namespace());
          p.setString(3, scope.applicationId());
          p.setLong(4, scope.syncedSince());
          p.setLong(5, scope.resumeRv());
          p.executeUpdate();
          return null;
        });
  }

  @Override
  public CompletableFuture<Boolean> deleteScope(Scope scope) {
    return submit(
        tx -> {
          PreparedStatement p = tx.prepare("DELETE FROM scopes WHERE gvr = ? AND namespace = ?");
          p.setString(1, scope.gvr().toString());
          p.setString(2, scope.namespace());
          return p.executeUpdate() > 0;
        });
  }

  private <T> CompletableFuture<T> submit(Work<T> work) {
    CompletableFuture<T> f = new CompletableFuture<>();
    if (closed.get()) {
      f.completeExceptionally(new StoreException("the store is closed"));
      return f;
    }
    try {
      // Blocks when the writer is behind: back-pressure to whoever produces the writes.
      queue.put(new Task<>(work, f));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      f.completeExceptionally(new StoreException("interrupted while queueing a write", e));
    }
    return f;
  }

  private void writeLoop() {
    List<Task<?>> batch = new ArrayList<>(settings.maxBatch());
    while (true) {
      batch.clear();
      try {
        Task<?> first = queue.poll(1, TimeUnit.SECONDS);
        if (first == null) {
          if (closed.get()) {
            return;
          }
          maybeSweepTombstones();
          continue;
        }
        if (first.isStop()) {
          return;
        }
        batch.add(first);
        queue.drainTo(batch, settings.maxBatch() - 1);
      } catch (InterruptedException e) {
        return;
      }
      boolean stop = batch.get(batch.size() - 1).isStop();
      if (stop) {
        batch.remove(batch.size() - 1);
      }
      runBatch(batch);
      if (stop) {
        return;
      }
    }
  }

  private void runBatch(List<Task<?>> tasks) {
    List<Task<?>> batch = List.copyOf(tasks); // completed later, after the caller reuses its list
    Tx tx = new Tx();
    Object[] results = new Object[batch.size()];
    Throwable[] failures = new Throwable[batch.size()];
    try {
      for (int i = 0; i < batch.size(); i++) {
        try (Statement s = writeConnection.createStatement()) {
          s.execute("SAVEPOINT task");
        }
        int eventsBefore = tx.events.size();
        Map<Gvr, ResourceState> statesBefore = new HashMap<>(tx.touched);
        try {
          results[i] = batch.get(i).work.run(tx);
          try (Statement s = writeConnection.createStatement()) {
            s.execute("RELEASE task");
          }
        } catch (SQLException | RuntimeException e) {
          failures[i] = e;
          try (Statement s = writeConnection.createStatement()) {
            s.execute("ROLLBACK TO task");
            s.execute("RELEASE task");
          }
          tx.events.subList(eventsBefore, tx.events.size()).clear();
          tx.touched.clear();
          tx.touched.putAll(statesBefore);
        }
      }
      tx.trim();
      writeConnection.commit();
    } catch (SQLException | RuntimeException e) {
      try {
        writeConnection.rollback();
      } catch (SQLException r) {
        e.addSuppressed(r);
      }
      LOG.error("store: commit of {} writes failed: {}", batch.size(), e.toString());
      StoreException failure = new StoreException("store commit failed: " + e.getMessage(), e);
      completions.execute(
          () -> {
            for (Task<?> t : batch) {
              t.future.completeExceptionally(failure);
            }
          });
      return;
    } finally {
      recentReads.committed(); // whatever the commit left, nothing read before it is served
    }
    // Committed: publish the new state, then tell listeners and waiters.
    states.putAll(tx.touched);
    eventCounts.putAll(tx.counts);
    if (!tx.counts.isEmpty()) {
      eventLogLength = sum(eventCounts);
    }
    if (!tx.events.isEmpty()) {
      headSeq = tx.events.get(tx.events.size() - 1).seq();
      List<StoreEvent> committed = List.copyOf(tx.events);
      for (StoreListener l : listeners) {
        try {
          l.committed(committed);
        } catch (RuntimeException e) {
          LOG.warn("store listener failed: {}", e.toString(), e);
        }
      }
    }
    completions.execute(
        () -> {
          for (int i = 0; i < batch.size(); i++) {
            complete(batch.get(i), results[i], failures[i]);
          }
        });
  }

  @SuppressWarnings("unchecked")
  private static <T> void complete(Task<T> t, Object result, Throwable failure) {
    if (failure != null) {
      t.future.completeExceptionally(
          failure instanceof StoreException
              ? failure
              : new StoreException(failure.toString(), failure));
    } else {
      t.future.complete((T) result);
    }
  }

  private void maybeSweepTombstones() {
    long now = System.currentTimeMillis();
    if (now - lastTombstoneSweep < 60_000) {
      return;
    }
    lastTombstoneSweep = now;
    try (PreparedStatement p =
        writeConnection.prepareStatement("DELETE FROM objects WHERE deleted = 1 AND updated < ?")) {
      p.setLong(1, now - settings.tombstoneTtl().toMillis());
      int n = p.executeUpdate();
      writeConnection.commit(); // only tombstones go: no object a read can return changes
      if (n > 0) {
        LOG.debug("store: forgot {} deleted objects", n);
      }
    } catch (SQLException e) {
      LOG.warn("store: tombstone sweep failed: {}", e.toString());
      try {
        writeConnection.rollback();
      } catch (SQLException ignored) {
        // the next sweep tries again
      }
    }
  }

  // ---------------------------------------------------------------- reads

  @Override
  public Optional<StoredObject> get(Gvr gvr, String namespace, String name) {
    String key = StoredObject.sortKey(namespace, name);
    StoredObject recent = recentReads.get(gvr, key);
    if (recent != null) {
      return Optional.of(recent);
    }
    long generation = recentReads.generation();
    Optional<StoredObject> read = readObject(gvr, key);
    read.ifPresent(o -> recentReads.put(o, generation));
    return read;
  }

  private Optional<StoredObject> readObject(Gvr gvr, String key) {
    return read(
        rc -> {
          PreparedStatement p =
              rc.prepare(
                  "SELECT namespace, name, uid, rv, value FROM objects"
                      + " WHERE gvr = ? AND skey = ? AND deleted = 0");
          p.setString(1, gvr.toString());
          p.setString(2, key);
          try (ResultSet r = p.executeQuery()) {
            return r.next() ? Optional.of(object(gvr, r)) : Optional.<StoredObject>empty();
          }
        });
  }

  @Override
  public ObjectPage list(Scope scope, String afterKey, int limit, boolean countRest) {
    Gvr gvr = scope.gvr();
    return read(
        rc -> {
          rc.connection.setAutoCommit(false); // one snapshot for objects, state and head
          try {
            String lo = afterKey == null ? "" : afterKey;
            String hi = null;
            if (!scope.allNamespaces()) {
              String prefix = scope.namespace() + "/";
              if (lo.compareTo(prefix) < 0) {
                lo = prefix;
              }
              hi = scope.namespace() + "0"; // '0' follows '/'
            }
            PreparedStatement p =
                rc.prepare(
                    "SELECT namespace, name, uid, rv, value FROM objects WHERE gvr = ?"
                        + " AND skey > ? AND skey < ? AND deleted = 0 ORDER BY skey LIMIT ?");
            p.setString(1, gvr.toString());
            p.setString(2, lo);
            p.setString(3, hi == null ? "\uffff" : hi);
            p.setInt(4, limit > 0 ? limit + 1 : -1);
            List<StoredObject> out = new ArrayList<>();
            boolean more = false;
            try (ResultSet r = p.executeQuery()) {
              while (r.next()) {
                if (limit > 0 && out.size() == limit) {
                  more = true;
                  break;
                }
                out.add(object(gvr, r));
              }
            }
            long rest = -1;
            if (countRest) {
              rest = more ? countAfter(rc, gvr, out.get(out.size() - 1).sortKey(), hi) : 0;
            }
            ResourceState st = readState(rc, gvr);
            long head = readHead(rc);
            return new ObjectPage(out, head, st, more, rest);
          } finally {
            rc.connection.commit();
            rc.connection.setAutoCommit(true);
          }
        });
  }

  @Override
  public List<StoreEvent> events(Gvr gvr, long afterSeq, int max) {
    return read(
        rc -> {
          PreparedStatement p =
              rc.prepare(
                  "SELECT seq, type, namespace, name, rv, hw, value, prev FROM events"
                      + " WHERE gvr = ? AND seq > ? ORDER BY seq LIMIT ?");
          p.setString(1, gvr.toString());
          p.setLong(2, afterSeq);
          p.setInt(3, max);
          List<StoreEvent> out = new ArrayList<>();
          try (ResultSet r = p.executeQuery()) {
            while (r.next()) {
              out.add(
                  new StoreEvent(
                      r.getLong(1),
                      EventType.valueOf(r.getString(2)),
                      gvr,
                      r.getString(3),
                      r.getString(4),
                      r.getLong(5),
                      r.getLong(6),
                      r.getBytes(7),
                      r.getBytes(8)));
            }
          }
          return out;
        });
  }

  @Override
  public OptionalLong resumeAfter(Gvr gvr, long resourceVersion) {
    return read(
        rc -> {
          PreparedStatement p =
              rc.prepare(
                  "SELECT seq, rv FROM events WHERE gvr = ? AND hw >= ? ORDER BY seq LIMIT 1");
          p.setString(1, gvr.toString());
          p.setLong(2, resourceVersion);
          try (ResultSet r = p.executeQuery()) {
            if (!r.next()) {
              return OptionalLong.empty();
            }
            long seq = r.getLong(1);
            long rv = r.getLong(2);
            // The first event reaching the client's version: seen if it is that version itself.
            return OptionalLong.of(rv <= resourceVersion ? seq : seq - 1);
          }
        });
  }

  @Override
  public ResourceState resourceState(Gvr gvr) {
    return states.getOrDefault(gvr, new ResourceState(gvr, 0, 0));
  }

  @Override
  public java.util.Set<Gvr> types() {
    return java.util.Set.copyOf(states.keySet());
  }

  @Override
  public long headSeq() {
    return headSeq;
  }

  @Override
  public long eventLogLength() {
    return eventLogLength;
  }

  private static long sum(Map<Gvr, Integer> counts) {
    long n = 0;
    for (int c : counts.values()) {
      n += c;
    }
    return n;
  }

  @Override
  public long objectCount() {
    if (closed.get()) {
      return -1;
    }
    return read(
        rc -> {
          PreparedStatement p = rc.prepare("SELECT count(*) FROM objects WHERE deleted = 0");
          try (ResultSet r = p.executeQuery()) {
            return r.next() ? r.getLong(1) : 0L;
          }
        });
  }

  @Override
  public boolean isOpen() {
    return !closed.get();
  }

  @Override
  public Optional<Blob> blob(String key) {
    return read(
        rc -> {
          PreparedStatement p =
              rc.prepare("SELECT key, content_type, value, updated FROM blobs WHERE key = ?");
          p.setString(1, key);
          try (ResultSet r = p.executeQuery()) {
            return r.next()
                ? Optional.of(new Blob(r.getString(1), r.getString(2), r.getBytes(3), r.getLong(4)))
                : Optional.<Blob>empty();
          }
        });
  }

  @Override
  public List<Blob> blobs(String keyPrefix) {
    return read(
        rc -> {
          PreparedStatement p =
              rc.prepare(
                  "SELECT key, content_type, value, updated FROM blobs"
                      + " WHERE key >= ? AND key < ? ORDER BY key");
          p.setString(1, keyPrefix);
          p.setString(2, keyPrefix + "\uffff");
          List<Blob> out = new ArrayList<>();
          try (ResultSet r = p.executeQuery()) {
            while (r.next()) {
              out.add(new Blob(r.getString(1), r.getString(2), r.getBytes(3), r.getLong(4)));
            }
          }
          return out;
        });
  }

  @Override
  public List<ScopeRecord> scopes() {
    return read(
        rc -> {
          PreparedStatement p =
              rc.prepare(
                  "SELECT gvr, namespace, app_id, synced_since, resume_rv FROM scopes"
                      + " ORDER BY 1, 2");
          List<ScopeRecord> out = new ArrayList<>();
          try (ResultSet r = p.executeQuery()) {
            while (r.next()) {
              out.add(
                  new ScopeRecord(
                      new Scope(Gvr.parse(r.getString(1)), r.getString(2)),
                      r.getString(3),
                      r.getLong(4),
                      r.getLong(5)));
            }
          }
          return out;
        });
  }

  /** Objects of {@code gvr} whose key is after {@code lo} and before {@code hi} (null: no end). */
  private static long countAfter(ReadConnection rc, Gvr gvr, String lo, String hi)
      throws SQLException {
    PreparedStatement p =
        rc.prepare(
            "SELECT COUNT(*) FROM objects WHERE gvr = ? AND skey > ? AND skey < ? AND deleted = 0");
    p.setString(1, gvr.toString());
    p.setString(2, lo);
    p.setString(3, hi == null ? "\uffff" : hi);
    try (ResultSet r = p.executeQuery()) {
      return r.next() ? r.getLong(1) : 0;
    }
  }

  private static StoredObject object(Gvr gvr, ResultSet r) throws SQLException {
    return new StoredObject(
        gvr, r.getString(1), r.getString(2), r.getString(3), r.getLong(4), r.getBytes(5));
  }

  private static ResourceState readState(ReadConnection rc, Gvr gvr) throws SQLException {
    PreparedStatement p = rc.prepare("SELECT highwater, trimmed_hw FROM resources WHERE gvr = ?");
    p.setString(1, gvr.toString());
    try (ResultSet r = p.executeQuery()) {
      return r.next()
          ? new ResourceState(gvr, r.getLong(1), r.getLong(2))
          : new ResourceState(gvr, 0, 0);
    }
  }

  private static long readHead(ReadConnection rc) throws SQLException {
    PreparedStatement p = rc.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'");
    try (ResultSet r = p.executeQuery()) {
      return r.next() ? r.getLong(1) : 0;
    }
  }

  <T> T read(Reading<T> reading) {
    if (closed.get()) {
      throw new StoreException("the store is closed");
    }
    ReadConnection rc;
    try {
      // Not take(): once the store closes, the connections do not come back.
      while ((rc = readers.poll(100, TimeUnit.MILLISECONDS)) == null) {
        if (closed.get()) {
          throw new StoreException("the store is closed");
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting for a read connection", e);
    }
    try {
      return reading.run(rc);
    } catch (SQLException e) {
      throw new StoreException("store read failed: " + e.getMessage(), e);
    } finally {
      readers.add(rc);
    }
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public void addListener(StoreListener listener) {
    listeners.add(listener);
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    recentReads.committed(); // a closed store answers nothing it kept: reads find it closed
    try {
      queue.put(Task.stop());
      writer.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    completions.shutdown();
    try {
      completions.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // Reads under way finish first (new ones find the store closed): each connection is closed
    // as it comes back, and those still lent out after the wait are closed all the same.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    int back = 0;
    try {
      while (back < allReaders.size()) {
        ReadConnection rc =
            readers.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (rc == null) {
          LOG.warn(
              "store: {} reads still under way at close; their connections are closed anyway",
              allReaders.size() - back);
          break;
        }
        rc.close();
        back++;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (ReadConnection rc : allReaders) {
      rc.close();
    }
    try (Statement s = writeConnection.createStatement()) {
      writeConnection.commit();
      writeConnection.setAutoCommit(true);
      s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (SQLException e) {
      LOG.debug("store: checkpoint at close failed: {}", e.toString());
    }
    closeQuietly(writeConnection);
    LOG.info("store closed: {}", settings.file());
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException ignored) {
      // closing anyway
    }
  }

  // ---------------------------------------------------------------- internals

  @FunctionalInterface
  private interface Work<T> {
    T run(Tx tx) throws SQLException;
  }

  @FunctionalInterface
  interface Reading<T> {
    T run(ReadConnection rc) throws SQLException;
  }

  private record Task<T>(Work<T> work, CompletableFuture<T> future) {
    static Task<Void> stop() {
      return new Task<>(null, new CompletableFuture<>());
    }

    boolean isStop() {
      return work == null;
    }
  }

  /** A read connection with its prepared statements (used by one thread at a time). */
  static final class ReadConnection {
    final Connection connection;
    final Map<String, PreparedStatement> statements = new HashMap<>();

    ReadConnection(Connection connection) {
      this.connection = connection;
    }

    PreparedStatement prepare(String sql) throws SQLException {
      PreparedStatement p = statements.get(sql);
      if (p == null) {
        p = connection.prepareStatement(sql);
        statements.put(sql, p);
      }
      return p;
    }

    void close() {
      closeQuietly(connection);
    }
  }

  /** The state of one write batch (writer thread only). */
  private final class Tx {
    final List<StoreEvent> events = new ArrayList<>();
    final Map<Gvr, ResourceState> touched = new HashMap<>();

    /** Each type's count of logged events once this batch commits (not before: it may not). */
    final Map<Gvr, Integer> counts = new HashMap<>();

    PreparedStatement prepare(String sql) throws SQLException {
      return writeStatements.computeIfAbsent(sql, this::doPrepare);
    }

    private PreparedStatement doPrepare(String sql) {
      try {
        return writeConnection.prepareStatement(sql);
      } catch (SQLException e) {
        throw new StoreException("cannot prepare " + sql + ": " + e.getMessage(), e);
      }
    }

    ResourceState state(Gvr gvr) {
      ResourceState s = touched.get(gvr);
      return s != null ? s : states.getOrDefault(gvr, new ResourceState(gvr, 0, 0));
    }

    ApplyResult apply(ObjectChange c) throws SQLException {
      Existing ex = existing(c.gvr(), c.sortKey());
      if (c.op() == ObjectChange.Op.UPSERT) {
        if (ex != null) {
          if (ex.deleted && ex.rv >= c.resourceVersion()) {
            return ApplyResult.ignored("deleted at version " + ex.rv);
          }
          if (!ex.deleted && ex.rv > c.resourceVersion()) {
            return ApplyResult.ignored("stale: have version " + ex.rv);
          }
          if (!ex.deleted && ex.rv == c.resourceVersion()) {
            return ApplyResult.ignored("duplicate of version " + ex.rv);
          }
        }
        write(c, false, c.json());
        List<StoreEvent> out = new ArrayList<>(2);
        if (ex == null || ex.deleted) {
          out.add(event(EventType.ADDED, c, c.resourceVersion(), c.json(), null));
        } else if (!ex.uid.isEmpty() && !c.uid().isEmpty() && !ex.uid.equals(c.uid())) {
          // A new object under an old name: the old one went away first.
          out.add(event(EventType.DELETED, c, ex.rv, ex.value, ex.value));
          out.add(event(EventType.ADDED, c, c.resourceVersion(), c.json(), null));
        } else {
          out.add(event(EventType.MODIFIED, c, c.resourceVersion(), c.json(), ex.value));
        }
        return ApplyResult.applied(out);
      }
      // DELETE
      if (ex == null) {
        write(c, true, null); // remember it, so that an older version arriving late stays out
        return ApplyResult.ignored("not known");
      }
      if (ex.deleted) {
        if (c.resourceVersion() > ex.rv) {
          write(c, true, null);
        }
        return ApplyResult.ignored("already deleted");
      }
      if (c.resourceVersion() > 0 && ex.rv > c.resourceVersion()) {
        return ApplyResult.ignored("stale delete: have version " + ex.rv);
      }
      long rv = Math.max(ex.rv, c.resourceVersion());
      byte[] last = c.json() != null ? c.json() : ex.value;
      ObjectChange tomb =
          new ObjectChange(
              ObjectChange.Op.DELETE, c.gvr(), c.namespace(), c.name(), ex.uid, rv, null);
      write(tomb, true, null);
      return ApplyResult.applied(List.of(event(EventType.DELETED, tomb, rv, last, ex.value)));
    }

    List<StoreEvent> reconcile(
        Scope scope, List<ObjectChange> items, long listRv, Predicate<StoredObject> member)
        throws SQLException {
      int start = events.size();
      Set<String> listed = new HashSet<>();
      for (ObjectChange c : items) {
        if (!c.gvr().equals(scope.gvr())) {
          throw new IllegalArgumentException("item of " + c.gvr() + " in a list of " + scope);
        }
        listed.add(c.sortKey());
        apply(c);
      }
      // Objects the list no longer has are gone, unless the edge saw a newer version since.
      PreparedStatement p =
          prepare(
              "SELECT namespace, name, uid, rv, value FROM objects WHERE gvr = ?"
                  + " AND skey > ? AND skey < ? AND deleted = 0");
      p.setString(1, scope.gvr().toString());
      p.setString(2, scope.allNamespaces() ? "" : scope.namespace() + "/");
      p.setString(3, scope.allNamespaces() ? "\uffff" : scope.namespace() + "0");
      List<StoredObject> gone = new ArrayList<>();
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          StoredObject o = object(scope.gvr(), r);
          if (!listed.contains(o.sortKey()) && o.resourceVersion() <= listRv && member.test(o)) {
            gone.add(o);
          }
        }
      }
      for (StoredObject o : gone) {
        // The deletion's own version is unknown; the list's version is the first that lacks it.
        byte[] last = withResourceVersion(o.json(), listRv);
        apply(
            new ObjectChange(
                ObjectChange.Op.DELETE, o.gvr(), o.namespace(), o.name(), o.uid(), listRv, last));
      }
      ObjectChange mark =
          new ObjectChange(
              ObjectChange.Op.UPSERT, scope.gvr(), scope.namespace(), "-", "", listRv, null);
      event(EventType.SYNC, mark, listRv, null, null);
      return List.copyOf(events.subList(start, events.size()));
    }

    private Existing existing(Gvr gvr, String skey) throws SQLException {
      PreparedStatement p =
          prepare("SELECT uid, rv, deleted, value FROM objects WHERE gvr = ? AND skey = ?");
      p.setString(1, gvr.toString());
      p.setString(2, skey);
      try (ResultSet r = p.executeQuery()) {
        return r.next()
            ? new Existing(r.getString(1), r.getLong(2), r.getInt(3) != 0, r.getBytes(4))
            : null;
      }
    }

    private void write(ObjectChange c, boolean deleted, byte[] value) throws SQLException {
      PreparedStatement p =
          prepare(
              "INSERT INTO objects (gvr, skey, namespace, name, uid, rv, deleted, updated, value)"
                  + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (gvr, skey) DO UPDATE SET"
                  + " uid = excluded.uid, rv = excluded.rv, deleted = excluded.deleted,"
                  + " updated = excluded.updated, value = excluded.value");
      p.setString(1, c.gvr().toString());
      p.setString(2, c.sortKey());
      p.setString(3, c.namespace());
      p.setString(4, c.name());
      p.setString(5, c.uid());
      p.setLong(6, c.resourceVersion());
      p.setInt(7, deleted ? 1 : 0);
      p.setLong(8, System.currentTimeMillis());
      p.setBytes(9, value);
      p.executeUpdate();
    }

    private StoreEvent event(
        EventType type, ObjectChange c, long rv, byte[] object, byte[] previous)
        throws SQLException {
      ResourceState st = state(c.gvr());
      long hw = Math.max(st.highwater(), rv);
      PreparedStatement p =
          prepare(
              "INSERT INTO events (gvr, type, namespace, name, rv, hw, value, prev)"
                  + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
      p.setString(1, c.gvr().toString());
      p.setString(2, type.name());
      p.setString(3, c.namespace());
      p.setString(4, c.name());
      p.setLong(5, rv);
      p.setLong(6, hw);
      p.setBytes(7, object);
      p.setBytes(8, previous);
      p.executeUpdate();
      long seq;
      try (Statement s = writeConnection.createStatement();
          ResultSet r = s.executeQuery("SELECT last_insert_rowid()")) {
        r.next();
        seq = r.getLong(1);
      }
      if (hw != st.highwater()) {
        ResourceState next = new ResourceState(c.gvr(), hw, st.trimmedHighwater());
        touched.put(c.gvr(), next);
        saveState(next);
      } else {
        touched.putIfAbsent(c.gvr(), st);
      }
      StoreEvent e =
          new StoreEvent(seq, type, c.gvr(), c.namespace(), c.name(), rv, hw, object, previous);
      events.add(e);
      return e;
    }

    private void saveState(ResourceState s) throws SQLException {
      PreparedStatement p =
          prepare(
              "INSERT INTO resources (gvr, highwater, trimmed_hw) VALUES (?, ?, ?)"
                  + " ON CONFLICT (gvr) DO UPDATE SET highwater = excluded.highwater,"
                  + " trimmed_hw = excluded.trimmed_hw");
      p.setString(1, s.gvr().toString());
      p.setLong(2, s.highwater());
      p.setLong(3, s.trimmedHighwater());
      p.executeUpdate();
    }

    /** Keeps each type's log within its bound; remembers the highwater of what it dropped. */
    void trim() throws SQLException {
      Map<Gvr, Integer> added = new HashMap<>();
      for (StoreEvent e : events) {
        added.merge(e.gvr(), 1, Integer::sum);
      }
      int limit = settings.eventLogSize();
      for (Map.Entry<Gvr, Integer> a : added.entrySet()) {
        Gvr gvr = a.getKey();
        int count = eventCounts.getOrDefault(gvr, 0) + a.getValue();
        // Trim in steps of a tenth of the bound, not on every event.
        if (count <= limit + Math.max(1, limit / 10)) {
          counts.put(gvr, count);
          continue;
        }
        int drop = count - limit;
        PreparedStatement p =
            prepare("SELECT seq, hw FROM events WHERE gvr = ? ORDER BY seq LIMIT 1 OFFSET ?");
        p.setString(1, gvr.toString());
        p.setInt(2, drop - 1);
        long cutSeq;
        long cutHw;
        try (ResultSet r = p.executeQuery()) {
          if (!r.next()) {
            counts.put(gvr, count);
            continue;
          }
          cutSeq = r.getLong(1);
          cutHw = r.getLong(2);
        }
        PreparedStatement d = prepare("DELETE FROM events WHERE gvr = ? AND seq <= ?");
        d.setString(1, gvr.toString());
        d.setLong(2, cutSeq);
        int n = d.executeUpdate();
        counts.put(gvr, count - n);
        ResourceState st = state(gvr);
        ResourceState next =
            new ResourceState(gvr, st.highwater(), Math.max(st.trimmedHighwater(), cutHw));
        touched.put(gvr, next);
        saveState(next);
      }
    }
  }

  private final Map<String, PreparedStatement> writeStatements = new HashMap<>();

  private record Existing(String uid, long rv, boolean deleted, byte[] value) {}

  /** The object JSON with {@code metadata.resourceVersion} set to {@code rv}. */
  static byte[] withResourceVersion(byte[] json, long rv) {
    if (json == null) {
      return null;
    }
    JsonNode n = Json.parse(json);
    if (n instanceof ObjectNode o && o.path("metadata") instanceof ObjectNode m) {
      m.put("resourceVersion", Long.toString(rv));
      return Json.bytes(o);
    }
    return json;
  }
}
