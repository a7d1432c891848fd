package io.kedge.edge.edged;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Runs the containers of the node's pods. Edged decides what should run (spec, restart policy,
 * back-off, volumes, environment); a runtime only starts, stops and reports. Implementations: the
 * process runtime (host processes, the default) and the CRI runtime (containerd, in module {@code
 * edgecore-cri}, found through {@link PodRuntimeProvider}).
 *
 * <p>Calls for one pod come from one thread at a time; calls for different pods may be concurrent.
 */
public interface PodRuntime extends AutoCloseable {

  /** {@code process} or {@code cri}; also the scheme of container ids in pod status. */
  String name();

  /** How the runtime writes container log files. */
  LogFormat logFormat();

  /**
   * Creates the pod's sandbox (nothing for host processes; network/IPC namespaces and the pause
   * container for CRI). Idempotent for the same pod uid.
   */
  String runSandbox(SandboxConfig sandbox) throws RuntimeFailure;

  /** Creates and starts one container in the sandbox; returns its id. */
  String startContainer(String sandboxId, SandboxConfig sandbox, ContainerConfig container)
      throws RuntimeFailure;

  /** The container's state, or empty when the runtime does not know the id (anymore). */
  Optional<ContainerState> containerState(String containerId);

  /**
   * Asks the container to stop (SIGTERM), kills it after {@code grace}; returns once it is gone.
   */
  void stopContainer(String containerId, Duration grace);

  /** Forgets a stopped container (its log file stays until the pod is removed). */
  void removeContainer(String containerId);

  /** Stops and removes everything of the sandbox. */
  void removeSandbox(String sandboxId, Duration grace);

  /**
   * Starts the container's log file afresh after its content was copied to {@code rotatedTo}
   * (copy-then-truncate for processes writing straight into the file; rename + reopen for CRI).
   */
  void rotateLog(String containerId, java.nio.file.Path log, java.nio.file.Path rotatedTo)
      throws RuntimeFailure;

  /** Sandboxes left from an earlier edgecore run, by pod uid, so they can be cleaned up. */
  default List<String> leftoverSandboxes() {
    return List.of();
  }

  /** Called with a container id whenever a container of this runtime changes state. */
  void setListener(ContainerListener listener);

  @Override
  void close();

  enum LogFormat {
    /** The container's stdout and stderr, byte for byte. */
    PLAIN,
    /** CRI log lines: {@code <RFC3339Nano> <stdout|stderr> <F|P> <content>}. */
    CRI
  }

  @FunctionalInterface
  interface ContainerListener {
    void changed(String containerId);
  }

  /** The runtime could not do what it was asked; {@code reason} goes into the pod status. */
  class RuntimeFailure extends Exception {
    private final String reason;

    public RuntimeFailure(String reason, String message) {
      super(message);
      this.reason = reason;
    }

    public RuntimeFailure(String reason, String message, Throwable cause) {
      super(message, cause);
      this.reason = reason;
    }

    public String reason() {
      return reason;
    }
  }
}
