package io.kedge.edge.cri;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.kedge.edge.cri.api.ContainerMetadata;
import io.kedge.edge.cri.api.ContainerStatusRequest;
import io.kedge.edge.cri.api.CreateContainerRequest;
import io.kedge.edge.cri.api.ImageSpec;
import io.kedge.edge.cri.api.ImageStatusRequest;
import io.kedge.edge.cri.api.ImageStatusResponse;
import io.kedge.edge.cri.api.Int64Value;
import io.kedge.edge.cri.api.KeyValue;
import io.kedge.edge.cri.api.LinuxContainerConfig;
import io.kedge.edge.cri.api.LinuxContainerSecurityContext;
import io.kedge.edge.cri.api.LinuxPodSandboxConfig;
import io.kedge.edge.cri.api.LinuxSandboxSecurityContext;
import io.kedge.edge.cri.api.ListPodSandboxRequest;
import io.kedge.edge.cri.api.Mount;
import io.kedge.edge.cri.api.NamespaceMode;
import io.kedge.edge.cri.api.NamespaceOption;
import io.kedge.edge.cri.api.PodSandbox;
import io.kedge.edge.cri.api.PodSandboxConfig;
import io.kedge.edge.cri.api.PodSandboxFilter;
import io.kedge.edge.cri.api.PodSandboxMetadata;
import io.kedge.edge.cri.api.RemoveContainerRequest;
import io.kedge.edge.cri.api.RemovePodSandboxRequest;
import io.kedge.edge.cri.api.ReopenContainerLogRequest;
import io.kedge.edge.cri.api.RunPodSandboxRequest;
import io.kedge.edge.cri.api.StartContainerRequest;
import io.kedge.edge.cri.api.StopContainerRequest;
import io.kedge.edge.cri.api.StopPodSandboxRequest;
import io.kedge.edge.cri.api.VersionRequest;
import io.kedge.edge.cri.api.VersionResponse;
import io.kedge.edge.edged.ContainerConfig;
import io.kedge.edge.edged.ContainerState;
import io.kedge.edge.edged.PodRuntime;
import io.kedge.edge.edged.SandboxConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs pods through a CRI v1 runtime (containerd), as KubeEdge's edged does: one sandbox per pod in
 * the host network, one container per pod container, images used as they are on the node (nothing
 * is pulled: import images with {@code ctr -n k8s.io images import}). Exits are noticed by polling
 * the containers Edged started.
 */
public final class CriRuntime implements PodRuntime {
  private static final Logger log = LoggerFactory.getLogger(CriRuntime.class);
  static final String MANAGED_LABEL = "io.kedge.managed";

  private final CriClient client;
  private final String runtimeName;
  private final Clock clock;
  private final Map<String, ContainerState.Phase> watched = new ConcurrentHashMap<>();
  private final ScheduledExecutorService poller =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "edged-cri-poller");
            t.setDaemon(true);
            return t;
          });
  private volatile ContainerListener listener = id -> {};

  /** Connects to {@code endpoint} and checks that a CRI v1 runtime answers there. */
  public CriRuntime(String endpoint, Duration timeout, Clock clock) throws RuntimeFailure {
    this.client = new CriClient(endpoint, timeout);
    this.clock = clock;
    try {
      VersionResponse v =
          client.call(CriClient.VERSION, VersionRequest.newBuilder().setVersion("v1").build());
      this.runtimeName = v.getRuntimeName().isEmpty() ? "cri" : v.getRuntimeName();
      log.info(
          "CRI runtime {} {} (API {}) at {}",
          v.getRuntimeName(),
          v.getRuntimeVersion(),
          v.getRuntimeApiVersion(),
          endpoint);
    } catch (StatusRuntimeException e) {
      client.close();
      throw new RuntimeFailure(
          "RuntimeUnavailable",
          "no CRI v1 runtime answers at " + endpoint + ": " + e.getStatus(),
          e);
    }
    poller.scheduleWithFixedDelay(this::poll, 1, 1, TimeUnit.SECONDS);
  }

  @Override
  public String name() {
    return runtimeName;
  }

  @Override
  public LogFormat logFormat() {
    return LogFormat.CRI;
  }

  @Override
  public void setListener(ContainerListener listener) {
    this.listener = listener;
  }

  static PodSandboxConfig sandboxConfig(SandboxConfig s) {
    return PodSandboxConfig.newBuilder()
        .setMetadata(
            PodSandboxMetadata.newBuilder()
                .setName(s.name())
                .setNamespace(s.namespace())
                .setUid(s.uid())
                .setAttempt(0))
        // Host network: the hostname stays the node's (containerd requires it empty here).
        .setLogDirectory(s.logDirectory().toString())
        .putAllLabels(s.labels())
        .putLabels("io.kubernetes.pod.name", s.name())
        .putLabels("io.kubernetes.pod.namespace", s.namespace())
        .putLabels("io.kubernetes.pod.uid", s.uid())
        .putLabels(MANAGED_LABEL, "true")
        .putAllAnnotations(s.annotations())
        .setLinux(
            LinuxPodSandboxConfig.newBuilder()
                .setSecurityContext(
                    LinuxSandboxSecurityContext.newBuilder()
                        .setNamespaceOptions(
                            NamespaceOption.newBuilder()
                                .setNetwork(NamespaceMode.NODE)
                                .setPid(NamespaceMode.CONTAINER)
                                .setIpc(NamespaceMode.POD))))
        .build();
  }

  @Override
  public String runSandbox(SandboxConfig sandbox) throws RuntimeFailure {
    try {
      Files.createDirectories(sandbox.logDirectory());
      String id =
          client
              .call(
                  CriClient.RUN_POD_SANDBOX,
                  RunPodSandboxRequest.newBuilder().setConfig(sandboxConfig(sandbox)).build(),
                  Duration.ofMinutes(2))
              .getPodSandboxId();
      log.info("sandbox {} for pod {}/{}", id, sandbox.namespace(), sandbox.name());
      return id;
    } catch (StatusRuntimeException e) {
      throw new RuntimeFailure(
          "CreatePodSandboxError", "RunPodSandbox failed: " + e.getStatus().getDescription(), e);
    } catch (IOException e) {
      throw new RuntimeFailure(
          "CreatePodSandboxError", "cannot create " + sandbox.logDirectory(), e);
    }
  }

  @Override
  public String startContainer(String sandboxId, SandboxConfig sandbox, ContainerConfig c)
      throws RuntimeFailure {
    ImageStatusResponse image;
    try {
      image =
          client.call(
              CriClient.IMAGE_STATUS,
              ImageStatusRequest.newBuilder()
                  .setImage(ImageSpec.newBuilder().setImage(c.image()))
                  .build());
    } catch (StatusRuntimeException e) {
      throw new RuntimeFailure("InspectFailed", "ImageStatus failed: " + e.getStatus(), e);
    }
    if (!image.hasImage() || image.getImage().getId().isEmpty()) {
      throw new RuntimeFailure(
          "ErrImageNeverPull",
          "Container image \""
              + c.image()
              + "\" is not present on the node; edged pulls no images (import it with"
              + " 'ctr -n k8s.io images import')");
    }
    List<String> command = new ArrayList<>();
    if (c.commandSet()) {
      command.addAll(c.command().subList(0, c.command().size() - c.args().size()));
    }
    LinuxContainerSecurityContext.Builder sec =
        LinuxContainerSecurityContext.newBuilder()
            .setRunAsUser(Int64Value.newBuilder().setValue(c.runAsUser()))
            .setRunAsGroup(Int64Value.newBuilder().setValue(c.runAsGroup()))
            .addAllSupplementalGroups(c.supplementalGroups())
            .setNamespaceOptions(
                NamespaceOption.newBuilder()
                    .setNetwork(NamespaceMode.NODE)
                    .setPid(NamespaceMode.CONTAINER)
                    .setIpc(NamespaceMode.POD));
    io.kedge.edge.cri.api.ContainerConfig.Builder cfg =
        io.kedge.edge.cri.api.ContainerConfig.newBuilder()
            .setMetadata(ContainerMetadata.newBuilder().setName(c.name()).setAttempt(c.attempt()))
            .setImage(ImageSpec.newBuilder().setImage(image.getImage().getId()))
            .addAllCommand(command)
            .addAllArgs(c.args())
            .setWorkingDir(c.workingDir())
            .setLogPath(c.logPath())
            .putLabels("io.kubernetes.container.name", c.name())
            .putLabels("io.kubernetes.pod.name", sandbox.name())
            .putLabels("io.kubernetes.pod.namespace", sandbox.namespace())
            .putLabels("io.kubernetes.pod.uid", sandbox.uid())
            .putLabels(MANAGED_LABEL, "true")
            .setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(sec));
    for (ContainerConfig.EnvVar v : c.env()) {
      cfg.addEnvs(KeyValue.newBuilder().setKey(v.name()).setValue(v.value()));
    }
    for (ContainerConfig.Mount m : c.mounts()) {
      cfg.addMounts(
          Mount.newBuilder()
              .setHostPath(m.hostPath().toString())
              .setContainerPath(m.containerPath())
              .setReadonly(m.readOnly()));
    }
    String id;
    try {
      id =
          client
              .call(
                  CriClient.CREATE_CONTAINER,
                  CreateContainerRequest.newBuilder()
                      .setPodSandboxId(sandboxId)
                      .setConfig(cfg)
                      .setSandboxConfig(sandboxConfig(sandbox))
                      .build(),
                  Duration.ofMinutes(2))
              .getContainerId();
    } catch (StatusRuntimeException e) {
      throw new RuntimeFailure(
          "CreateContainerError", "CreateContainer failed: " + e.getStatus().getDescription(), e);
    }
    try {
      client.call(
          CriClient.START_CONTAINER,
          StartContainerRequest.newBuilder().setContainerId(id).build(),
          Duration.ofMinutes(2));
    } catch (StatusRuntimeException e) {
      // Keep it: its status (exited, StartError) tells the pod why.
      log.warn("StartContainer {} failed: {}", id, e.getStatus());
    }
    watched.put(id, ContainerState.Phase.CREATED);
    log.info(
        "started container {} of pod {}/{} (id {})",
        c.name(),
        sandbox.namespace(),
        sandbox.name(),
        id);
    return id;
  }

  @Override
  public Optional<ContainerState> containerState(String containerId) {
    try {
      var s =
          client
              .call(
                  CriClient.CONTAINER_STATUS,
                  ContainerStatusRequest.newBuilder().setContainerId(containerId).build())
              .getStatus();
      ContainerState.Phase phase =
          switch (s.getState()) {
            case CONTAINER_CREATED -> ContainerState.Phase.CREATED;
            case CONTAINER_RUNNING -> ContainerState.Phase.RUNNING;
            case CONTAINER_EXITED -> ContainerState.Phase.EXITED;
            default -> ContainerState.Phase.UNKNOWN;
          };
      String reason = s.getReason();
      if (phase == ContainerState.Phase.EXITED && reason.isEmpty()) {
        reason = s.getExitCode() == 0 ? "Completed" : "Error";
      }
      return Optional.of(
          new ContainerState(
              containerId,
              phase,
              instant(s.getCreatedAt()),
              instant(s.getStartedAt()),
              instant(s.getFinishedAt()),
              s.getExitCode(),
              reason,
              s.getMessage()));
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return Optional.empty();
      }
      log.warn("ContainerStatus {} failed: {}", containerId, e.getStatus());
      return Optional.of(
          new ContainerState(
              containerId, ContainerState.Phase.UNKNOWN, null, null, null, 0, "Unknown", ""));
    }
  }

  @Override
  public void stopContainer(String containerId, Duration grace) {
    try {
      client.call(
          CriClient.STOP_CONTAINER,
          StopContainerRequest.newBuilder()
              .setContainerId(containerId)
              .setTimeout(Math.max(0, grace.toSeconds()))
              .build(),
          grace.plusSeconds(60));
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        log.warn("StopContainer {} failed: {}", containerId, e.getStatus());
      }
    }
    listener.changed(containerId);
  }

  @Override
  public void removeContainer(String containerId) {
    watched.remove(containerId);
    try {
      client.call(
          CriClient.REMOVE_CONTAINER,
          RemoveContainerRequest.newBuilder().setContainerId(containerId).build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        log.warn("RemoveContainer {} failed: {}", containerId, e.getStatus());
      }
    }
  }

  @Override
  public void removeSandbox(String sandboxId, Duration grace) {
    try {
      client.call(
          CriClient.STOP_POD_SANDBOX,
          StopPodSandboxRequest.newBuilder().setPodSandboxId(sandboxId).build(),
          grace.plusSeconds(60));
      client.call(
          CriClient.REMOVE_POD_SANDBOX,
          RemovePodSandboxRequest.newBuilder().setPodSandboxId(sandboxId).build(),
          Duration.ofSeconds(60));
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        log.warn("removing sandbox {} failed: {}", sandboxId, e.getStatus());
      }
    }
  }

  @Override
  public void rotateLog(String containerId, Path logFile, Path rotatedTo) throws RuntimeFailure {
    try {
      Files.move(logFile, rotatedTo, StandardCopyOption.REPLACE_EXISTING);
      client.call(
          CriClient.REOPEN_CONTAINER_LOG,
          ReopenContainerLogRequest.newBuilder().setContainerId(containerId).build());
    } catch (IOException | StatusRuntimeException e) {
      throw new RuntimeFailure("LogRotation", "cannot rotate " + logFile + ": " + e, e);
    }
  }

  @Override
  public List<String> leftoverSandboxes() {
    try {
      List<String> ids = new ArrayList<>();
      for (PodSandbox s :
          client
              .call(
                  CriClient.LIST_POD_SANDBOX,
                  ListPodSandboxRequest.newBuilder()
                      .setFilter(
                          PodSandboxFilter.newBuilder().putLabelSelector(MANAGED_LABEL, "true"))
                      .build())
              .getItemsList()) {
        ids.add(s.getId());
      }
      return ids;
    } catch (StatusRuntimeException e) {
      log.warn("ListPodSandbox failed: {}", e.getStatus());
      return List.of();
    }
  }

  /** The CRI has no push for exits here: look at the running containers once a second. */
  private void poll() {
    for (Map.Entry<String, ContainerState.Phase> e : watched.entrySet()) {
      try {
        ContainerState.Phase now =
            containerState(e.getKey())
                .map(ContainerState::phase)
                .orElse(ContainerState.Phase.EXITED);
        if (now != e.getValue()) {
          watched.put(e.getKey(), now);
          listener.changed(e.getKey());
        }
      } catch (RuntimeException ex) {
        log.debug("polling {} failed", e.getKey(), ex);
      }
    }
  }

  private static Instant instant(long nanos) {
    return nanos <= 0 ? null : Instant.ofEpochSecond(0, nanos);
  }

  @Override
  public void close() {
    poller.shutdownNow();
    client.close();
  }

  Clock clock() {
    return clock;
  }
}
