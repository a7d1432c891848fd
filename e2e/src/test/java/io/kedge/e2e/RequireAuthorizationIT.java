package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.pki.Pem;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.EdgeCoreProcess;
import io.kedge.testkit.Ports;
import io.kedge.testkit.Prerequisites;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Issue 6 end to end, with {@code featureGates.requireAuthorization} on both sides: real cloudcore
 * (as ServiceAccount kubeedge/cloudcore, shipped RBAC) and a real edgecore; pod tokens from the
 * apiserver's TokenRequest presented to MetaServer over HTTPS with the real {@code curl} and the
 * cluster CA the edge keeps. Authentication (401 for forged, expired and other nodes' tokens),
 * authorization (403 as the apiserver words it, a new RoleBinding honoured once synced), the last
 * synced RBAC deciding while the cloud is away (a deletion made meanwhile applied after
 * reconnecting), and an edgecore restarted without the cloud serving its kept certificate.
 */
@WithControlPlane
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RequireAuthorizationIT {
  private static final Logger LOG = LoggerFactory.getLogger(RequireAuthorizationIT.class);
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final String NODE = "edge-authz-1";
  private static final String OTHER_NODE = "edge-authz-elsewhere";

  static Path dir;
  static ControlPlane plane;
  static KubernetesClient admin;
  static CloudCoreProcess cloud;
  static EdgeCoreProcess edge;
  static int port;
  static String ns;
  static String readerToken;
  static String nobodyToken;
  static String elsewhereToken;

  @BeforeAll
  static void cloudAndEdge(ControlPlane p, KubernetesClient a) {
    Prerequisites.tool("curl", "curl");
    dir = RunFiles.runDir("require-authz-it-");
    LOG.info("files of this run in {}", dir);
    plane = p;
    admin = a;
    cloud = SecureMetaServer.startCloud(plane, dir.resolve("cloudcore"));
    port = Ports.free();
    edge =
        SecureMetaServer.startEdge(
            dir.resolve("edge"), NODE, cloud, port, "-Xmx256m -XX:+UseSerialGC");
    Waits.until("node " + NODE + " Ready", WAIT, () -> ready(NODE));
    Duration issued =
        Waits.until(
            "MetaServer's serving certificate issued by the cluster and the cluster CA kept",
            WAIT,
            () -> Files.isRegularFile(pki().resolve("metaserver-current.pem")) && caFileReady());
    LOG.info(
        "serving certificate and CA at the edge {} ms after the node was Ready", issued.toMillis());

    // A node object without a kubelet, so that its pods are not collected as orphans.
    admin
        .nodes()
        .resource(new NodeBuilder().withNewMetadata().withName(OTHER_NODE).endMetadata().build())
        .serverSideApply();
    ns = "authz-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    PageInstall.readerNamespace(admin, ns, true);
    admin
        .serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("nobody").endMetadata().build())
        .serverSideApply();
    // the other node's pod first: by the time this node's pods are known here, it long exists
    Pod elsewhere = pod("elsewhere", "reader", OTHER_NODE);
    Pod reader = pod("reader-pod", "reader", NODE);
    Pod nobody = pod("nobody-pod", "nobody", NODE);
    readerToken = SecureMetaServer.podToken(admin, ns, "reader", "reader-pod", uid(reader));
    nobodyToken = SecureMetaServer.podToken(admin, ns, "nobody", "nobody-pod", uid(nobody));
    elsewhereToken = SecureMetaServer.podToken(admin, ns, "reader", "elsewhere", uid(elsewhere));
  }

  @AfterAll
  static void stop() {
    try {
      if (edge != null) {
        edge.close();
      }
    } finally {
      try {
        if (cloud != null) {
          cloud.close();
          // must show 4: cloudcore's own calls all allowed by the shipped ClusterRoles
          cloud.assertNoForbidden();
        }
      } finally {
        if (admin != null) {
          for (String n : List.of(NODE, OTHER_NODE)) {
            if (admin.nodes().withName(n).get() != null) {
              admin.nodes().withName(n).delete();
            }
          }
        }
      }
    }
  }

  /** Must show 1: a pod's token lists ConfigMaps with curl, on both MetaServer addresses. */
  @Test
  @Order(1)
  void aPodTokenListsConfigMapsWithCurlOnBothAddresses() {
    SecureMetaServer.Answer[] last = {null};
    Duration d =
        Waits.until(
            "the reader pod's token is accepted at the edge",
            WAIT,
            () -> (last[0] = curl(readerToken, "127.0.0.1")).code() == 200);
    LOG.info("reader pod's token accepted {} ms after the pods were created", d.toMillis());
    List<String> truth =
        admin.configMaps().inNamespace(ns).list().getItems().stream()
            .map(c -> c.getMetadata().getName())
            .sorted()
            .toList();
    assertThat(last[0].json().path("kind").asString()).isEqualTo("ConfigMapList");
    assertThat(last[0].names()).containsExactlyInAnyOrderElementsOf(truth);
    assertThat(truth).contains("greeting", "kube-root-ca.crt");

    SecureMetaServer.Answer dummy = curl(readerToken, "127.0.0.2");
    assertThat(dummy.code()).as(dummy.toString()).isEqualTo(200);
    assertThat(dummy.names()).containsExactlyInAnyOrderElementsOf(truth);

    // both addresses serve the certificate the cluster issued (the CA file verified it)
    X509Certificate served = SecureMetaServer.handshake(ca(), "127.0.0.1", port);
    assertThat(served.getIssuerX500Principal())
        .isEqualTo(plane.pki().ca().getSubjectX500Principal());
    assertThat(served.getSubjectX500Principal().getName()).contains("CN=system:node:" + NODE);
    assertThat(SecureMetaServer.handshake(ca(), "127.0.0.2", port).getSerialNumber())
        .isEqualTo(served.getSerialNumber());
  }

  /**
   * Must show 1: forged, expired, other node's tokens → 401. The expired token is honest: the
   * reader pod's real token re-signed with the cluster's own service-account key (the control
   * plane's {@code sa.key}) with {@code exp} in the past; the same re-signing with {@code exp} in
   * the future is accepted by the edge and the apiserver alike, so only the expiry differs.
   */
  @Test
  @Order(2)
  void forgedExpiredAndOtherNodesTokensAre401() {
    var saKey = Pem.privateKey(Pem.read(plane.pki().serviceAccountKey()));
    Instant now = Instant.now();
    String fresh =
        SecureMetaServer.resigned(
            readerToken, saKey, now.minusSeconds(60), now.plus(Duration.ofMinutes(10)));
    String expired =
        SecureMetaServer.resigned(
            readerToken, saKey, now.minus(Duration.ofHours(2)), now.minus(Duration.ofHours(1)));
    String forged = SecureMetaServer.forged(readerToken);

    assertThat(curl(fresh, "127.0.0.1").code()).as("re-signed, still valid").isEqualTo(200);
    assertThat(atApiserver(fresh).code()).as("the apiserver accepts it too").isEqualTo(200);
    assertThat(atApiserver(expired).code()).as("the apiserver: expired").isEqualTo(401);
    assertThat(atApiserver(forged).code()).as("the apiserver: forged").isEqualTo(401);
    assertThat(atApiserver(elsewhereToken).code())
        .as("the other node's pod token is valid in the cluster")
        .isEqualTo(200);

    for (Map.Entry<String, String> e :
        Map.of("forged", forged, "expired", expired, "other node's pod", elsewhereToken)
            .entrySet()) {
      for (String host : List.of("127.0.0.1", "127.0.0.2")) {
        SecureMetaServer.Answer a = curl(e.getValue(), host);
        assertThat(a.code()).as(e.getKey() + " at " + host + ": " + a).isEqualTo(401);
        JsonNode s = a.json();
        assertThat(s.path("kind").asString()).isEqualTo("Status");
        assertThat(s.path("reason").asString()).isEqualTo("Unauthorized");
        assertThat(s.path("code").asInt()).isEqualTo(401);
      }
    }
  }

  /** Must show 1: no RBAC → 403 worded as the apiserver words it; a RoleBinding → allowed. */
  @Test
  @Order(3)
  void noRbacIs403AndARoleBindingIsHonouredOnceSynced() {
    SecureMetaServer.Answer[] last = {null};
    Waits.until(
        "the nobody pod known at the edge",
        WAIT,
        () -> (last[0] = curl(nobodyToken, "127.0.0.1")).code() != 401);
    assertThat(last[0].code()).as(last[0].toString()).isEqualTo(403);
    SecureMetaServer.Answer cloudSays = atApiserver(nobodyToken);
    assertThat(cloudSays.code()).isEqualTo(403);
    JsonNode edgeStatus = last[0].json();
    assertThat(edgeStatus.path("kind").asString()).isEqualTo("Status");
    assertThat(edgeStatus.path("reason").asString()).isEqualTo("Forbidden");
    assertThat(edgeStatus.path("message").asString())
        .isEqualTo(cloudSays.json().path("message").asString())
        .isEqualTo(
            "configmaps is forbidden: User \"system:serviceaccount:"
                + ns
                + ":nobody\" cannot list resource \"configmaps\" in API group \"\" in the"
                + " namespace \""
                + ns
                + "\"");
    assertThat(edgeStatus.path("details")).isEqualTo(cloudSays.json().path("details"));

    bind("nobody", "nobody-reads");
    Duration d =
        Waits.until(
            "the new RoleBinding reaches the edge",
            WAIT,
            () -> curl(nobodyToken, "127.0.0.1").code() == 200);
    LOG.info("RoleBinding {}/nobody-reads honoured at the edge after {} ms", ns, d.toMillis());
    // still only what the binding grants
    assertThat(curl(nobodyToken, "127.0.0.1", secretsPath()).code()).isEqualTo(403);
  }

  /**
   * Must show 2: the cloud stopped, the last synced RBAC decides; a RoleBinding deleted meanwhile
   * is applied once the edge is back.
   */
  @Test
  @Order(4)
  void offlineTheLastSyncedRbacDecidesAndADeletionAppliesAfterReconnecting() {
    int connections = edge.connections();
    long disconnects = disconnects();
    cloud.stop();
    try {
      Waits.until("edgecore notices the outage", WAIT, () -> disconnects() > disconnects);
      assertThat(curl(readerToken, "127.0.0.1").code()).as("allowed stays allowed").isEqualTo(200);
      assertThat(curl(readerToken, "127.0.0.2").names()).contains("greeting");
      assertThat(curl(nobodyToken, "127.0.0.1").code()).isEqualTo(200);
      assertThat(curl(nobodyToken, "127.0.0.1", secretsPath()).code())
          .as("denied stays denied")
          .isEqualTo(403);
      assertThat(curl(SecureMetaServer.forged(readerToken), "127.0.0.1").code()).isEqualTo(401);
      assertThat(curl(elsewhereToken, "127.0.0.1").code()).isEqualTo(401);

      admin.rbac().roleBindings().inNamespace(ns).withName("reader").delete();
      Waits.until(
          "RoleBinding reader gone at the apiserver",
          WAIT,
          () -> admin.rbac().roleBindings().inNamespace(ns).withName("reader").get() == null);
      assertThat(curl(readerToken, "127.0.0.1").code())
          .as("offline, the edge cannot know of the deletion")
          .isEqualTo(200);
    } finally {
      cloud.startProcess();
    }
    long back = System.nanoTime();
    edge.awaitConnections(connections + 1, WAIT);
    Duration d =
        Waits.until(
            "the deleted RoleBinding no longer grants at the edge",
            WAIT,
            () -> curl(readerToken, "127.0.0.1").code() == 403);
    LOG.info(
        "RoleBinding deletion made offline applied at the edge {} ms after it reconnected"
            + " ({} ms after cloudcore was up)",
        d.toMillis(),
        (System.nanoTime() - back) / 1_000_000);
    assertThat(curl(nobodyToken, "127.0.0.1").code())
        .as("other bindings unaffected")
        .isEqualTo(200);
  }

  /** Must show 5: edgecore restarted with the cloud down serves HTTPS with its kept certificate. */
  @Test
  @Order(5)
  void restartedWithoutTheCloudItServesTheKeptCertificate() throws Exception {
    X509Certificate kept = SecureMetaServer.keptCertificate(pki());
    X509Certificate before = SecureMetaServer.handshake(ca(), "127.0.0.1", port);
    assertThat(before.getSerialNumber()).isEqualTo(kept.getSerialNumber());
    cloud.stop();
    int connections = edge.connections();
    try {
      edge.stop();
      long started = System.nanoTime();
      edge.startProcess();
      SecureMetaServer.Answer[] last = {null};
      Waits.until(
          "the restarted edgecore answers over HTTPS",
          WAIT,
          () -> {
            last[0] = curl(nobodyToken, "127.0.0.1");
            // an answer, or a certificate curl refuses (which fails below)
            return last[0].code() != 0 || last[0].error().contains("certificate");
          });
      long ms = (System.nanoTime() - started) / 1_000_000;
      LOG.info(
          "edgecore restarted without the cloud: first TLS answer {} ms after process start", ms);
      assertThat(last[0].code()).as(last[0].toString()).isEqualTo(200);
      assertThat(last[0].names()).contains("greeting");
      assertThat(edge.connections()).as("the cloud is still down").isEqualTo(connections);

      X509Certificate served = SecureMetaServer.handshake(ca(), "127.0.0.1", port);
      assertThat(served.getSerialNumber()).isEqualTo(kept.getSerialNumber());
      served.verify(plane.pki().ca().getPublicKey()); // issued by the cluster, not a placeholder
      assertThat(served.getIssuerX500Principal())
          .isEqualTo(plane.pki().ca().getSubjectX500Principal());
      assertThat(SecureMetaServer.handshake(ca(), "127.0.0.2", port).getSerialNumber())
          .isEqualTo(kept.getSerialNumber());
      assertThat(curl(readerToken, "127.0.0.1").code()).as("RBAC from the store").isEqualTo(403);
    } finally {
      cloud.startProcess();
    }
    edge.awaitConnections(connections + 1, WAIT);
  }

  // ---- helpers -----------------------------------------------------------------------------

  static Path pki() {
    return edge.dir().resolve("pki/metaserver");
  }

  /** The cluster CA as the edge keeps it ({@code k8s/ca.crt} from the cloud). */
  static Path ca() {
    return pki().resolve("ca.crt");
  }

  static boolean caFileReady() {
    Path f = ca();
    return Files.isRegularFile(f)
        && Pem.read(f).contains("BEGIN CERTIFICATE")
        && Pem.certificate(Pem.read(f)).equals(plane.pki().ca());
  }

  static String listPath() {
    return "/api/v1/namespaces/" + ns + "/configmaps";
  }

  static String secretsPath() {
    return "/api/v1/namespaces/" + ns + "/secrets";
  }

  static SecureMetaServer.Answer curl(String token, String host) {
    return curl(token, host, listPath());
  }

  static SecureMetaServer.Answer curl(String token, String host, String path) {
    return SecureMetaServer.curl(ca(), token, "https://" + host + ":" + port + path);
  }

  /** The same list at the apiserver, with the cluster CA. */
  static SecureMetaServer.Answer atApiserver(String token) {
    return SecureMetaServer.curl(plane.pki().caCert(), token, plane.apiserverUrl() + listPath());
  }

  static Pod pod(String name, String sa, String node) {
    Pod p =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(ns)
            .endMetadata()
            .withNewSpec()
            .withNodeName(node)
            .withServiceAccountName(sa)
            .withRestartPolicy("Never")
            .withTolerations(
                new TolerationBuilder()
                    .withKey("node.kubernetes.io/unreachable")
                    .withOperator("Exists")
                    .withEffect("NoExecute")
                    .build(),
                new TolerationBuilder()
                    .withKey("node.kubernetes.io/not-ready")
                    .withOperator("Exists")
                    .withEffect("NoExecute")
                    .build())
            .addNewContainer()
            .withName("main")
            .withImage("kedge/host-process")
            .withCommand("/bin/sleep", "3600")
            .endContainer()
            .endSpec()
            .build();
    return admin.pods().inNamespace(ns).resource(p).create();
  }

  static String uid(Pod p) {
    return p.getMetadata().getUid();
  }

  /** RoleBinding {@code name}: ServiceAccount {@code sa} gets Role configmap-reader. */
  static void bind(String sa, String name) {
    PageInstall.bindConfigMapReader(admin, ns, name, sa);
  }

  static long disconnects() {
    return edge.log().lines().filter(l -> l.contains("disconnected from the cloud")).count();
  }

  static boolean ready(String name) {
    Node n = admin.nodes().withName(name).get();
    return n != null
        && n.getStatus() != null
        && n.getStatus().getConditions() != null
        && n.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }
}
