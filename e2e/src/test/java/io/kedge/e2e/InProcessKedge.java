package io.kedge.e2e;

import io.kedge.cloud.dynamiccontroller.DynamicControllerModule;
import io.kedge.cloud.hub.CloudHub;
import io.kedge.cloud.hub.HubTls;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.controlplane.ControlPlane;
import io.kedge.controlplane.ControlPlaneOptions;
import io.kedge.edge.hub.CertificateFiles;
import io.kedge.edge.hub.EdgeCredentials;
import io.kedge.edge.hub.EdgeHub;
import io.kedge.edge.metamanager.MetaManager;
import io.kedge.edge.metaserver.MetaServer;
import io.kedge.edge.metaserver.MetaServerSettings;
import io.kedge.edge.store.ResourceCatalog;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.config.EdgeCoreConfig;
import io.kedge.testkit.KedgeManifests;
import io.kedge.testkit.Ports;
import io.kedge.testkit.Waits;
import io.kedge.testkit.edge.EdgeIdentity;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The real cloud path in one JVM: cloudcore's CloudHub and DynamicController (as ServiceAccount
 * kubeedge/cloudcore with the shipped RBAC, against the real control plane) and edgecore's EdgeHub,
 * store, MetaManager and MetaServer, talking over mutual-TLS WebSocket on loopback. The cloud half
 * can be stopped and started again on the same port to take the edge offline and back.
 */
final class InProcessKedge implements AutoCloseable {
  final String node;
  final Path dir;
  private final CertificateAuthority ca;
  private final HubTls tls;
  private final int hubPort;
  private final KubeClients kube;
  private final CloudCoreConfig cloudConfig;
  private volatile CloudHub hub;
  private volatile DynamicControllerModule dynamic;
  final SqliteStore store;
  final ResourceCatalog catalog;
  final EdgeHub edgeHub;
  final MetaServer metaServer;

  private InProcessKedge(ControlPlane plane, Path dir, String node, List<String> edgeSets) {
    this.node = node;
    this.dir = dir;
    Path home = ControlPlaneOptions.kedgeHomeFromEnvironment();
    Path kc = KedgeManifests.cloudcoreKubeconfig(plane, home, dir.resolve("cloudcore.kubeconfig"));
    this.kube =
        KubeClients.create(
            new CloudCoreConfig.KubeApiConfig("", kc.toString(), "application/json", 200, 400));
    this.ca = CertificateAuthority.create("KubeEdge", KeyPairs.ecP256(), Duration.ofDays(3650));
    KeyPair serverKey = KeyPairs.ecP256();
    var serverCert =
        ca.issue(
            CertSpec.server(
                    "KubeEdge", List.of("127.0.0.1"), List.of("localhost"), Duration.ofDays(365))
                .withOrganizations(List.of("KubeEdge")),
            serverKey.getPublic());
    this.tls = new HubTls(ca, serverCert, serverKey.getPrivate());
    this.hubPort = Ports.free();
    this.cloudConfig =
        CloudCoreConfig.load(
                null,
                List.of(
                    "modules.cloudHub.websocket.address=127.0.0.1",
                    "modules.cloudHub.websocket.port=" + hubPort,
                    "modules.dynamicController.enable=true",
                    // The edge forwards no pod token yet: run its requests as cloudcore, as
                    // KubeEdge does (cloudcore's rights come from aggregated ClusterRoles).
                    "modules.dynamicController.identity=cloudcore",
                    "modules.dynamicController.tokenlessIdentity=cloudcore"))
            .config();
    startCloud();

    EdgeIdentity id = EdgeIdentity.issue(ca, node);
    List<String> sets = new ArrayList<>();
    sets.add("modules.edgeHub.websocket.server=127.0.0.1:" + hubPort);
    sets.add("modules.edgeHub.tlsCaFile=" + dir.resolve("edge/ca.crt"));
    sets.add("modules.edgeHub.tlsCertFile=" + dir.resolve("edge/server.crt"));
    sets.add("modules.edgeHub.tlsPrivateKeyFile=" + dir.resolve("edge/server.key"));
    sets.add("modules.edgeHub.heartbeat=2");
    sets.add("modules.edgeHub.reconnectMinDelay=1");
    sets.add("modules.edgeHub.reconnectMaxDelay=2");
    sets.add("modules.edgeHub.messageQPS=2000");
    sets.add("modules.edgeHub.messageBurst=4000");
    sets.add("modules.edged.hostnameOverride=" + node);
    sets.add("database.dataSource=" + dir.resolve("edge/edgecore.db"));
    sets.add("modules.metaManager.metaServer.enable=true");
    sets.add("modules.metaManager.metaServer.server=127.0.0.1:0");
    sets.addAll(edgeSets);
    EdgeCoreConfig edge = EdgeCoreConfig.load(null, sets).config();
    CertificateFiles.of(edge.modules().edgeHub())
        .store(new EdgeCredentials(ca.certificate(), id.certificate(), id.key()));
    this.store = SqliteStore.open(StoreSettings.defaults(Path.of(edge.database().dataSource())));
    this.catalog = new ResourceCatalog(store);
    this.edgeHub = new EdgeHub(edge.modules().edgeHub(), node);
    edgeHub.setDownstreamHandler(new MetaManager(store, catalog));
    this.metaServer =
        MetaServer.withoutAuthorization(
            MetaServerSettings.from(edge).withBookmarkInterval(Duration.ofSeconds(2)),
            store,
            catalog,
            edgeHub);
    metaServer.start();
    edgeHub.start();
    awaitConnected();
  }

  static InProcessKedge start(ControlPlane plane, Path dir, String node) {
    return new InProcessKedge(plane, dir, node, List.of());
  }

  String metaServerUrl() {
    return "http://127.0.0.1:" + metaServer.address().getPort();
  }

  /** Starts CloudHub and the DynamicController (again). */
  synchronized void startCloud() {
    CloudHub h = new CloudHub(cloudConfig.modules().cloudHub(), tls, () -> "", null);
    DynamicControllerModule d = DynamicControllerModule.start(cloudConfig, kube, h, null);
    h.addSessionListener(d);
    h.start((n, m) -> {}, d);
    hub = h;
    dynamic = d;
  }

  /** Stops the cloud half: the edge is offline until {@link #startCloud}. */
  synchronized void stopCloud() {
    if (dynamic != null) {
      dynamic.close();
      dynamic = null;
    }
    if (hub != null) {
      hub.close();
      hub = null;
    }
    Waits.until(
        "edge notices the cloud is gone", Duration.ofSeconds(60), () -> !edgeHub.isConnected());
  }

  void awaitConnected() {
    Waits.until("edge " + node + " connected", Duration.ofSeconds(60), edgeHub::isConnected);
  }

  KubeClients kube() {
    return kube;
  }

  @Override
  public void close() {
    try {
      metaServer.close();
    } finally {
      try {
        edgeHub.close();
      } finally {
        store.close();
        stopCloudQuietly();
        kube.close();
      }
    }
  }

  private synchronized void stopCloudQuietly() {
    if (dynamic != null) {
      dynamic.close();
    }
    if (hub != null) {
      hub.close();
    }
  }
}
