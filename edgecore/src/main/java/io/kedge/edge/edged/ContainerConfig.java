package io.kedge.edge.edged;

import java.util.List;

/**
 * One container to start, with everything resolved: the command with its arguments (after {@code
 * $(VAR)} expansion), the environment in order, the mounts of prepared host directories.
 *
 * @param name the container's name in the pod
 * @param image the image (used by the CRI runtime; the process runtime pulls nothing)
 * @param command command and arguments; may be empty for CRI (the image's entrypoint)
 * @param commandSet whether the pod set {@code command} (CRI: else the image's entrypoint runs)
 * @param args the pod's {@code args} (CRI), already part of {@code command} for processes
 * @param workingDir the working directory; empty for the runtime's default
 * @param runAsUser numeric user
 * @param runAsGroup numeric group
 * @param supplementalGroups extra groups (fsGroup and supplementalGroups)
 * @param logPath the log file, relative to the sandbox's log directory
 * @param attempt how many times this container was started before (the kubelet's restart count)
 * @param resources CPU and memory requests and limits
 * @param imageRef the image as pulled (CRI: its id), empty for the process runtime
 */
public record ContainerConfig(
    String name,
    String image,
    List<String> command,
    boolean commandSet,
    List<String> args,
    List<EnvVar> env,
    List<Mount> mounts,
    String workingDir,
    long runAsUser,
    long runAsGroup,
    List<Long> supplementalGroups,
    String logPath,
    int attempt,
    ContainerResources resources,
    String imageRef) {

  /** This container, to run from {@code ref} (the image as the runtime pulled it). */
  public ContainerConfig withImageRef(String ref) {
    return new ContainerConfig(
        name,
        image,
        command,
        commandSet,
        args,
        env,
        mounts,
        workingDir,
        runAsUser,
        runAsGroup,
        supplementalGroups,
        logPath,
        attempt,
        resources,
        ref);
  }

  /** One environment variable, in the order the container gets them. */
  public record EnvVar(String name, String value) {}

  /**
   * A host file or directory made visible inside the container.
   *
   * @param hostPath prepared by Edged under the pod's directory
   * @param containerPath absolute path inside the container
   */
  public record Mount(java.nio.file.Path hostPath, String containerPath, boolean readOnly) {}
}
