package io.kedge.edge.cri;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.kedge.edge.cri.api.AuthConfig;
import io.kedge.edge.cri.api.ContainerMetadata;
import io.kedge.edge.cri.api.ContainerStatusRequest;
import io.kedge.edge.cri.api.CreateContainerRequest;
import io.kedge.edge.cri.api.ExecSyncRequest;
import io.kedge.edge.cri.api.ExecSyncResponse;
import io.kedge.edge.cri.api.ImageSpec;
import io.kedge.edge.cri.api.ImageStatusRequest;
import io.kedge.edge.cri.api.ImageStatusResponse;
import io.kedge.edge.cri.api.Int64Value;
import io.kedge.edge.cri.api.KeyValue;
import io.kedge.edge.cri.api.LinuxContainerConfig;
import io.kedge.edge.cri.api.LinuxContainerResources;
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
import io.kedge.edge.cri.api.PodSandboxStatusRequest;
import io.kedge.edge.cri.api.PullImageRequest;
import io.kedge.edge.cri.api.RemoveContainerRequest;
import io.kedge.edge.cri.api.RemovePodSandboxRequest;
import io.kedge.edge.cri.api.ReopenContainerLogRequest;
import io.kedge.edge.cri.api.RunPodSandboxRequest;
import io.kedge.edge.cri.api.RuntimeCondition;
import io.kedge.edge.cri.api.StartContainerRequest;
import io.kedge.edge.cri.api.StatusRequest;
import io.kedge.edge.cri.api.StopContainerRequest;
import io.kedge.edge.cri.api.StopPodSandboxRequest;
import io.kedge.edge.cri.api.VersionRequest;
import io.kedge.edge.cri.api.VersionResponse;
import io.kedge.edge.edged.ContainerConfig;
import io.kedge.edge.edged.ContainerResources;
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
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs pods through a CRI v1 runtime (containerd), as the kubelet does: one sandbox per pod, in the
 * host network for {@code hostNetwork} pods and in a network namespace of its own (the runtime's
 * CNI) for the others, below the pod's cgroup; one container per pod container with its CPU and
 * memory limits; images pulled through the runtime with the credentials Edged found. Exits are
 * noticed by polling the containers Edged started.
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
        // Host network: the hostname stays the node's (containerd requires it empty there).
        .setHostname(s.hostNetwork() ? "" : hostname(s.name()))
        .setLogDirectory(s.logDirectory().toString())
        .putAllLabels(s.labels())
        .putLabels("io.kubernetes.pod.name", s.name())
        .putLabels("io.kubernetes.pod.namespace", s.namespace())
        .putLabels("io.kubernetes.pod.uid", s.uid())
        .putLabels(MANAGED_LABEL, "true")
        .putAllAnnotations(s.annotations())
        .setLinux(
            LinuxPodSandboxConfig.newBuilder()
                .setCgroupParent(s.cgroupParent())
                .setSecurityContext(
                    LinuxSandboxSecurityContext.newBuilder()
                        .setNamespaceOptions(
                            NamespaceOption.newBuilder()
                                .setNetwork(network(s))
                                .setPid(NamespaceMode.CONTAINER)
                                .setIpc(NamespaceMode.POD))))
        .build();
  }

  private static NamespaceMode network(SandboxConfig s) {
    return s.hostNetwork() ? NamespaceMode.NODE : NamespaceMode.POD;
  }

  /** The kubelet's pod hostname: the pod's name, cut to a DNS label. */
  static String hostname(String podName) {
    String h = podName.length() > 63 ? podName.substring(0, 63) : podName;
    return h.replaceAll("[-.]+$", "");
  }

  @Override
  public String runSandbox(SandboxConfig sandbox) throws RuntimeFailure {
    if (!sandbox.hostNetwork()) {
      checkNetworkReady();
    }
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
      throw new RuntimeFailure("CreatePodSandboxError", "RunPodSandbox failed: " + goError(e), e);
    } catch (IOException e) {
      throw new RuntimeFailure(
          "CreatePodSandboxError", "cannot create " + sandbox.logDirectory(), e);
    }
  }

  /**
   * A pod with a network of its own needs the runtime's network (CNI) to be ready; without it
   * containerd would leave a sandbox it cannot clean up. Says why, as the kubelet does.
   */
  private void checkNetworkReady() throws RuntimeFailure {
    try {
      for (RuntimeCondition c :
          client
              .call(CriClient.STATUS, StatusRequest.getDefaultInstance())
              .getStatus()
              .getConditionsList()) {
        if (c.getType().equals("NetworkReady") && !c.getStatus()) {
          throw new RuntimeFailure(
              "ContainerCreating",
              "network is not ready: container runtime network not ready: NetworkReady=false"
                  + " reason:"
                  + c.getReason()
                  + " message:"
                  + c.getMessage()
                  + " (pods without hostNetwork need a CNI network: see the README's Edged"
                  + " section)");
        }
      }
    } catch (StatusRuntimeException e) {
      throw new RuntimeFailure("ContainerCreating", "runtime status: " + goError(e), e);
    }
  }

  @Override
  public Optional<String> podIp(String sandboxId) {
    try {
      String ip =
          client
              .call(
                  CriClient.POD_SANDBOX_STATUS,
                  PodSandboxStatusRequest.newBuilder().setPodSandboxId(sandboxId).build())
              .getStatus()
              .getNetwork()
              .getIp();
      return ip.isEmpty() ? Optional.empty() : Optional.of(ip);
    } catch (StatusRuntimeException e) {
      log.warn("PodSandboxStatus {} failed: {}", sandboxId, e.getStatus());
      return Optional.empty();
    }
  }

  @Override
  public boolean usesImages() {
    return true;
  }

  /** The image's id when containerd has it. */
  @Override
  public Optional<String> imageRef(String image) throws RuntimeFailure {
    try {
      ImageStatusResponse r =
          client.call(
              CriClient.IMAGE_STATUS,
              ImageStatusRequest.newBuilder()
                  .setImage(ImageSpec.newBuilder().setImage(image))
                  .build());
      if (!r.hasImage() || r.getImage().getId().isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(r.getImage().getId());
    } catch (StatusRuntimeException e) {
      throw new RuntimeFailure("ImageInspectError", goError(e), e);
    }
  }

  @Override
  public String pullImage(String image, Optional<RegistryAuth> auth, SandboxConfig sandbox)
      throws RuntimeFailure {
    PullImageRequest.Builder req =
        PullImageRequest.newBuilder()
            .setImage(ImageSpec.newBuilder().setImage(image))
            .setSandboxConfig(sandboxConfig(sandbox));
    auth.ifPresent(
        a ->
            req.setAuth(
                AuthConfig.newBuilder()
                    .setUsername(a.username())
                    .setPassword(a.password())
                    .setAuth(a.auth())
                    .setServerAddress(serverAddress(a.serverAddress()))
                    .setIdentityToken(a.identityToken())
                    .setRegistryToken(a.registryToken())));
    try {
      return client.call(CriClient.PULL_IMAGE, req.build(), PULL_TIMEOUT).getImageRef();
    } catch (StatusRuntimeException e) {
      throw new RuntimeFailure("ErrImagePull", goError(e), e);
    }
  }

  /**
   * The credentials' registry as containerd matches it against the host it contacts: a URL whose
   * host is the registry's (a Docker config key such as {@code 127.0.0.1:5000} is no URL to Go).
   * Docker Hub's keys name {@code index.docker.io} while containerd talks to {@code
   * registry-1.docker.io}: for those, none (Edged already chose these credentials for the image).
   */
  static String serverAddress(String key) {
    String k = key.contains("://") ? key.substring(key.indexOf("://") + 3) : key;
    int slash = k.indexOf('/');
    String host = slash < 0 ? k : k.substring(0, slash);
    if (host.isEmpty() || host.endsWith("docker.io")) {
      return "";
    }
    return "https://" + host;
  }

  /** Longest a pull may take (the kubelet's runtime request timeout does not apply to pulls). */
  static final Duration PULL_TIMEOUT = Duration.ofMinutes(15);

  @Override
  public ExecResult exec(String containerId, List<String> command, Duration timeout)
      throws RuntimeFailure {
    long seconds = Math.max(1, (timeout.toMillis() + 999) / 1000);
    try {
      ExecSyncResponse r =
          client.call(
              CriClient.EXEC_SYNC,
              ExecSyncRequest.newBuilder()
                  .setContainerId(containerId)
                  .addAllCmd(command)
                  .setTimeout(seconds)
                  .build(),
              Duration.ofSeconds(seconds + 30));
      String out = r.getStdout().toStringUtf8() + r.getStderr().toStringUtf8();
      return new ExecResult(r.getExitCode(), out, false);
    } catch (StatusRuntimeException e) {
      String d = String.valueOf(e.getStatus().getDescription());
      if (e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED
          || d.contains("timeout") && d.contains("exceeded")) {
        return new ExecResult(-1, "", true);
      }
      throw new RuntimeFailure("ExecFailed", goError(e), e);
    }
  }

  /**
   * {@code kubectl exec}: CRI {@code Exec} gives the URL of containerd's streaming server, where
   * Edged proxies the client's request as the kubelet does.
   */
  @Override
  public io.kedge.edge.edged.ContainerStreams.StreamTarget execStream(
      String containerId,
      List<String> command,
      io.kedge.edge.edged.ContainerStreams.StreamOptions o)
      throws RuntimeFailure {
    try {
      var r =
          client.call(
              CriClient.EXEC,
              io.kedge.edge.cri.api.ExecRequest.newBuilder()
                  .setContainerId(containerId)
                  .addAllCmd(command)
                  .setTty(o.tty())
                  .setStdin(o.stdin())
                  .setStdout(o.stdout())
                  .setStderr(o.stderr())
                  .build());
      return new io.kedge.edge.edged.ContainerStreams.Url(r.getUrl());
    } catch (StatusRuntimeException e) {
      throw new RuntimeFailure("ExecFailed", goError(e), e);
    }
  }

  /** {@code kubectl attach}: CRI {@code Attach}, proxied like exec. */
  @Override
  public io.kedge.edge.edged.ContainerStreams.StreamTarget attachStream(
      String containerId, io.kedge.edge.edged.ContainerStreams.StreamOptions o)
      throws RuntimeFailure {
    try {
      var r =
          client.call(
              CriClient.ATTACH,
              io.kedge.edge.cri.api.AttachRequest.newBuilder()
                  .setContainerId(containerId)
                  .setTty(o.tty())
                  .setStdin(o.stdin())
                  .setStdout(o.stdout())
                  .setStderr(o.stderr())
                  .build());
      return new io.kedge.edge.edged.ContainerStreams.Url(r.getUrl());
    } catch (StatusRuntimeException e) {
      throw new RuntimeFailure("AttachFailed", goError(e), e);
    }
  }

  /** A gRPC error as the kubelet (Go) prints one: {@code rpc error: code = X desc = …}. */
  static String goError(StatusRuntimeException e) {
    StringBuilder code = new StringBuilder();
    for (String part : e.getStatus().getCode().name().split("_")) {
      code.append(part.charAt(0)).append(part.substring(1).toLowerCase(Locale.ROOT));
    }
    String name = code.toString().replace("Ok", "OK");
    return "rpc error: code = " + name + " desc = " + e.getStatus().getDescription();
  }

  static LinuxContainerResources resources(ContainerResources r) {
    LinuxContainerResources.Builder b =
        LinuxContainerResources.newBuilder()
            .setCpuPeriod(ContainerResources.CPU_PERIOD_US)
            .setCpuShares(r.cpuShares());
    if (r.cpuQuotaMicros() > 0) {
      b.setCpuQuota(r.cpuQuotaMicros());
    }
    if (r.memoryLimitBytes() > 0) {
      b.setMemoryLimitInBytes(r.memoryLimitBytes());
    }
    return b.build();
  }

  @Override
  public String startContainer(String sandboxId, SandboxConfig sandbox, ContainerConfig c)
      throws RuntimeFailure {
    String imageId = c.imageRef();
    if (imageId.isEmpty()) {
      imageId =
          imageRef(c.image())
              .orElseThrow(
                  () ->
                      new RuntimeFailure(
                          "ErrImageNeverPull",
                          "Container image \"" + c.image() + "\" is not present on the node"));
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
                    .setNetwork(network(sandbox))
                    .setPid(NamespaceMode.CONTAINER)
                    .setIpc(NamespaceMode.POD));
    io.kedge.edge.cri.api.ContainerConfig.Builder cfg =
        io.kedge.edge.cri.api.ContainerConfig.newBuilder()
            .setMetadata(ContainerMetadata.newBuilder().setName(c.name()).setAttempt(c.attempt()))
            .setImage(ImageSpec.newBuilder().setImage(imageId))
            .addAllCommand(command)
            .addAllArgs(c.args())
            .setWorkingDir(c.workingDir())
            .setLogPath(c.logPath())
            .putLabels("io.kubernetes.container.name", c.name())
            .putLabels("io.kubernetes.pod.name", sandbox.name())
            .putLabels("io.kubernetes.pod.namespace", sandbox.namespace())
            .putLabels("io.kubernetes.pod.uid", sandbox.uid())
            .putLabels(MANAGED_LABEL, "true")
            .setLinux(
                LinuxContainerConfig.newBuilder()
                    .setResources(resources(c.resources()))
                    .setSecurityContext(sec));
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
