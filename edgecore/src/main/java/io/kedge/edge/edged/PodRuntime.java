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

  /**
   * The pod's own address when its sandbox has a network namespace of its own; empty when the pod
   * uses the node's network (its address is then the node's).
   */
  default Optional<String> podIp(String sandboxId) {
    return Optional.empty();
  }

  /**
   * Whether containers run from images this runtime pulls and unpacks (CRI). The process runtime
   * runs host commands and uses no image.
   */
  default boolean usesImages() {
    return false;
  }

  /**
   * The image's reference on the node (repository digest, else its id) when it is present; empty
   * when it is not.
   */
  default Optional<String> imageRef(String image) throws RuntimeFailure {
    return Optional.empty();
  }

  /**
   * Pulls {@code image} from its registry, with {@code auth} or anonymously; returns the image's
   * reference. A failure's message is the runtime's (the registry's) error, as the kubelet shows
   * it.
   */
  default String pullImage(String image, Optional<RegistryAuth> auth, SandboxConfig sandbox)
      throws RuntimeFailure {
    throw new RuntimeFailure("ErrImagePull", "the " + name() + " runtime pulls no images");
  }

  /**
   * Runs {@code command} inside the running container (exec probes) and waits at most {@code
   * timeout} for it.
   */
  default ExecResult exec(String containerId, List<String> command, Duration timeout)
      throws RuntimeFailure {
    throw new RuntimeFailure("ExecUnsupported", "the " + name() + " runtime cannot exec");
  }

  /**
   * Starts {@code command} in the running container with the streams of {@code options}, for {@code
   * kubectl exec}.
   */
  default ContainerStreams.StreamTarget execStream(
      String containerId, List<String> command, ContainerStreams.StreamOptions options)
      throws RuntimeFailure {
    throw new RuntimeFailure("ExecUnsupported", "the " + name() + " runtime cannot exec");
  }

  /** Attaches to the running container's streams, for {@code kubectl attach}. */
  default ContainerStreams.StreamTarget attachStream(
      String containerId, ContainerStreams.StreamOptions options) throws RuntimeFailure {
    throw new RuntimeFailure("AttachUnsupported", "the " + name() + " runtime cannot attach");
  }

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

  /**
   * What an exec in a container ended with.
   *
   * @param output stdout and stderr, possibly cut short
   * @param timedOut the command did not finish in time (it was killed)
   */
  record ExecResult(int exitCode, String output, boolean timedOut) {}

  /**
   * Credentials for one registry, as CRI's {@code AuthConfig} takes them (from a {@code
   * .dockerconfigjson} entry).
   */
  record RegistryAuth(
      String username,
      String password,
      String auth,
      String serverAddress,
      String identityToken,
      String registryToken) {
    @Override
    public String toString() {
      return "RegistryAuth[" + serverAddress + ", user " + username + "]"; // no secrets in logs
    }
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
