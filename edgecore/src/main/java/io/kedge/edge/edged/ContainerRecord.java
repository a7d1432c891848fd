package io.kedge.edge.edged;

import java.time.Instant;

/** What Edged remembers about one container of a pod across its restarts. */
final class ContainerRecord {
  final String name;
  final boolean init;
  String image = "";
  String specHash = "";

  /** The runtime's id of the current instance; null before the first start. */
  String id;

  int restartCount;

  /** How far the restart back-off has grown. */
  int backoffLevel;

  /** The current instance's state as last seen. */
  ContainerState current;

  /** The previous instance's end. */
  ContainerState lastTerminated;

  /** The exit of {@link #current} was handled (restart decided). */
  boolean exitHandled;

  /** Why the container is not running, when it is waiting. */
  String waitingReason = ContainerConfigException.NOT_READY;

  String waitingMessage = "";
  Instant notBefore = Instant.EPOCH;

  /** Init containers: finished successfully. */
  boolean done;

  ContainerRecord(String name, boolean init) {
    this.name = name;
    this.init = init;
  }

  boolean running() {
    return current != null && current.running();
  }

  boolean terminated() {
    return current != null && current.exited();
  }

  void waiting(String reason, String message) {
    waitingReason = reason;
    waitingMessage = message == null ? "" : message;
  }
}
