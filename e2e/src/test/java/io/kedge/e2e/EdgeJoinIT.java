package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.EdgeCoreProcess;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real processes on the real control plane: cloudcore (as ServiceAccount kubeedge/cloudcore, with
 * the shipped RBAC) and three edgecores that join with the token from Secret kubeedge/tokensecret,
 * become Ready with the edge label, keep renewing their Leases, and survive {@code kill -9} of
 * cloudcore and its restart. A ConfigMap referenced by a pod on one edge reaches that edge's store
 * (its SQLite file, read directly: asking MetaServer would itself fetch from the cloud), a change
 * made while the edge was stopped arrives after it starts again, and a ConfigMap no pod references
 * never reaches any edge.
 */
@WithControlPlane
class EdgeJoinIT {
  private static final Logger LOG = LoggerFactory.getLogger(EdgeJoinIT.class);
  private static final Duration WAIT = Duration.ofSeconds(240);
  private static final String EDGE_LABEL = "node-role.kubernetes.io/edge";
  private static final String NS = "edge-join";
  private static final String REFERENCED = "settings";
  private static final String UNREFERENCED = "unreferenced";
  private static final String CONFIGMAPS = "/v1/configmaps";

  // Kept when the test fails: the cloudcore and edgecore logs are in it.
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  private static boolean ready(KubernetesClient admin, String node) {
    Node n = admin.nodes().withName(node).get();
    if (n == null || n.getStatus() == null || n.getStatus().getConditions() == null) {
      return false;
    }
    return n.getStatus().getConditions().stream()
        .filter(c -> "Ready".equals(c.getType()))
        .map(NodeCondition::getStatus)
        .anyMatch("True"::equals);
  }

  /** When the node's Ready condition last changed (from the apiserver). */
  private static java.time.Instant readySince(KubernetesClient admin, String node) {
    return admin.nodes().withName(node).get().getStatus().getConditions().stream()
        .filter(c -> "Ready".equals(c.getType()))
        .map(c -> java.time.Instant.parse(c.getLastTransitionTime()))
        .findFirst()
        .orElseThrow();
  }

  private static ZonedDateTime renewTime(KubernetesClient admin, String node) {
    Lease l = admin.leases().inNamespace("kube-node-lease").withName(node).get();
    return l == null || l.getSpec() == null || l.getSpec().getRenewTime() == null
        ? null
        : l.getSpec().getRenewTime();
  }

  private static void awaitRenewal(KubernetesClient admin, String node) {
    ZonedDateTime before = renewTime(admin, node);
    Waits.until(
        "lease of " + node + " renewed",
        WAIT,
        () -> {
          ZonedDateTime now = renewTime(admin, node);
          return now != null && (before == null || now.isAfter(before));
        });
  }

  /** The ConfigMap's JSON as the edge's store holds it (live rows only), read-only. */
  private static Optional<String> stored(EdgeCoreProcess edge, String name) {
    return query(
        edge,
        "SELECT value FROM objects WHERE gvr = ? AND namespace = ? AND name = ? AND deleted = 0",
        name);
  }

  /** Whether the ConfigMap ever reached the edge's store: a row (even deleted) or an event. */
  private static boolean everStored(EdgeCoreProcess edge, String name) {
    return query(edge, "SELECT 1 FROM objects WHERE gvr = ? AND namespace = ? AND name = ?", name)
            .isPresent()
        || query(edge, "SELECT 1 FROM events WHERE gvr = ? AND namespace = ? AND name = ?", name)
            .isPresent();
  }

  private static Optional<String> query(EdgeCoreProcess edge, String sql, String name) {
    Path db = edge.database();
    if (!Files.exists(db)) {
      return Optional.empty();
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro");
        PreparedStatement p = c.prepareStatement(sql)) {
      p.setString(1, CONFIGMAPS);
      p.setString(2, NS);
      p.setString(3, name);
      try (ResultSet r = p.executeQuery()) {
        if (!r.next()) {
          return Optional.empty();
        }
        byte[] v = r.getBytes(1);
        return Optional.of(v == null ? "" : new String(v, StandardCharsets.UTF_8));
      }
    } catch (SQLException e) {
      // Reported; the caller polls again.
      LOG.warn("reading {} failed: {}", db, e.toString());
      return Optional.empty();
    }
  }

  private static boolean storedVersion(EdgeCoreProcess edge, String version) {
    return stored(edge, REFERENCED)
        .map(
            json ->
                java.util.regex.Pattern.compile("\"version\"\\s*:\\s*\"" + version + "\"")
                    .matcher(json)
                    .find())
        .orElse(false);
  }

  private static int httpStatus(java.net.URI uri) {
    try {
      HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
      c.setConnectTimeout(5000);
      c.setReadTimeout(5000);
      try {
        return c.getResponseCode();
      } finally {
        c.disconnect();
      }
    } catch (IOException e) {
      return -1;
    }
  }

  /**
   * {@code kubectl get nodes -l node-role.kubernetes.io/edge} with the admin kubeconfig: node name
   * to its Ready condition status; the table itself is logged.
   */
  private static Map<String, String> kubectlEdgeNodes(ControlPlane plane) throws Exception {
    Path cached =
        Path.of(System.getProperty("user.home"), ".cache/kedge/kubernetes-client/usr/bin/kubectl");
    String kubectl = Files.isExecutable(cached) ? cached.toString() : "kubectl";
    String kc = "--kubeconfig=" + plane.adminKubeconfig();
    LOG.info(
        "kubectl get nodes -o wide:\n{}",
        run(List.of(kubectl, kc, "get", "nodes", "-o", "wide", "--show-labels")));
    String out =
        run(
            List.of(
                kubectl,
                kc,
                "get",
                "nodes",
                "-l",
                EDGE_LABEL,
                "-o",
                "jsonpath={range .items[*]}{.metadata.name}"
                    + "={.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}"));
    Map<String, String> ready = new java.util.TreeMap<>();
    for (String line : out.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        ready.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
      }
    }
    return ready;
  }

  private static String run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new AssertionError(command + " failed: " + out);
    }
    return out;
  }

  private static ConfigMap configMap(String name, Map<String, String> data) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(NS)
        .endMetadata()
        .withData(data)
        .build();
  }

  /** A pod on {@code node} that mounts ConfigMap {@link #REFERENCED} (and no token). */
  private static Pod podReferencing(String node) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("reader")
        .withNamespace(NS)
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .withAutomountServiceAccountToken(false)
        .addNewContainer()
        .withName("app")
        .withImage("busybox")
        .withCommand("/bin/sleep", "3600")
        .addNewVolumeMount()
        .withName("settings")
        .withMountPath("/etc/settings")
        .endVolumeMount()
        .endContainer()
        .addNewVolume()
        .withName("settings")
        .withNewConfigMap()
        .withName(REFERENCED)
        .endConfigMap()
        .endVolume()
        .endSpec()
        .build();
  }

  @Test
  void edgesJoinStayReadyAndSurviveACloudcoreCrash(ControlPlane plane, KubernetesClient admin)
      throws Exception {
    List<String> nodes = List.of("edge-join-1", "edge-join-2", "edge-join-3");
    List<EdgeCoreProcess> edges = new ArrayList<>();
    try (CloudCoreProcess cloud = CloudCoreProcess.start(plane, dir.resolve("cloudcore"))) {
      String token = cloud.token();
      try {
        for (String n : nodes) {
          edges.add(
              EdgeCoreProcess.start(
                  dir.resolve(n),
                  n,
                  cloud.hubUri(),
                  cloud.bootstrapUri(),
                  token,
                  "modules.metaManager.metaServer.enable=true"));
        }
        for (String n : nodes) {
          Waits.until(n + " Ready", WAIT, () -> ready(admin, n));
          Node node = admin.nodes().withName(n).get();
          assertThat(node.getMetadata().getLabels()).containsKey(EDGE_LABEL);
          assertThat(node.getStatus().getAddresses())
              .anyMatch(
                  a -> "InternalIP".equals(a.getType()) && "127.0.0.1".equals(a.getAddress()));
          // the Lease follows the Node's registration: Ready may be reported first
          Waits.until(
              "lease of " + n,
              WAIT,
              () -> admin.leases().inNamespace("kube-node-lease").withName(n).get() != null);
          Lease lease = admin.leases().inNamespace("kube-node-lease").withName(n).get();
          assertThat(lease.getMetadata().getOwnerReferences())
              .anyMatch(
                  o ->
                      "Node".equals(o.getKind()) && node.getMetadata().getUid().equals(o.getUid()));
        }
        for (String n : nodes) {
          awaitRenewal(admin, n);
        }
        assertThat(kubectlEdgeNodes(plane))
            .as("kubectl get nodes -l " + EDGE_LABEL)
            .containsEntry(nodes.get(0), "True")
            .containsEntry(nodes.get(1), "True")
            .containsEntry(nodes.get(2), "True");
        for (EdgeCoreProcess e : edges) {
          // Each edge's MetaServer answers on its own port.
          Waits.until(
              e.node() + " MetaServer /healthz",
              WAIT,
              () -> httpStatus(e.metaServerUri().resolve("/healthz")) == 200);
        }

        // A pod on the first edge references one ConfigMap; another ConfigMap nobody references.
        EdgeCoreProcess first = edges.get(0);
        admin
            .namespaces()
            .resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
            .create();
        Waits.until(
            "ServiceAccount " + NS + "/default",
            WAIT,
            () -> admin.serviceAccounts().inNamespace(NS).withName("default").get() != null);
        admin.configMaps().resource(configMap(REFERENCED, Map.of("version", "1"))).create();
        admin.configMaps().resource(configMap(UNREFERENCED, Map.of("secret", "stays"))).create();
        admin.pods().resource(podReferencing(first.node())).create();
        Waits.until(
            "ConfigMap " + REFERENCED + " v1 in the store of " + first.node(),
            WAIT,
            () -> storedVersion(first, "1"));

        int[] before = new int[edges.size()];
        for (int i = 0; i < edges.size(); i++) {
          before[i] = edges.get(i).connections();
        }
        java.time.Instant killedAt = java.time.Instant.now();
        cloud.kill();
        long killed = System.nanoTime();
        LOG.info("cloudcore killed");
        cloud.startProcess();
        long started = System.nanoTime();
        LOG.info("cloudcore up again {} ms after kill -9", (started - killed) / 1_000_000);
        for (int i = 0; i < edges.size(); i++) {
          edges.get(i).awaitConnections(before[i] + 1, WAIT);
        }
        LOG.info(
            "all {} edges reconnected {} ms after cloudcore was up again ({} ms after kill -9)",
            edges.size(),
            (System.nanoTime() - started) / 1_000_000,
            (System.nanoTime() - killed) / 1_000_000);
        for (String n : nodes) {
          awaitRenewal(admin, n);
          assertThat(ready(admin, n)).as(n + " still Ready after the restart").isTrue();
          // The node controller marks a node Unknown when its Lease is not renewed for
          // node-monitor-grace-period (40 s); whether the outage lasted that long is reported.
          java.time.Instant since = readySince(admin, n);
          LOG.info(
              "{}: Ready since {} ({} the kill at {})",
              n,
              since,
              since.isAfter(killedAt.minusSeconds(1)) ? "changed after" : "unchanged across",
              killedAt);
        }
        assertThat(kubectlEdgeNodes(plane))
            .as("kubectl get nodes -l " + EDGE_LABEL + " after the restart")
            .containsEntry(nodes.get(0), "True")
            .containsEntry(nodes.get(1), "True")
            .containsEntry(nodes.get(2), "True");

        // The first edge is stopped, the ConfigMap changes, the edge starts again: it gets v2.
        int firstConnections = first.connections();
        assertThat(first.stop()).as("edgecore exit code on SIGTERM").isEqualTo(143);
        admin
            .configMaps()
            .inNamespace(NS)
            .withName(REFERENCED)
            .edit(cm -> new ConfigMapBuilder(cm).withData(Map.of("version", "2")).build());
        assertThat(storedVersion(first, "1")).as("store still has v1 while stopped").isTrue();
        long restarted = System.nanoTime();
        first.startProcess();
        first.awaitConnections(firstConnections + 1, WAIT);
        Waits.until(
            "ConfigMap " + REFERENCED + " v2 in the store of " + first.node(),
            WAIT,
            () -> storedVersion(first, "2"));
        LOG.info(
            "{}: changed ConfigMap stored {} ms after edgecore started again",
            first.node(),
            (System.nanoTime() - restarted) / 1_000_000);
        Waits.until(first.node() + " Ready again", WAIT, () -> ready(admin, first.node()));

        for (EdgeCoreProcess e : edges) {
          assertThat(everStored(e, UNREFERENCED))
              .as("unreferenced ConfigMap in the store of " + e.node())
              .isFalse();
        }
        for (EdgeCoreProcess e : edges.subList(1, edges.size())) {
          assertThat(everStored(e, REFERENCED))
              .as("ConfigMap of a pod on another node in the store of " + e.node())
              .isFalse();
        }
        // How the pod itself fares on the edge is Edged's concern; its state is logged for context.
        Pod reader = admin.pods().inNamespace(NS).withName("reader").get();
        if (reader.getStatus() != null && reader.getStatus().getContainerStatuses() != null) {
          reader
              .getStatus()
              .getContainerStatuses()
              .forEach(
                  s ->
                      LOG.info(
                          "pod {}/reader container {}: ready={} restarts={} state={} last={}",
                          NS,
                          s.getName(),
                          s.getReady(),
                          s.getRestartCount(),
                          s.getState(),
                          s.getLastState()));
        }
        assertThat(cloud.forbiddenLines()).as("cloudcore refused by RBAC").isEmpty();
        for (EdgeCoreProcess e : edges) {
          assertThat(e.process().isAlive()).isTrue();
          assertThat(e.log()).doesNotContain("Exception in thread");
        }
      } catch (Throwable t) {
        LOG.error("failed; logs under {}; cloudcore log tail:\n{}", dir, cloud.process().tail(60));
        throw t;
      } finally {
        for (EdgeCoreProcess e : edges) {
          e.close();
        }
      }
    }
  }
}
