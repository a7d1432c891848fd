package io.kedge.edge.store;

import java.util.List;

/**
 * What applying a change did: the events it logged (none when the change was stale or a duplicate),
 * and why nothing happened otherwise.
 */
public record ApplyResult(List<StoreEvent> events, String ignoredBecause) {

  public static ApplyResult applied(List<StoreEvent> events) {
    return new ApplyResult(List.copyOf(events), "");
  }

  public static ApplyResult ignored(String why) {
    return new ApplyResult(List.of(), why);
  }

  public boolean changed() {
    return !events.isEmpty();
  }
}
