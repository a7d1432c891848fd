package io.kedge.cloud.csr;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.cloud.hub.GoldenTrace;
import io.kedge.cloud.hub.ShapeDiff;
import io.kedge.cloud.kube.CloudcoreIdentity;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.cloud.policy.PolicyController;
import io.kedge.controlplane.ControlPlane;
import io.kedge.pki.KeyPairs;
import io.kedge.pki.Pem;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.Sources;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The CSR approver under cloudcore's shipped RBAC with the real controller-manager signer: it
 * approves exactly the MetaServer CSR of the requesting node (which the signer then issues) and
 * refuses the others. No node is connected here ({@link NodeAddresses#NONE}): only loopback and
 * link-local SANs can be vouched for ({@link ServingCertificateSansIT} connects edges).
 */
@WithControlPlane
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CsrApproverIT {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(CsrApproverIT.class);

  final String sfx = UUID.randomUUID().toString().substring(0, 6);
  final List<String> csrNames = new ArrayList<>();
  final List<String> nodes = new ArrayList<>();
  ControlPlane plane;
  KubernetesClient admin;
  KubeClients cloudcore;
  KubeClients adminClients;
  CsrApprover approver;
  MetaServerCsrRequests requests;

  @BeforeAll
  void start(ControlPlane plane, KubernetesClient admin) {
    this.plane = plane;
    this.admin = admin;
    cloudcore = CloudcoreIdentity.clients(plane);
    adminClients = KubeClients.of(Config.fromKubeconfig(null, read(plane.adminKubeconfig()), null));
    approver = new CsrApprover(cloudcore.own(), NodeAddresses.NONE);
    approver.start(Duration.ofSeconds(60));
    requests = new MetaServerCsrRequests(cloudcore, null, Executors.newSingleThreadExecutor());
  }

  @AfterAll
  void stop() {
    if (approver != null) {
      approver.close();
    }
    for (String n : csrNames) {
      admin.certificates().v1().certificateSigningRequests().withName(n).delete();
    }
    for (String n : nodes) {
      admin.nodes().withName(n).delete();
    }
    if (cloudcore != null) {
      cloudcore.close();
      adminClients.close();
    }
  }

  String node(String base) {
    String name = base + "-" + sfx;
    var b =
        new NodeBuilder()
            .withNewMetadata()
            .withName(name)
            .addToLabels(PolicyController.EDGE_NODE_LABEL, "")
            .endMetadata();
    admin.nodes().resource(b.build()).create();
    nodes.add(name);
    return name;
  }

  CertificateSigningRequest createAs(KubernetesClient c, CertificateSigningRequest csr) {
    csrNames.add(csr.getMetadata().getName());
    csr.getSpec().setUsername(null);
    csr.getSpec().setGroups(null);
    return c.certificates().v1().certificateSigningRequests().resource(csr).create();
  }

  CertificateSigningRequest get(String name) {
    return admin.certificates().v1().certificateSigningRequests().withName(name).get();
  }

  static String condition(CertificateSigningRequest c) {
    if (c == null || c.getStatus() == null || c.getStatus().getConditions() == null) {
      return "";
    }
    return c.getStatus().getConditions().stream()
        .map(x -> x.getType() + ":" + x.getReason() + ":" + x.getMessage())
        .findFirst()
        .orElse("");
  }

  Message csrMessage(String node, String op, CertificateSigningRequest body) {
    return Message.of(
        new MessageRoute(
            Sources.EDGED,
            Sources.GROUP_META,
            op,
            "default/certificatesigningrequest/metaserver-csr-" + node),
        body == null ? null : Json.parse(admin.getKubernetesSerialization().asJson(body)));
  }

  /** A MetaServer CSR as the edge sends it, signed with {@code key}. */
  static CertificateSigningRequest withKey(String node, KeyPair key) {
    return TestCsrs.csr(
        "metaserver-csr-" + node,
        TestCsrs.request(key, node, TestCsrs.DEFAULT_IPS),
        TestCsrs.USAGES,
        null,
        null);
  }

  boolean issued(String name) {
    var c = get(name);
    return c != null
        && c.getStatus() != null
        && c.getStatus().getCertificate() != null
        && !c.getStatus().getCertificate().isEmpty();
  }

  /**
   * KubeEdge's exchange (golden seq 160-162 and 292-294): the create is answered {@code
   * {"Object","Err"}}, the poll with the bare CSR and its resourceVersion in the header. A second
   * create with the same key gets 409 AlreadyExists and leaves the CSR alone (KubeEdge's edge then
   * reuses it); one with another key replaces it.
   */
  @Test
  void approvesTheNodesOwnCsrAndTheRealSignerIssuesIt() throws Exception {
    String n = node("edge-ok");
    String name = "metaserver-csr-" + n;
    csrNames.add(name);
    // Polled before it exists: a bare 404 Status, no resourceversion.
    Message missing = requests.answer(n, csrMessage(n, Operations.QUERY, null));
    assertThat(missing.content().path("ErrStatus").path("code").asInt())
        .as(Json.string(missing.content()))
        .isEqualTo(404);
    assertThat(missing.content().has("Object")).isFalse();
    assertThat(missing.header().resourceVersion()).isEmpty();

    // Created through the cloud as the node.
    KeyPair first = KeyPairs.ecP256();
    Message reply = requests.answer(n, csrMessage(n, Operations.INSERT, withKey(n, first)));
    assertThat(reply.operation()).isEqualTo(Operations.RESPONSE);
    assertThat(reply.content().get("Err").isNull()).as(Json.string(reply.content())).isTrue();
    assertThat(reply.content().path("Object").path("spec").path("username").asString())
        .isEqualTo("system:node:" + n);
    // the shape KubeEdge's cloud answered the create with (golden seq 161)
    assertThat(ShapeDiff.of(GoldenTrace.message(161).get("content"), reply.content())).isEmpty();
    String firstUid = reply.content().at("/Object/metadata/uid").asString();
    // The same key again (an edge that lost the answer, or restarted with its key): 409, kept.
    Message again = requests.answer(n, csrMessage(n, Operations.INSERT, withKey(n, first)));
    assertThat(again.content().at("/Err/ErrStatus/code").asInt())
        .as(Json.string(again.content()))
        .isEqualTo(409);
    assertThat(again.content().at("/Err/ErrStatus/reason").asString()).isEqualTo("AlreadyExists");
    assertThat(get(name).getMetadata().getUid()).isEqualTo(firstUid);
    // Another key: the edge could not use the existing one, so it is replaced.
    Message replaced =
        requests.answer(n, csrMessage(n, Operations.INSERT, withKey(n, KeyPairs.ecP256())));
    assertThat(replaced.content().get("Err").isNull()).as(Json.string(replaced.content())).isTrue();
    String uid = replaced.content().at("/Object/metadata/uid").asString();
    assertThat(uid).isNotEqualTo(firstUid);
    assertThat(get(name).getMetadata().getUid()).isEqualTo(uid);

    Waits.until("certificate issued for " + name, Duration.ofSeconds(60), () -> issued(name));
    assertThat(condition(get(name)))
        .isEqualTo("Approved:" + CsrApprover.APPROVED_REASON + ":" + CsrApprover.APPROVED_MESSAGE);
    // Polled through the cloud, as the edge does: the bare CSR, its resourceVersion in the header.
    Message polled = requests.answer(n, csrMessage(n, Operations.QUERY, null));
    // the shape of KubeEdge's answer to the poll (golden seq 293)
    assertThat(ShapeDiff.of(GoldenTrace.message(293).get("content"), polled.content())).isEmpty();
    assertThat(polled.content().has("Object")).isFalse();
    assertThat(polled.content().path("kind").asString()).isEqualTo("CertificateSigningRequest");
    assertThat(polled.content().at("/metadata/uid").asString()).isEqualTo(uid);
    assertThat(polled.header().resourceVersion())
        .isNotEmpty()
        .isEqualTo(polled.content().at("/metadata/resourceVersion").asString());
    String certB64 = polled.content().path("status").path("certificate").asString();
    X509Certificate cert =
        Pem.certificate(new String(Base64.getDecoder().decode(certB64), "US-ASCII"));
    cert.verify(plane.pki().ca().getPublicKey());
    assertThat(cert.getSubjectX500Principal().getName()).contains("CN=system:node:" + n);
    List<String> ips = new ArrayList<>();
    for (List<?> san : cert.getSubjectAlternativeNames()) {
      ips.add((String) san.get(1));
    }
    assertThat(ips).containsExactlyInAnyOrder("127.0.0.1", "169.254.30.10");

    // A node may not read or create another node's CSR through the cloud.
    Message foreign =
        requests.answer(
            "edge-other",
            Message.of(
                new MessageRoute(
                    Sources.EDGED,
                    Sources.GROUP_META,
                    Operations.QUERY,
                    "default/certificatesigningrequest/" + name),
                null));
    assertThat(foreign.content().path("ErrStatus").path("code").asInt()).isEqualTo(403);
    Message foreignCreate =
        requests.answer(
            "edge-other",
            Message.of(
                new MessageRoute(
                    Sources.EDGED,
                    Sources.GROUP_META,
                    Operations.INSERT,
                    "default/certificatesigningrequest/" + name),
                Json.parse(admin.getKubernetesSerialization().asJson(withKey(n, first)))));
    assertThat(foreignCreate.content().at("/Err/ErrStatus/code").asInt()).isEqualTo(403);
    assertThat(get(name).getMetadata().getUid()).isEqualTo(uid);
  }

  /** A denied CSR is never reused, even for the same key: the new request replaces it. */
  @Test
  void aDeniedCsrIsReplacedEvenForTheSameKey() throws Exception {
    String n = node("edge-denied");
    String name = "metaserver-csr-" + n;
    KeyPair key = KeyPairs.ecP256();
    // made by the node itself, for an IP it may not have: the approver denies it
    createAs(
        adminClients.asNode(n),
        TestCsrs.csr(
            name,
            TestCsrs.request(key, n, List.of("127.0.0.1", "169.254.30.10", "10.9.9.9")),
            TestCsrs.USAGES,
            null,
            null));
    Waits.until(
        name + " denied", Duration.ofSeconds(60), () -> condition(get(name)).startsWith("Denied"));
    String deniedUid = get(name).getMetadata().getUid();
    Message reply = requests.answer(n, csrMessage(n, Operations.INSERT, withKey(n, key)));
    assertThat(reply.content().get("Err").isNull()).as(Json.string(reply.content())).isTrue();
    assertThat(reply.content().at("/Object/metadata/uid").asString()).isNotEqualTo(deniedUid);
    Waits.until("certificate issued for " + name, Duration.ofSeconds(60), () -> issued(name));
  }

  /**
   * An edge requests its certificate while it registers: the CSR can reach the apiserver before its
   * Node. It is decided once the Node exists, not denied.
   */
  @Test
  void aCsrAheadOfItsNodeWaitsForIt() throws Exception {
    String n = "edge-early-" + sfx;
    String name = "metaserver-csr-" + n;
    createAs(
        adminClients.asNode(n),
        TestCsrs.csr(
            name,
            TestCsrs.request(n, List.of("127.0.0.2", "169.254.30.10")),
            TestCsrs.USAGES,
            null,
            null));
    Thread.sleep(3000);
    assertThat(condition(get(name))).as("pending while the node is unknown").isEmpty();
    node("edge-early");
    Duration d =
        Waits.until(
            "certificate issued for " + name,
            Duration.ofSeconds(60),
            () -> {
              var c = get(name);
              return c.getStatus() != null
                  && c.getStatus().getCertificate() != null
                  && !c.getStatus().getCertificate().isEmpty();
            });
    assertThat(condition(get(name))).startsWith("Approved");
    LOG.info("CSR created ahead of its Node issued {} ms after the Node appeared", d.toMillis());
  }

  @Test
  void refusesOtherNodesExtraSansAndNonNodeRequesters() {
    String a = node("edge-a");
    String b = node("edge-b");
    String c = node("edge-c");
    String d = node("edge-d");
    // node b asks for node a's certificate name
    var forA = TestCsrs.valid(a);
    createAs(adminClients.asNode(b), forA);
    // node c asks for an IP only its connection could vouch for, and it has none: after the
    // grace, denied
    var extra =
        TestCsrs.csr(
            "metaserver-csr-" + c,
            TestCsrs.request(c, List.of("127.0.0.1", "169.254.30.10", "10.1.2.3")),
            TestCsrs.USAGES,
            null,
            null);
    createAs(adminClients.asNode(c), extra);
    // a user that is no node
    var byAdmin = TestCsrs.valid(b);
    createAs(admin, byAdmin);
    // a kubelet serving CSR that is not MetaServer's: left for others
    var kubelet = TestCsrs.valid(a);
    kubelet.getMetadata().setName("csr-kubelet-" + sfx);
    createAs(adminClients.asNode(a), kubelet);
    // node d serving on other loopback and link-local addresses than KubeEdge's defaults
    var own =
        TestCsrs.csr(
            "metaserver-csr-" + d,
            TestCsrs.request(d, List.of("127.0.0.2", "169.254.30.12")),
            TestCsrs.USAGES,
            null,
            null);
    createAs(adminClients.asNode(d), own);

    for (String[] want :
        new String[][] {
          {"metaserver-csr-" + a, "requested by"},
          {
            "metaserver-csr-" + c,
            "IP SANs [10.1.2.3] are neither loopback nor link-local, and node "
                + c
                + " has no connection to cloudcore"
          },
          {"metaserver-csr-" + b, "requested by"},
        }) {
      Waits.until(
          want[0] + " denied",
          Duration.ofSeconds(60),
          () -> condition(get(want[0])).startsWith("Denied"));
      assertThat(condition(get(want[0]))).contains(CsrApprover.DENIED_REASON).contains(want[1]);
    }
    Waits.until(
        "metaserver-csr-" + d + " issued",
        Duration.ofSeconds(60),
        () -> get("metaserver-csr-" + d).getStatus().getCertificate() != null);
    // Decided CSRs are never signed; the kubelet one stays pending.
    for (String name :
        List.of("metaserver-csr-" + a, "metaserver-csr-" + b, "metaserver-csr-" + c)) {
      var got = get(name);
      assertThat(got.getStatus().getCertificate()).as(name).isNullOrEmpty();
    }
    assertThat(condition(get("csr-kubelet-" + sfx))).isEmpty();
  }

  static String read(java.nio.file.Path p) {
    try {
      return java.nio.file.Files.readString(p);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
