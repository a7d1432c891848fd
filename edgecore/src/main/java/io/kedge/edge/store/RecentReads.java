package io.kedge.edge.store;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Objects read lately by key, kept while no write has committed since they were read. A pod reading
 * the same objects again (an in-cluster client's GETs with {@code resourceVersion=0}) is answered
 * without a read transaction: in SQLite that is two file-lock calls, usually a page read and a
 * round through JNI, more than the rest of the answer costs.
 *
 * <p>Validity is one counter: the writer bumps it after every commit that may change an object (and
 * the store when it closes), and an entry counts only if it was read under the current value. A
 * reader takes the value before it reads, so an object read while a write commits is kept under the
 * old value and never served. The map is bounded by the bytes of the objects in it and emptied when
 * full.
 */
final class RecentReads {
  /** What an entry costs besides its JSON (the record, its strings, the map's node). */
  private static final int OVERHEAD = 200;

  private record Key(Gvr gvr, String sortKey) {}

  private record Entry(StoredObject object, long generation) {}

  private final ConcurrentHashMap<Key, Entry> entries = new ConcurrentHashMap<>();
  private final AtomicLong generation = new AtomicLong();
  private long bytes; // guarded by this
  private final long maxBytes;

  RecentReads(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** The value to read under: take it before reading the store. */
  long generation() {
    return generation.get();
  }

  /** After a commit (or at close): everything read before is no longer served. */
  void committed() {
    generation.incrementAndGet();
  }

  /** The object at {@code sortKey}, if it was read since the last commit. */
  StoredObject get(Gvr gvr, String sortKey) {
    Entry e = entries.get(new Key(gvr, sortKey));
    return e != null && e.generation() == generation.get() ? e.object() : null;
  }

  /** Keeps {@code o}, read from the store under {@code readGeneration}. */
  synchronized void put(StoredObject o, long readGeneration) {
    long size = o.json().length + OVERHEAD;
    if (size > maxBytes / 16 || readGeneration != generation.get()) {
      return;
    }
    Entry old = entries.put(new Key(o.gvr(), o.sortKey()), new Entry(o, readGeneration));
    bytes += old == null ? size : size - (old.object().json().length + OVERHEAD);
    if (bytes > maxBytes) {
      entries.clear();
      bytes = 0;
    }
  }

  int size() {
    return entries.size();
  }
}
