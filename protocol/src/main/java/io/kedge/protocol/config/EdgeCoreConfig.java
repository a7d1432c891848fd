package io.kedge.protocol.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code edgecore.yaml} ({@code edgecore.config.kubeedge.io/v1alpha2}), with KubeEdge's defaults
 * (see {@code edgecore-defaults.yaml}). Immutable once loaded.
 */
public record EdgeCoreConfig(
    String apiVersion,
    String kind,
    Database database,
    Map<String, Boolean> featureGates,
    Modules modules,
    CommonConfig commonConfig) {

  public static final String DEFAULTS = "/io/kedge/protocol/config/edgecore-defaults.yaml";
  public static final String API_VERSION = "edgecore.config.kubeedge.io/v1alpha2";
  public static final Path DEFAULT_FILE = Path.of("/etc/kubeedge/config/edgecore.yaml");

  /**
   * Keys users write that live elsewhere: KubeEdge's in-cluster config page writes {@code
   * modules.metaServer} for {@code modules.metaManager.metaServer}.
   */
  public static final List<ConfigLoader.Alias> ALIASES =
      List.of(
          new ConfigLoader.Alias(
              List.of("modules", "metaServer"), List.of("modules", "metaManager", "metaServer")));

  public static ConfigLoader.Loaded<EdgeCoreConfig> load(Path file, List<String> sets) {
    return ConfigLoader.load(EdgeCoreConfig.class, DEFAULTS, file, sets, ALIASES);
  }

  public static EdgeCoreConfig defaults() {
    return load(null, List.of()).config();
  }

  public boolean requireAuthorization() {
    return featureGates != null && Boolean.TRUE.equals(featureGates.get("requireAuthorization"));
  }

  /** The node name: {@code modules.edged.hostnameOverride}. */
  public String nodeName() {
    return modules.edged().hostnameOverride();
  }

  public record Database(String aliasName, String driverName, String dataSource) {}

  /**
   * Kedge: the monitor address ({@code /metrics}, {@code /healthz}, {@code /readyz}), under the key
   * cloudcore has it; {@code bindAddress} empty turns it off, and with it metrics.
   */
  public record CommonConfig(CloudCoreConfig.MonitorServer monitorServer) {}

  /** {@code commonConfig.monitorServer.bindAddress}, or empty. */
  public String monitorAddress() {
    if (commonConfig == null || commonConfig.monitorServer() == null) {
      return "";
    }
    String a = commonConfig.monitorServer().bindAddress();
    return a == null ? "" : a.strip();
  }

  public record Modules(
      EdgeHubConfig edgeHub,
      EdgedConfig edged,
      MetaManagerConfig metaManager,
      Toggle eventBus,
      Toggle serviceBus,
      Toggle deviceTwin,
      EdgeStreamConfig edgeStream,
      Toggle taskManager,
      Toggle dbTest) {}

  public record Toggle(boolean enable) {}

  /**
   * @param heartbeat seconds between keepalives
   * @param httpServer {@code https://IP:10002}, the cloud's certificate bootstrap server
   * @param token join token {@code <caHash>.<jwt>} (cleared once certificates exist)
   * @param reconnectMinDelay Kedge: first reconnect back-off, seconds
   * @param reconnectMaxDelay Kedge: longest reconnect back-off, seconds
   */
  public record EdgeHubConfig(
      boolean enable,
      int heartbeat,
      int messageBurst,
      int messageQPS,
      String projectID,
      boolean rotateCertificates,
      String tlsCaFile,
      String tlsCertFile,
      String tlsPrivateKeyFile,
      String token,
      String httpServer,
      Transport websocket,
      Transport quic,
      int reconnectMinDelay,
      int reconnectMaxDelay) {}

  /**
   * @param server {@code IP:10000}
   */
  public record Transport(
      boolean enable, int handshakeTimeout, int readDeadline, String server, int writeDeadline) {}

  /**
   * @param runtime Kedge: {@code process} (host processes) or {@code cri}
   * @param rootDirectory Kedge: pod directories, logs and volumes
   * @param nodeStatusUpdateFrequency Kedge: seconds between node status / lease updates
   * @param nodeLabels labels the Node is registered with ({@code keadm join --labels}); null when
   *     absent
   */
  public record EdgedConfig(
      boolean enable,
      String hostnameOverride,
      String nodeIP,
      boolean registerNode,
      int maxPods,
      String runtime,
      String rootDirectory,
      String containerRuntimeEndpoint,
      String podSandboxImage,
      int nodeStatusUpdateFrequency,
      java.util.Map<String, String> nodeLabels) {}

  public record MetaManagerConfig(
      boolean enable,
      String contextSendGroup,
      String contextSendModule,
      int remoteQueryTimeout,
      MetaServerConfig metaServer) {}

  /**
   * @param server address MetaServer listens on ({@code 127.0.0.1:10550})
   * @param dummyServer the address pods reach it at ({@code 169.254.30.10:10550})
   * @param maxRequestBytes Kedge: largest accepted request body (413 beyond)
   * @param requestHeaderTimeout Kedge: seconds a request's headers may take to arrive (408 and the
   *     connection closed beyond)
   * @param requestBodyTimeout Kedge: seconds a request's body may take to arrive after its headers
   * @param pkiDir Kedge: where the serving certificate, the Kubernetes CA and the issuer keys are
   *     kept (KubeEdge: always {@code /etc/kubeedge/pki/metaserver})
   */
  public record MetaServerConfig(
      boolean enable,
      String server,
      String tlsCaFile,
      String tlsCertFile,
      String tlsPrivateKeyFile,
      List<String> serviceAccountIssuers,
      List<String> apiAudiences,
      List<String> serviceAccountKeyFiles,
      String dummyServer,
      long maxRequestBytes,
      int requestHeaderTimeout,
      int requestBodyTimeout,
      String pkiDir) {}

  /**
   * KubeEdge's edgeStream: the tunnel to cloudcore's tunnel server ({@code server}, {@code
   * IP:10004}) over which the apiserver's logs, exec and attach requests for this node arrive.
   */
  public record EdgeStreamConfig(
      boolean enable,
      String tlsTunnelCAFile,
      String tlsTunnelCertFile,
      String tlsTunnelPrivateKeyFile,
      int handshakeTimeout,
      int readDeadline,
      String server,
      int writeDeadline) {}
}
