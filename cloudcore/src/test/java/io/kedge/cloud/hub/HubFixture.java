package io.kedge.cloud.hub;

import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.config.CloudHubConfig;
import io.kedge.protocol.message.Message;
import io.kedge.testkit.edge.EdgeIdentity;
import io.kedge.testkit.edge.SimulatedEdge;
import java.net.URI;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A CloudHub on a free loopback port with a fresh hub CA, recording what it routes. */
final class HubFixture implements AutoCloseable {
  static final String KUBE_CA = "-----BEGIN CERTIFICATE-----\nkube-ca\n-----END CERTIFICATE-----\n";

  record Routed(String node, Message message) {}

  final CertificateAuthority ca;
  final CloudHub hub;
  final List<Routed> edgeController = new CopyOnWriteArrayList<>();
  final List<Routed> dynamicController = new CopyOnWriteArrayList<>();
  final List<Routed> acked = new CopyOnWriteArrayList<>();
  final List<String> events = new CopyOnWriteArrayList<>();
  private final List<SimulatedEdge> edges = new ArrayList<>();

  HubFixture(String... sets) {
    List<String> all = new ArrayList<>();
    all.add("modules.cloudHub.websocket.address=127.0.0.1");
    all.add("modules.cloudHub.websocket.port=0");
    all.addAll(List.of(sets));
    CloudHubConfig cfg = CloudCoreConfig.load(null, all).config().modules().cloudHub();
    ca = CertificateAuthority.create("KubeEdge", KeyPairs.ecP256(), Duration.ofDays(3650));
    KeyPair serverKey = KeyPairs.ecP256();
    var serverCert =
        ca.issue(
            CertSpec.server(
                    "KubeEdge", List.of("127.0.0.1"), List.of("localhost"), Duration.ofDays(365))
                .withOrganizations(List.of("KubeEdge")),
            serverKey.getPublic());
    hub =
        new CloudHub(
            cfg,
            new HubTls(ca, serverCert, serverKey.getPrivate()),
            () -> KUBE_CA,
            (node, m) -> acked.add(new Routed(node, m)));
    hub.addSessionListener(
        new NodeSessionListener() {
          @Override
          public void connected(String node) {
            events.add("+" + node);
          }

          @Override
          public void disconnected(String node) {
            events.add("-" + node);
          }
        });
    hub.start(
        (node, m) -> edgeController.add(new Routed(node, m)),
        (node, m) -> dynamicController.add(new Routed(node, m)));
  }

  URI uri() {
    return URI.create("wss://127.0.0.1:" + hub.webSocketAddress().getPort());
  }

  EdgeIdentity identity(String node) {
    return EdgeIdentity.issue(ca, node);
  }

  SimulatedEdge connect(String node) {
    return track(SimulatedEdge.connect(uri(), identity(node)));
  }

  SimulatedEdge connect(EdgeIdentity id, SimulatedEdge.Options o) {
    return track(SimulatedEdge.connect(uri(), id, o));
  }

  SimulatedEdge track(SimulatedEdge e) {
    synchronized (edges) {
      edges.add(e);
    }
    return e;
  }

  @Override
  public void close() {
    synchronized (edges) {
      edges.forEach(SimulatedEdge::closeAbruptly);
    }
    hub.close();
  }
}
