package io.kedge.edge.edged;

import java.time.Instant;

/**
 * What Edged remembers about one container of a pod across its restarts. Written by the pod's
 * worker under its monitor; the fields log readers use are volatile so they read them without it.
 */
final class ContainerRecord {
  final String name;
  final boolean init;
  String image = "";
  String specHash = "";

  /** The runtime's id of the current instance; null before the first start. */
  volatile String id;

  volatile int restartCount;

  /** How far the restart back-off has grown. */
  int backoffLevel;

  /** The current instance's state as last seen. */
  volatile ContainerState current;

  /** The previous instance's end. */
  volatile ContainerState lastTerminated;

  /** The exit of {@link #current} was handled (restart decided). */
  boolean exitHandled;

  /** Why the container is not running, when it is waiting. */
  volatile String waitingReason = ContainerConfigException.NOT_READY;

  String waitingMessage = "";
  Instant notBefore = Instant.EPOCH;

  /** Init containers: finished successfully. */
  boolean done;

  /** The image as the runtime has it (digest or id), once pulled or found. */
  String imageId = "";

  /** Pulls of this container's image: back-off across syncs. */
  final ImagePulls.State pulls = new ImagePulls.State();

  /** The probes of the current instance; null when it has none or is not running. */
  ContainerProbes probes;

  /** The process runtime said once that it uses no image. */
  boolean imageNoticeGiven;

  ContainerRecord(String name, boolean init) {
    this.name = name;
    this.init = init;
  }

  boolean running() {
    return current != null && current.running();
  }

  /** Running and started: no startup probe, or it succeeded. */
  boolean started() {
    return running() && (probes == null || probes.started());
  }

  /** Started, and its readiness probe (if any) says ready. */
  boolean ready() {
    return running() && (probes == null || probes.ready());
  }

  void stopProbes() {
    if (probes != null) {
      probes.stop();
      probes = null;
    }
  }

  boolean terminated() {
    return current != null && current.exited();
  }

  void waiting(String reason, String message) {
    waitingReason = reason;
    waitingMessage = message == null ? "" : message;
  }
}
