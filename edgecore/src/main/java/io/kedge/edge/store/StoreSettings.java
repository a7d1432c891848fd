package io.kedge.edge.store;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How the store keeps its data.
 *
 * @param file the SQLite database ({@code database.dataSource})
 * @param fsync true: every commit reaches the disk before it completes (survives power loss);
 *     false: it reaches the OS (survives {@code kill -9} of edgecore only)
 * @param eventLogSize events kept per resource type for watch resumption
 * @param readConnections connections serving concurrent reads
 * @param tombstoneTtl how long deleted objects are remembered, so that late older versions are
 *     recognised as stale
 * @param maxBatch most writes committed in one transaction
 * @param writeQueue writes waiting for the writer before submitters block
 */
public record StoreSettings(
    Path file,
    boolean fsync,
    int eventLogSize,
    int readConnections,
    Duration tombstoneTtl,
    int maxBatch,
    int writeQueue) {

  public StoreSettings {
    if (eventLogSize < 1 || readConnections < 1 || maxBatch < 1 || writeQueue < 1) {
      throw new IllegalArgumentException("store sizes must be positive");
    }
  }

  public static StoreSettings defaults(Path file) {
    return new StoreSettings(file, true, 1000, 4, Duration.ofMinutes(30), 256, 4096);
  }

  public StoreSettings withEventLogSize(int n) {
    return new StoreSettings(file, fsync, n, readConnections, tombstoneTtl, maxBatch, writeQueue);
  }

  public StoreSettings withFsync(boolean f) {
    return new StoreSettings(
        file, f, eventLogSize, readConnections, tombstoneTtl, maxBatch, writeQueue);
  }
}
