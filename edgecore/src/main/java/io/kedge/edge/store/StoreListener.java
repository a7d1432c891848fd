package io.kedge.edge.store;

import java.util.List;

/**
 * Told about events right after they are committed, in sequence order, on the store's writer
 * thread: must be quick and must not block.
 */
@FunctionalInterface
public interface StoreListener {
  void committed(List<StoreEvent> events);
}
