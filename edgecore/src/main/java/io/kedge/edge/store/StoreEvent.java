package io.kedge.edge.store;

/**
 * One committed change in the event log. {@code seq} orders all events of the store as they were
 * committed; {@code highwater} is the largest resourceVersion of the type known at that point (so a
 * client holding resourceVersion X has seen everything up to the first event whose highwater
 * reaches X). {@code object} is the object after the change (for DELETED, its last state); {@code
 * previous} the object before it, or null.
 */
public record StoreEvent(
    long seq,
    EventType type,
    Gvr gvr,
    String namespace,
    String name,
    long resourceVersion,
    long highwater,
    byte[] object,
    byte[] previous) {

  public boolean isSync() {
    return type == EventType.SYNC;
  }
}
