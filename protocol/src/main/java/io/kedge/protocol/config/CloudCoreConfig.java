package io.kedge.protocol.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code cloudcore.yaml} ({@code cloudcore.config.kubeedge.io/v1alpha2}), with KubeEdge's defaults
 * (see {@code cloudcore-defaults.yaml}). Immutable once loaded.
 */
public record CloudCoreConfig(
    String apiVersion,
    String kind,
    KubeApiConfig kubeAPIConfig,
    CommonConfig commonConfig,
    Map<String, Boolean> featureGates,
    Modules modules) {

  public static final String DEFAULTS = "/io/kedge/protocol/config/cloudcore-defaults.yaml";
  public static final String API_VERSION = "cloudcore.config.kubeedge.io/v1alpha2";

  public static ConfigLoader.Loaded<CloudCoreConfig> load(Path file, List<String> sets) {
    return ConfigLoader.load(CloudCoreConfig.class, DEFAULTS, file, sets);
  }

  /**
   * From YAML text, e.g. the {@code cloudcore.yaml} key of ConfigMap {@code kubeedge/cloudcore}.
   */
  public static ConfigLoader.Loaded<CloudCoreConfig> loadText(
      String yaml, String source, List<String> sets) {
    return ConfigLoader.loadText(CloudCoreConfig.class, DEFAULTS, yaml, source, sets, List.of());
  }

  public static CloudCoreConfig defaults() {
    return load(null, List.of()).config();
  }

  public boolean requireAuthorization() {
    return featureGates != null && Boolean.TRUE.equals(featureGates.get("requireAuthorization"));
  }

  public record KubeApiConfig(
      String master, String kubeConfig, String contentType, int qps, int burst) {}

  public record CommonConfig(int tunnelPort, MonitorServer monitorServer) {}

  public record MonitorServer(String bindAddress, boolean enableProfiling) {}

  public record Modules(
      CloudHubConfig cloudHub,
      EdgeControllerConfig edgeController,
      Toggle deviceController,
      SyncControllerConfig syncController,
      DynamicControllerConfig dynamicController,
      CloudStreamConfig cloudStream,
      Toggle router,
      IptablesManagerConfig iptablesManager,
      Toggle taskManager) {}

  /** A module Kedge does not implement; only its switch is read. */
  public record Toggle(boolean enable) {}

  public record EdgeControllerConfig(boolean enable, int nodeUpdateFrequency) {}

  public record SyncControllerConfig(boolean enable, int resyncPeriod) {}

  /**
   * @param identity whose rights edge API requests are executed with: {@code pod} (the calling
   *     pod's service account), {@code node} ({@code system:node:<name>}) or {@code cloudcore}
   * @param tokenlessIdentity for requests without a pod token: {@code node}, {@code deny} or {@code
   *     cloudcore}; empty or null when unset (the cloud then decides by the edge's kind)
   */
  public record DynamicControllerConfig(
      boolean enable, String identity, String tokenlessIdentity) {}

  public record IptablesManagerConfig(boolean enable, String mode) {}

  /**
   * KubeEdge's cloudStream: the stream server the apiserver's kubelet requests for edge nodes reach
   * ({@code streamPort}, TLS with {@code tlsStream*}, the apiserver's kubelet-client certificate
   * verified against {@code tlsStreamCAFile}) and the tunnel server edges connect to ({@code
   * tunnelPort}, TLS with {@code tlsTunnel*}, which default to CloudHub's files).
   */
  public record CloudStreamConfig(
      boolean enable,
      String tlsTunnelCAFile,
      String tlsTunnelCertFile,
      String tlsTunnelPrivateKeyFile,
      int tunnelPort,
      String tlsStreamCAFile,
      String tlsStreamCertFile,
      String tlsStreamPrivateKeyFile,
      int streamPort) {}
}
