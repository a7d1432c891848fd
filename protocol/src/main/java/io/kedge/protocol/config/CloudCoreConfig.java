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
    Modules modules,
    HighAvailability highAvailability) {

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

  /**
   * Kedge: several cloudcores serving one cluster. Each holds the sessions of the edges connected
   * to it; the duties that write cluster-wide state run on the one that holds the leader Lease
   * ({@code kubeedge/cloudcore}).
   *
   * @param name this cloudcore's name in its Lease {@code kubeedge/cloudcore-<name>} and in the
   *     session Leases of its edges; empty: the host name and the WebSocket port
   * @param leaseDuration seconds a Lease stays valid without renewal: how long the others wait
   *     before a cloudcore that died without a word loses the lead
   * @param renewDeadline seconds the leader keeps failing to renew before it stops leading (less
   *     than {@code leaseDuration}, so that it has stopped before another may start)
   * @param retryPeriod seconds between attempts to take or renew a Lease
   */
  public record HighAvailability(
      String name, int leaseDuration, int renewDeadline, int retryPeriod) {
    public HighAvailability {
      if (retryPeriod < 1 || renewDeadline <= retryPeriod || leaseDuration <= renewDeadline) {
        throw new IllegalArgumentException(
            "highAvailability needs 1 <= retryPeriod < renewDeadline < leaseDuration (seconds),"
                + " got retryPeriod "
                + retryPeriod
                + ", renewDeadline "
                + renewDeadline
                + ", leaseDuration "
                + leaseDuration);
      }
      if (name != null && !name.isEmpty() && !name.matches("[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?")) {
        throw new IllegalArgumentException(
            "highAvailability.name '"
                + name
                + "' must be at most 40 lower-case letters, digits and '-', starting and ending"
                + " with a letter or digit");
      }
    }
  }
}
