package io.kedge.edge.store;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * Everything the edge knows: objects (raw JSON by type, namespace and name), an event log per
 * resource type, subscribed scopes and keyed blobs. Writes complete only once durable; reads see
 * every write that completed before they started.
 */
public interface ObjectStore extends AutoCloseable {

  // ---------------------------------------------------------------- writes (durable on completion)

  /** Applies one change; stale versions are ignored (see {@link ApplyResult}). */
  CompletableFuture<ApplyResult> apply(ObjectChange change);

  /** Applies changes in order, in one transaction. */
  CompletableFuture<List<ApplyResult>> applyAll(List<ObjectChange> changes);

  /**
   * Makes the objects of {@code scope} that {@code member} accepts equal to a complete list taken
   * at {@code listResourceVersion}: newer items are kept, objects missing from the list and not
   * newer than it are deleted, and a {@link EventType#SYNC} mark records the list's version.
   *
   * @param member which stored objects the list speaks for (e.g. all, or those matching the list's
   *     selectors)
   */
  CompletableFuture<List<StoreEvent>> reconcile(
      Scope scope,
      List<ObjectChange> items,
      long listResourceVersion,
      Predicate<StoredObject> member);

  CompletableFuture<Void> putBlob(String key, String contentType, byte[] value);

  CompletableFuture<Boolean> deleteBlob(String key);

  /** Records or updates a subscribed scope. */
  CompletableFuture<Void> saveScope(ScopeRecord scope);

  CompletableFuture<Boolean> deleteScope(Scope scope);

  // ---------------------------------------------------------------- reads

  Optional<StoredObject> get(Gvr gvr, String namespace, String name);

  /**
   * Objects of {@code scope} in key order ({@code ns/name}, as etcd orders them) whose key is
   * greater than {@code afterKey} (empty: from the start), at most {@code limit} of them (0: all).
   */
  default ObjectPage list(Scope scope, String afterKey, int limit) {
    return list(scope, afterKey, limit, false);
  }

  /**
   * As {@link #list(Scope, String, int)}; with {@code countRest}, {@link ObjectPage#rest()} is the
   * number of objects of {@code scope} after the last one returned, counted in the same snapshot.
   */
  ObjectPage list(Scope scope, String afterKey, int limit, boolean countRest);

  /** Events of {@code gvr} with a sequence number greater than {@code afterSeq}, oldest first. */
  List<StoreEvent> events(Gvr gvr, long afterSeq, int max);

  /**
   * Where a watch from {@code resourceVersion} resumes: the sequence number after which every event
   * is new to a client holding that version; empty when the client is at or beyond everything the
   * log holds.
   */
  OptionalLong resumeAfter(Gvr gvr, long resourceVersion);

  ResourceState resourceState(Gvr gvr);

  /** The types the store has held objects of. */
  java.util.Set<Gvr> types();

  /** The sequence number of the newest committed event. */
  long headSeq();

  Optional<Blob> blob(String key);

  List<Blob> blobs(String keyPrefix);

  List<ScopeRecord> scopes();

  // ---------------------------------------------------------------- notification

  void addListener(StoreListener listener);

  // ---------------------------------------------------------------- for metrics and health

  /** Stored objects (deleted ones not counted); -1 when unknown. */
  default long objectCount() {
    return -1;
  }

  /** Events kept in the event log over all types (what watches resume from); -1 when unknown. */
  default long eventLogLength() {
    return -1;
  }

  /** Whether the store is open for reads and writes. */
  default boolean isOpen() {
    return true;
  }

  @Override
  void close();
}
