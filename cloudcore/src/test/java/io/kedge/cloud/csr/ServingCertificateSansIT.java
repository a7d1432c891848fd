package io.kedge.cloud.csr;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kedge.cloud.CloudCoreFixture;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.controlplane.ControlPlane;
import io.kedge.pki.Pem;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.testkit.Waits;
import io.kedge.testkit.edge.SimulatedEdge;
import io.kedge.testkit.junit.WithControlPlane;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/**
 * Issue 17, item 3, on a whole cloudcore (requireAuthorization, shipped RBAC, real signer): an edge
 * connected over the host's own network address asks, with nothing but its node identity, for a
 * MetaServer certificate naming addresses it has no claim to, after writing them into its Node's
 * {@code metaserver.kedge.io/ips} annotation. The CSR is denied with the offending SAN in its
 * condition and no certificate is issued; the address the edge really connects from is approved.
 */
@WithControlPlane
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServingCertificateSansIT {
  static final Duration T = Duration.ofSeconds(90);
  static final String KUBERNETES_SERVICE = "10.96.0.1";

  final String sfx = UUID.randomUUID().toString().substring(0, 6);
  final List<String> nodes = new ArrayList<>();
  KubernetesClient admin;
  KubeClients adminClients;
  CloudCoreFixture cloud;
  String hostIp;

  @BeforeAll
  void start(ControlPlane plane, KubernetesClient admin, @TempDir Path dir) throws Exception {
    this.admin = admin;
    adminClients =
        KubeClients.of(
            Config.fromKubeconfig(null, Files.readString(plane.adminKubeconfig()), null));
    hostIp = hostAddress();
    cloud =
        new CloudCoreFixture(
            plane,
            dir,
            "featureGates.requireAuthorization=true",
            "modules.cloudHub.websocket.address=0.0.0.0",
            "modules.cloudHub.advertiseAddress={127.0.0.1," + hostIp + "}");
  }

  @AfterAll
  void stop() {
    if (cloud != null) {
      cloud.close();
    }
    for (String n : nodes) {
      admin
          .certificates()
          .v1()
          .certificateSigningRequests()
          .withName("metaserver-csr-" + n)
          .delete();
      admin.nodes().withName(n).delete();
    }
    if (adminClients != null) {
      adminClients.close();
    }
  }

  /**
   * A non-loopback IPv4 address of this host, an edge connecting to it comes from it: the source
   * address of the default route (steadier than the first interface listed, which may be a test's
   * short-lived veth), else the first one found.
   */
  static String hostAddress() throws SocketException {
    try (DatagramSocket probe = new DatagramSocket()) {
      probe.connect(InetAddress.getByName("198.51.100.1"), 9); // no packet is sent
      InetAddress a = probe.getLocalAddress();
      if (a instanceof Inet4Address && !a.isAnyLocalAddress() && !a.isLoopbackAddress()) {
        return a.getHostAddress();
      }
    } catch (IOException | UncheckedIOException noRoute) {
      // fall through
    }
    for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!ni.isUp() || ni.isLoopback()) {
        continue;
      }
      for (InetAddress a : Collections.list(ni.getInetAddresses())) {
        if (a instanceof Inet4Address && !a.isLinkLocalAddress() && !a.isLoopbackAddress()) {
          return a.getHostAddress();
        }
      }
    }
    throw new AssertionError(
        "this test needs a non-loopback IPv4 address on the host to connect an edge from");
  }

  /** An edge on the host's network address (not loopback), registered. */
  SimulatedEdge joined(String base) {
    String n = base + "-" + sfx;
    nodes.add(n);
    URI uri = URI.create("wss://" + hostIp + ":" + cloud.core.hub().webSocketAddress().getPort());
    SimulatedEdge edge = SimulatedEdge.connect(uri, cloud.identity(n));
    ObjectNode node = Json.object();
    node.putObject("metadata").put("name", n);
    node.putObject("spec");
    Message reply = edge.request(SimulatedEdge.edged("insert", "default/node/" + n, node), T);
    assertThat(reply.content().path("Err").isNull()).as("registration %s", reply).isTrue();
    return edge;
  }

  void requestCertificate(SimulatedEdge edge, String node, List<String> ips) {
    CertificateSigningRequest csr =
        TestCsrs.csr(
            "metaserver-csr-" + node, TestCsrs.request(node, ips), TestCsrs.USAGES, null, null);
    Message reply =
        edge.request(
            SimulatedEdge.edged(
                "insert",
                "default/certificatesigningrequest/metaserver-csr-" + node,
                Json.parse(admin.getKubernetesSerialization().asJson(csr))),
            T);
    assertThat(
            admin
                .certificates()
                .v1()
                .certificateSigningRequests()
                .withName(csr.getMetadata().getName())
                .get())
        .as("CSR created through the cloud: %s", reply)
        .isNotNull();
  }

  CertificateSigningRequest decided(String node) {
    String name = "metaserver-csr-" + node;
    Waits.until(name + " decided", T, () -> !CsrApproverIT.condition(get(name)).isEmpty());
    return get(name);
  }

  CertificateSigningRequest get(String name) {
    return admin.certificates().v1().certificateSigningRequests().withName(name).get();
  }

  @Test
  void addressesAnnouncedOnlyByTheNodeAreDeniedAndNothingIsIssued() throws Exception {
    SimulatedEdge edge = joined("edge-a");
    String n = edge.node();
    List<String> attack =
        List.of("127.0.0.1", "169.254.30.10", KUBERNETES_SERVICE, "169.254.30.11");
    // The node may write this annotation on its own Node: nothing the approver may trust.
    adminClients
        .asNode(n)
        .nodes()
        .withName(n)
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"metadata\":{\"annotations\":{\"metaserver.kedge.io/ips\":\""
                + String.join(",", attack)
                + "\"}}}");
    requestCertificate(edge, n, attack);

    CertificateSigningRequest c = decided(n);
    assertThat(CsrApproverIT.condition(c))
        .isEqualTo(
            "Denied:"
                + CsrApprover.DENIED_REASON
                + ":IP SANs [10.96.0.1] are neither loopback nor link-local nor the address node "
                + n
                + " connects from ["
                + hostIp
                + "]");
    Thread.sleep(3000); // the signer has had time to act, were it to
    assertThat(get(c.getMetadata().getName()).getStatus().getCertificate()).isNullOrEmpty();
  }

  @Test
  void theAddressTheNodeConnectsFromIsApproved() throws Exception {
    SimulatedEdge edge = joined("edge-b");
    String n = edge.node();
    requestCertificate(edge, n, List.of("127.0.0.1", "169.254.30.10", hostIp));

    assertThat(CsrApproverIT.condition(decided(n))).startsWith("Approved:");
    Waits.until(
        "certificate issued",
        T,
        () -> {
          var got = get("metaserver-csr-" + n).getStatus().getCertificate();
          return got != null && !got.isEmpty();
        });
    String pem =
        new String(
            Base64.getDecoder().decode(get("metaserver-csr-" + n).getStatus().getCertificate()),
            StandardCharsets.US_ASCII);
    X509Certificate cert = Pem.certificate(pem);
    List<String> sans = new ArrayList<>();
    for (List<?> san : cert.getSubjectAlternativeNames()) {
      sans.add((String) san.get(1));
    }
    assertThat(sans).containsExactlyInAnyOrder("127.0.0.1", "169.254.30.10", hostIp);
  }
}
