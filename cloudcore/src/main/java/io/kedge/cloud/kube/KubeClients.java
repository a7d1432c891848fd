package io.kedge.cloud.kube;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.RequestConfig;
import io.fabric8.kubernetes.client.RequestConfigBuilder;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * cloudcore's clients for the kube-apiserver: its own identity (a ServiceAccount, never admin), and
 * derived clients that impersonate an edge node. Derived clients share the own client's HTTP
 * connection pool.
 */
public final class KubeClients implements AutoCloseable {
  private final KubernetesClient own;
  private final Config config;
  private final Map<String, KubernetesClient> nodes = new ConcurrentHashMap<>();

  private KubeClients(KubernetesClient own, Config config) {
    this.own = own;
    this.config = config;
  }

  /**
   * From {@code kubeAPIConfig}: {@code kubeConfig} (a file) if set, otherwise in-cluster config;
   * {@code master} overrides the server URL.
   */
  public static KubeClients create(CloudCoreConfig.KubeApiConfig api) {
    Config cfg;
    if (api.kubeConfig() != null && !api.kubeConfig().isBlank()) {
      Path p = Path.of(api.kubeConfig());
      try {
        cfg = Config.fromKubeconfig(null, Files.readString(p), p.toString());
      } catch (IOException e) {
        throw new ConfigException("kubeAPIConfig.kubeConfig: cannot read " + p + ": " + e, e);
      }
    } else {
      cfg = new ConfigBuilder(Config.autoConfigure(null)).build();
    }
    if (api.master() != null && !api.master().isBlank()) {
      cfg.setMasterUrl(api.master());
    }
    if (api.qps() > 0) {
      cfg.setMaxConcurrentRequests(Math.max(64, api.burst()));
      cfg.setMaxConcurrentRequestsPerHost(Math.max(64, api.burst()));
    }
    return of(cfg);
  }

  public static KubeClients of(Config cfg) {
    return new KubeClients(new KubernetesClientBuilder().withConfig(cfg).build(), cfg);
  }

  /** cloudcore's own identity. */
  public KubernetesClient own() {
    return own;
  }

  public Config config() {
    return config;
  }

  /** A client acting as {@code system:node:<node>} in group {@code system:nodes}. */
  public KubernetesClient asNode(String node) {
    return nodes.computeIfAbsent(
        node,
        n -> {
          RequestConfig rc =
              new RequestConfigBuilder(config.getRequestConfig())
                  .withImpersonateUsername("system:node:" + n)
                  .withImpersonateGroups("system:nodes")
                  .build();
          return own.newClient(rc).adapt(KubernetesClient.class);
        });
  }

  /** Forgets the derived client of a node that left. */
  public void forgetNode(String node) {
    nodes.remove(node);
  }

  @Override
  public void close() {
    own.close();
  }
}
