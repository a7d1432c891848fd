package io.kedge.edge.edged;

import java.time.Instant;

/**
 * What a runtime knows about one container.
 *
 * @param exitCode valid when {@code phase} is {@link Phase#EXITED}
 * @param reason for exited containers: {@code Completed}, {@code Error}, {@code StartError}, {@code
 *     OOMKilled}, …
 * @param message a human-readable explanation, may be empty
 */
public record ContainerState(
    String id,
    Phase phase,
    Instant createdAt,
    Instant startedAt,
    Instant finishedAt,
    int exitCode,
    String reason,
    String message) {

  public enum Phase {
    CREATED,
    RUNNING,
    EXITED,
    UNKNOWN
  }

  public boolean running() {
    return phase == Phase.RUNNING;
  }

  public boolean exited() {
    return phase == Phase.EXITED;
  }
}
