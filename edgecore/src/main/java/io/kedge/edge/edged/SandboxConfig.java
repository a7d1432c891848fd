package io.kedge.edge.edged;

import java.nio.file.Path;
import java.util.Map;

/**
 * A pod's sandbox as the runtime needs it.
 *
 * @param podDirectory the pod's directory under {@code rootDirectory} (volumes, logs, homes)
 * @param logDirectory where container logs go ({@link ContainerConfig#logPath} is relative to it)
 * @param hostNetwork the pod uses the node's network namespace ({@code spec.hostNetwork}); the
 *     process runtime always does
 * @param cgroupParent the pod's cgroup (absolute cgroup path), empty when Edged has none
 */
public record SandboxConfig(
    String namespace,
    String name,
    String uid,
    String hostname,
    Path podDirectory,
    Path logDirectory,
    Map<String, String> labels,
    Map<String, String> annotations,
    boolean hostNetwork,
    String cgroupParent) {}
