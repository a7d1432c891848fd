package io.kedge.edge.store;

/** Kinds of entries in the event log. {@link #SYNC} marks a completed list and is never sent. */
public enum EventType {
  ADDED,
  MODIFIED,
  DELETED,
  SYNC
}
