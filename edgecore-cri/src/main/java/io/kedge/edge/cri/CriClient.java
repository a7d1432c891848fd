package io.kedge.edge.cri;

import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.kedge.edge.cri.api.ContainerStatusRequest;
import io.kedge.edge.cri.api.ContainerStatusResponse;
import io.kedge.edge.cri.api.CreateContainerRequest;
import io.kedge.edge.cri.api.CreateContainerResponse;
import io.kedge.edge.cri.api.ExecSyncRequest;
import io.kedge.edge.cri.api.ExecSyncResponse;
import io.kedge.edge.cri.api.ImageStatusRequest;
import io.kedge.edge.cri.api.ImageStatusResponse;
import io.kedge.edge.cri.api.ListPodSandboxRequest;
import io.kedge.edge.cri.api.ListPodSandboxResponse;
import io.kedge.edge.cri.api.PodSandboxStatusRequest;
import io.kedge.edge.cri.api.PodSandboxStatusResponse;
import io.kedge.edge.cri.api.PullImageRequest;
import io.kedge.edge.cri.api.PullImageResponse;
import io.kedge.edge.cri.api.RemoveContainerRequest;
import io.kedge.edge.cri.api.RemoveContainerResponse;
import io.kedge.edge.cri.api.RemovePodSandboxRequest;
import io.kedge.edge.cri.api.RemovePodSandboxResponse;
import io.kedge.edge.cri.api.ReopenContainerLogRequest;
import io.kedge.edge.cri.api.ReopenContainerLogResponse;
import io.kedge.edge.cri.api.RunPodSandboxRequest;
import io.kedge.edge.cri.api.RunPodSandboxResponse;
import io.kedge.edge.cri.api.StartContainerRequest;
import io.kedge.edge.cri.api.StartContainerResponse;
import io.kedge.edge.cri.api.StatusRequest;
import io.kedge.edge.cri.api.StatusResponse;
import io.kedge.edge.cri.api.StopContainerRequest;
import io.kedge.edge.cri.api.StopContainerResponse;
import io.kedge.edge.cri.api.StopPodSandboxRequest;
import io.kedge.edge.cri.api.StopPodSandboxResponse;
import io.kedge.edge.cri.api.VersionRequest;
import io.kedge.edge.cri.api.VersionResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A blocking client of the CRI v1 {@code RuntimeService} and {@code ImageService} over a unix
 * socket ({@code unix:///run/containerd/containerd.sock}). The method descriptors are built here
 * from the service and method names, so no generated stubs are needed.
 */
final class CriClient implements AutoCloseable {
  private static final String RUNTIME = "runtime.v1.RuntimeService";
  private static final String IMAGES = "runtime.v1.ImageService";

  static final MethodDescriptor<VersionRequest, VersionResponse> VERSION =
      method(
          RUNTIME,
          "Version",
          VersionRequest.getDefaultInstance(),
          VersionResponse.getDefaultInstance());
  static final MethodDescriptor<RunPodSandboxRequest, RunPodSandboxResponse> RUN_POD_SANDBOX =
      method(
          RUNTIME,
          "RunPodSandbox",
          RunPodSandboxRequest.getDefaultInstance(),
          RunPodSandboxResponse.getDefaultInstance());
  static final MethodDescriptor<StopPodSandboxRequest, StopPodSandboxResponse> STOP_POD_SANDBOX =
      method(
          RUNTIME,
          "StopPodSandbox",
          StopPodSandboxRequest.getDefaultInstance(),
          StopPodSandboxResponse.getDefaultInstance());
  static final MethodDescriptor<RemovePodSandboxRequest, RemovePodSandboxResponse>
      REMOVE_POD_SANDBOX =
          method(
              RUNTIME,
              "RemovePodSandbox",
              RemovePodSandboxRequest.getDefaultInstance(),
              RemovePodSandboxResponse.getDefaultInstance());
  static final MethodDescriptor<ListPodSandboxRequest, ListPodSandboxResponse> LIST_POD_SANDBOX =
      method(
          RUNTIME,
          "ListPodSandbox",
          ListPodSandboxRequest.getDefaultInstance(),
          ListPodSandboxResponse.getDefaultInstance());
  static final MethodDescriptor<CreateContainerRequest, CreateContainerResponse> CREATE_CONTAINER =
      method(
          RUNTIME,
          "CreateContainer",
          CreateContainerRequest.getDefaultInstance(),
          CreateContainerResponse.getDefaultInstance());
  static final MethodDescriptor<StartContainerRequest, StartContainerResponse> START_CONTAINER =
      method(
          RUNTIME,
          "StartContainer",
          StartContainerRequest.getDefaultInstance(),
          StartContainerResponse.getDefaultInstance());
  static final MethodDescriptor<StopContainerRequest, StopContainerResponse> STOP_CONTAINER =
      method(
          RUNTIME,
          "StopContainer",
          StopContainerRequest.getDefaultInstance(),
          StopContainerResponse.getDefaultInstance());
  static final MethodDescriptor<RemoveContainerRequest, RemoveContainerResponse> REMOVE_CONTAINER =
      method(
          RUNTIME,
          "RemoveContainer",
          RemoveContainerRequest.getDefaultInstance(),
          RemoveContainerResponse.getDefaultInstance());
  static final MethodDescriptor<ContainerStatusRequest, ContainerStatusResponse> CONTAINER_STATUS =
      method(
          RUNTIME,
          "ContainerStatus",
          ContainerStatusRequest.getDefaultInstance(),
          ContainerStatusResponse.getDefaultInstance());
  static final MethodDescriptor<ReopenContainerLogRequest, ReopenContainerLogResponse>
      REOPEN_CONTAINER_LOG =
          method(
              RUNTIME,
              "ReopenContainerLog",
              ReopenContainerLogRequest.getDefaultInstance(),
              ReopenContainerLogResponse.getDefaultInstance());
  static final MethodDescriptor<ImageStatusRequest, ImageStatusResponse> IMAGE_STATUS =
      method(
          IMAGES,
          "ImageStatus",
          ImageStatusRequest.getDefaultInstance(),
          ImageStatusResponse.getDefaultInstance());

  static final MethodDescriptor<StatusRequest, StatusResponse> STATUS =
      method(
          RUNTIME,
          "Status",
          StatusRequest.getDefaultInstance(),
          StatusResponse.getDefaultInstance());
  static final MethodDescriptor<PodSandboxStatusRequest, PodSandboxStatusResponse>
      POD_SANDBOX_STATUS =
          method(
              RUNTIME,
              "PodSandboxStatus",
              PodSandboxStatusRequest.getDefaultInstance(),
              PodSandboxStatusResponse.getDefaultInstance());
  static final MethodDescriptor<ExecSyncRequest, ExecSyncResponse> EXEC_SYNC =
      method(
          RUNTIME,
          "ExecSync",
          ExecSyncRequest.getDefaultInstance(),
          ExecSyncResponse.getDefaultInstance());
  static final MethodDescriptor<
          io.kedge.edge.cri.api.ExecRequest, io.kedge.edge.cri.api.ExecResponse>
      EXEC =
          method(
              RUNTIME,
              "Exec",
              io.kedge.edge.cri.api.ExecRequest.getDefaultInstance(),
              io.kedge.edge.cri.api.ExecResponse.getDefaultInstance());
  static final MethodDescriptor<
          io.kedge.edge.cri.api.AttachRequest, io.kedge.edge.cri.api.AttachResponse>
      ATTACH =
          method(
              RUNTIME,
              "Attach",
              io.kedge.edge.cri.api.AttachRequest.getDefaultInstance(),
              io.kedge.edge.cri.api.AttachResponse.getDefaultInstance());
  static final MethodDescriptor<PullImageRequest, PullImageResponse> PULL_IMAGE =
      method(
          IMAGES,
          "PullImage",
          PullImageRequest.getDefaultInstance(),
          PullImageResponse.getDefaultInstance());

  private final ManagedChannel channel;
  private final Duration timeout;

  /**
   * @param endpoint {@code unix:///path/to.sock} (or a bare path)
   */
  CriClient(String endpoint, Duration timeout) {
    String target = endpoint.startsWith("unix:") ? endpoint : "unix://" + endpoint;
    this.channel = Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
    this.timeout = timeout;
  }

  <Q extends Message, R extends Message> R call(MethodDescriptor<Q, R> method, Q request)
      throws StatusRuntimeException {
    return call(method, request, timeout);
  }

  <Q extends Message, R extends Message> R call(
      MethodDescriptor<Q, R> method, Q request, Duration limit) throws StatusRuntimeException {
    return ClientCalls.blockingUnaryCall(
        channel,
        method,
        CallOptions.DEFAULT.withDeadlineAfter(limit.toMillis(), TimeUnit.MILLISECONDS),
        request);
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static <Q extends Message, R extends Message> MethodDescriptor<Q, R> method(
      String service, String name, Q request, R response) {
    return MethodDescriptor.<Q, R>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(service, name))
        .setRequestMarshaller(ProtoUtils.marshaller(request))
        .setResponseMarshaller(ProtoUtils.marshaller(response))
        .build();
  }
}
