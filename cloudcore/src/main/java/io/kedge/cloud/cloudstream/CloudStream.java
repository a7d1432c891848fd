package io.kedge.cloud.cloudstream;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kedge.cloud.hub.HubTls;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.pki.CertSpec;
import io.kedge.pki.KeyPairs;
import io.kedge.pki.Pem;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.config.CloudHubConfig;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * KubeEdge's cloudStream: {@code kubectl logs}, {@code exec} and {@code attach} for pods on edge
 * nodes. The apiserver's kubelet requests reach the {@link StreamServer} (through the DNAT rules of
 * {@link TunnelPortRules} for this cloudcore's {@link TunnelPorts tunnel port}, which the nodes
 * whose tunnel is here advertise as their kubelet port), and go over the edge's {@link TunnelServer
 * tunnel} to its edgecore.
 */
public final class CloudStream implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CloudStream.class);

  private final List<AutoCloseable> started = new ArrayList<>();
  private int kubeletPort;
  private int streamPort;
  private int tunnelPort;
  private TunnelSessions sessions;

  private CloudStream() {}

  /**
   * Starts the tunnel and stream servers; fails when the stream server's CA file is missing (it
   * could not tell the apiserver from anyone else).
   */
  public static CloudStream start(
      CloudCoreConfig config,
      CloudHubConfig hub,
      HubTls hubTls,
      KubeClients kube,
      Executor blocking,
      ScheduledExecutorService timer) {
    CloudStream s = new CloudStream();
    try {
      s.startServers(config, hub, hubTls, kube, blocking, timer);
      return s;
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
  }

  private void startServers(
      CloudCoreConfig config,
      CloudHubConfig hub,
      HubTls hubTls,
      KubeClients kube,
      Executor blocking,
      ScheduledExecutorService timer) {
    CloudCoreConfig.CloudStreamConfig cfg = config.modules().cloudStream();
    SslContext streamTls = streamContext(cfg, hub, hubTls);
    String ip = hub.advertiseAddress().get(0);
    kubeletPort = TunnelPorts.negotiate(kube.own(), ip);
    LOG.info("cloudstream: tunnel port {} for this cloudcore ({})", kubeletPort, ip);

    EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    started.add(() -> group.shutdownGracefully(0, 2, TimeUnit.SECONDS));
    sessions = new TunnelSessions(node -> blocking.execute(() -> advertiseKubeletPort(kube, node)));
    TunnelServer tunnel = new TunnelServer(hubTls.webSocketServerContext(), sessions, group);
    tunnelPort = tunnel.start("0.0.0.0", cfg.tunnelPort());
    started.add(tunnel);
    StreamServer stream =
        new StreamServer(streamTls, sessions, podNodes(kube), blocking, timer, group);
    streamPort = stream.start("0.0.0.0", cfg.streamPort());
    started.add(stream);

    CloudCoreConfig.IptablesManagerConfig ipt = config.modules().iptablesManager();
    if (ipt != null && ipt.enable() && "internal".equals(ipt.mode())) {
      TunnelPortRules rules = new TunnelPortRules(() -> TunnelPorts.read(kube.own()), streamPort);
      ScheduledFuture<?> f =
          timer.scheduleWithFixedDelay(
              () -> blocking.execute(rules::reconcile), 0, 10, TimeUnit.SECONDS);
      started.add(() -> f.cancel(false));
      started.add(rules);
    } else {
      LOG.info(
          "cloudstream: iptablesManager is not internal: the route from the apiserver to port {}"
              + " ({}:{}) is kept elsewhere",
          kubeletPort,
          ip,
          streamPort);
    }
  }

  /** The kubelet port the nodes whose tunnel is here advertise (this cloudcore's tunnel port). */
  public int kubeletPort() {
    return kubeletPort;
  }

  public int streamPort() {
    return streamPort;
  }

  public int tunnelPort() {
    return tunnelPort;
  }

  /** Whether the node's tunnel is connected here. */
  public boolean connected(String node) {
    return sessions != null && sessions.connected(node);
  }

  /** Points the node's kubelet port at this cloudcore, as the node itself would report it. */
  private void advertiseKubeletPort(KubeClients kube, String node) {
    try {
      kube.asNode(node)
          .nodes()
          .withName(node)
          .subresource("status")
          .patch(
              PatchContext.of(PatchType.JSON_MERGE),
              "{\"status\":{\"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":"
                  + kubeletPort
                  + "}}}}");
      LOG.info("cloudstream: node {} advertises kubelet port {}", node, kubeletPort);
    } catch (RuntimeException e) {
      LOG.warn("cloudstream: cannot set the kubelet port of node {}: {}", node, e.toString());
    }
  }

  private static StreamServer.PodNodes podNodes(KubeClients kube) {
    return new StreamServer.PodNodes() {
      @Override
      public String nodeOf(String namespace, String pod) {
        Pod p = kube.own().pods().inNamespace(namespace).withName(pod).get();
        if (p == null) {
          return null;
        }
        String n = p.getSpec() == null ? null : p.getSpec().getNodeName();
        return n == null ? "" : n;
      }

      @Override
      public List<String> addressesOf(String node) {
        Node n = kube.own().nodes().withName(node).get();
        if (n == null || n.getStatus() == null || n.getStatus().getAddresses() == null) {
          return List.of();
        }
        return n.getStatus().getAddresses().stream().map(NodeAddress::getAddress).toList();
      }
    };
  }

  /**
   * The stream server's TLS: its certificate from {@code tlsStreamCertFile}/{@code
   * tlsStreamPrivateKeyFile} (Kedge: issued from the hub CA for the advertise addresses when they
   * do not exist — the apiserver does not check kubelet certificates unless told to), clients
   * verified against {@code tlsStreamCAFile}, which must exist.
   */
  static SslContext streamContext(
      CloudCoreConfig.CloudStreamConfig cfg, CloudHubConfig hub, HubTls hubTls) {
    Path caFile = Path.of(cfg.tlsStreamCAFile());
    if (!Files.isRegularFile(caFile)) {
      throw new IllegalStateException(
          "modules.cloudStream.tlsStreamCAFile "
              + caFile
              + " does not exist: it must hold the CA of the apiserver's kubelet client"
              + " certificate (--kubelet-client-certificate)");
    }
    List<X509Certificate> cas = Pem.certificates(Pem.read(caFile));
    Path certFile = Path.of(cfg.tlsStreamCertFile());
    Path keyFile = Path.of(cfg.tlsStreamPrivateKeyFile());
    X509Certificate cert;
    PrivateKey key;
    if (Files.isRegularFile(certFile) && Files.isRegularFile(keyFile)) {
      cert = Pem.certificate(Pem.read(certFile));
      key = Pem.privateKey(Pem.read(keyFile));
    } else {
      KeyPair kp = KeyPairs.ecP256();
      cert =
          hubTls
              .ca()
              .issue(
                  CertSpec.server(
                      "kubeedge-stream",
                      hub.advertiseAddress(),
                      hub.dnsNames() == null
                          ? List.of()
                          : hub.dnsNames().stream().filter(d -> !d.isBlank()).toList(),
                      Duration.ofDays(365)),
                  kp.getPublic());
      key = kp.getPrivate();
      LOG.info(
          "cloudstream: {} does not exist; serving with a certificate from the hub CA", certFile);
    }
    try {
      return SslContextBuilder.forServer(key, cert)
          .sslProvider(SslProvider.JDK)
          .trustManager(cas)
          .clientAuth(ClientAuth.REQUIRE)
          .protocols("TLSv1.3", "TLSv1.2")
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build the stream server's TLS: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    List<AutoCloseable> rev = new ArrayList<>(started);
    java.util.Collections.reverse(rev);
    for (AutoCloseable c : rev) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("cloudstream: stopping failed: {}", e.toString());
      }
    }
    started.clear();
  }
}
