package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.Json;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.EdgeCoreProcess;
import io.kedge.testkit.Ports;
import io.kedge.testkit.Prerequisites;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
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
 * Issue 17, items 1 and 2, on real processes: a real cloudcore and edgecore with
 * requireAuthorization, pods on the edge node reading through MetaServer with their own tokens (the
 * real {@code curl}, as a pod would).
 *
 * <ol>
 *   <li>A cached scope does not freeze when the pod whose token keeps it current goes (deleted, or
 *       its RoleBinding revoked): another reading pod carries it on, and what was created meanwhile
 *       reaches its {@code resourceVersion=0} lists and its open watch. After an edgecore restart
 *       with no pod reading, the scope is kept current with a kept token.
 *   <li>A watch through MetaServer gets every event the apiserver's own watch gets: one ConfigMap
 *       patched 300 times, both watched from the version before the burst.
 * </ol>
 */
@WithControlPlane
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CachedScopeIT {
  private static final Logger LOG = LoggerFactory.getLogger(CachedScopeIT.class);
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final Duration SEEN = Duration.ofSeconds(60);
  private static final String NODE = "edge-scope-1";

  static Path dir;
  static ControlPlane plane;
  static KubernetesClient admin;
  static CloudCoreProcess cloud;
  static EdgeCoreProcess edge;
  static int port;
  static String ns;
  static String p1Token;
  static String p2Token;
  static Pod p1;

  @BeforeAll
  static void cloudAndEdge(ControlPlane p, KubernetesClient a) {
    Prerequisites.tool("curl", "curl");
    dir = RunFiles.runDir("cached-scope-it-");
    LOG.info("files of this run in {}", dir);
    plane = p;
    admin = a;
    cloud = SecureMetaServer.startCloud(plane, dir.resolve("cloudcore"));
    port = Ports.free();
    edge =
        SecureMetaServer.startEdge(
            dir.resolve("edge"), NODE, cloud, port, "-Xmx256m -XX:+UseSerialGC");
    Waits.until("node " + NODE + " Ready", WAIT, () -> ready(NODE));
    Waits.until(
        "MetaServer's serving certificate and the cluster CA at the edge",
        WAIT,
        () -> Files.isRegularFile(pki().resolve("metaserver-current.pem")) && caReady());
    ns = "scope-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    PageInstall.readerNamespace(admin, ns, true);
    p1 = pod(ns, "p1", "reader");
    Pod p2 = pod(ns, "p2", "reader");
    p1Token = SecureMetaServer.podToken(admin, ns, "reader", "p1", p1.getMetadata().getUid());
    p2Token = SecureMetaServer.podToken(admin, ns, "reader", "p2", p2.getMetadata().getUid());
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
        }
      } finally {
        if (admin != null && admin.nodes().withName(NODE).get() != null) {
          admin.nodes().withName(NODE).delete();
        }
      }
    }
  }

  /** Item 1: the pod whose token keeps the scope current is deleted; another pod reads on. */
  @Test
  @Order(1)
  void whenThePodKeepingAScopeCurrentIsDeletedAnotherCarriesItOn() throws Exception {
    Waits.until(
        "p1's token accepted at the edge",
        WAIT,
        () -> curl(p1Token, listPath(ns) + "?resourceVersion=0").code() == 200);
    // p1 read first: its token keeps the scope current; p2 reads the same scope from the store
    assertThat(names(curl(p2Token, listPath(ns) + "?resourceVersion=0"))).contains("greeting");
    try (CurlWatch w = watch(p2Token, listPath(ns) + "?watch=true&timeoutSeconds=600")) {
      w.awaitType("ADDED", "greeting", SEEN);

      admin.pods().inNamespace(ns).withName("p1").withGracePeriod(0).delete();
      Waits.until("p1 gone", WAIT, () -> admin.pods().inNamespace(ns).withName("p1").get() == null);
      long gone = System.nanoTime();
      for (String cm : List.of("cm2", "cm3", "cm4")) {
        configMap(ns, cm);
      }
      Duration d =
          Waits.until(
              "cm2, cm3, cm4 in p2's resourceVersion=0 list",
              SEEN,
              () ->
                  names(curl(p2Token, listPath(ns) + "?resourceVersion=0"))
                      .containsAll(List.of("cm2", "cm3", "cm4")));
      w.awaitType("ADDED", "cm2", SEEN);
      w.awaitType("ADDED", "cm4", SEEN);
      LOG.info(
          "after p1 was deleted, p2 saw the new ConfigMaps {} ms after they were created ({} ms"
              + " after the deletion)",
          d.toMillis(),
          (System.nanoTime() - gone) / 1_000_000);
    }
    assertThat(edge.log())
        .as("the edge says who keeps the scope current, before and after")
        .contains(scope(ns) + " is kept current as pod " + ns + "/p1")
        .contains(scope(ns) + " is kept current as pod " + ns + "/p2");
  }

  /** Item 1, its RoleBinding revoked: the scope is carried on with another pod's token. */
  @Test
  @Order(2)
  void whenTheRoleBindingOfThePodKeepingAScopeIsRevokedAnotherCarriesItOn() throws Exception {
    String ns2 = ns + "-rb";
    PageInstall.readerNamespace(admin, ns2, true);
    admin
        .serviceAccounts()
        .inNamespace(ns2)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("other").endMetadata().build())
        .serverSideApply();
    PageInstall.bindConfigMapReader(admin, ns2, "other-reads", "other");
    Pod p3 = pod(ns2, "p3", "other");
    Pod p4 = pod(ns2, "p4", "reader");
    String p3Token =
        SecureMetaServer.podToken(admin, ns2, "other", "p3", p3.getMetadata().getUid());
    String p4Token =
        SecureMetaServer.podToken(admin, ns2, "reader", "p4", p4.getMetadata().getUid());
    Waits.until(
        "p3 reads its namespace through the edge",
        WAIT,
        () -> curl(p3Token, listPath(ns2) + "?resourceVersion=0").code() == 200);
    Waits.until(
        "p4 reads it too",
        WAIT,
        () -> curl(p4Token, listPath(ns2) + "?resourceVersion=0").code() == 200);

    admin.rbac().roleBindings().inNamespace(ns2).withName("other-reads").delete();
    Waits.until(
        "cloudcore ends p3's watch",
        WAIT,
        () ->
            cloud
                .log()
                .lines()
                .anyMatch(
                    l ->
                        l.contains("as pod " + ns2 + "/p3")
                            && (l.contains("removed") || l.contains("stopped"))));
    configMap(ns2, "after-revoke");
    Duration d =
        Waits.until(
            "after-revoke in p4's resourceVersion=0 list",
            SEEN,
            () ->
                names(curl(p4Token, listPath(ns2) + "?resourceVersion=0"))
                    .contains("after-revoke"));
    LOG.info(
        "after p3's RoleBinding was revoked, p4 saw a new ConfigMap after {} ms", d.toMillis());
    assertThat(edge.log())
        .contains(scope(ns2) + " is kept current as pod " + ns2 + "/p3")
        .contains(scope(ns2) + " is kept current as pod " + ns2 + "/p4");
  }

  /**
   * Item 1, a restart: no pod reads after edgecore starts again, yet the scope is kept current
   * (with p2's kept token, not without a token as the node, which may not watch it): a ConfigMap
   * created after the restart reaches the edge's store.
   */
  @Test
  @Order(3)
  void aRestartedEdgeKeepsItsScopesCurrentWithoutAPodReading() {
    int connections = edge.connections();
    edge.stop();
    edge.startProcess();
    edge.awaitConnections(connections + 1, WAIT);
    configMap(ns, "after-restart");
    Duration d =
        Waits.until("after-restart in the edge's store", SEEN, () -> inStore(ns, "after-restart"));
    LOG.info(
        "a ConfigMap created after the restart was in the edge's store after {} ms", d.toMillis());
    String kept = scope(ns) + " is kept current as pod " + ns + "/p2";
    String refused = "cannot watch resource \"configmaps\"";
    Waits.until(
        "the scope registered again after the restart, or refused",
        SEEN,
        () -> restartedLog().contains(kept) || restartedLog().contains(refused));
    assertThat(restartedLog())
        .as("registered again as the node, which may not watch the scope")
        .doesNotContain(refused)
        .contains(kept);
  }

  /** Whether the edge's store holds ConfigMap {@code namespace/name} (read from its file). */
  static boolean inStore(String namespace, String name) {
    Path db = edge.database();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro");
        PreparedStatement p =
            c.prepareStatement(
                "SELECT 1 FROM objects WHERE gvr = '/v1/configmaps' AND namespace = ?"
                    + " AND name = ? AND deleted = 0")) {
      p.setString(1, namespace);
      p.setString(2, name);
      try (ResultSet r = p.executeQuery()) {
        return r.next();
      }
    } catch (SQLException e) {
      LOG.warn("reading {} failed: {}", db, e.toString());
      return false;
    }
  }

  /**
   * Item 2: one ConfigMap patched 300 times; a watch through MetaServer and one at the apiserver,
   * both from the version before the burst, get the same events in the same order.
   */
  @Test
  @Order(4)
  void aWatchThroughMetaServerGetsEveryEventTheApiserversWatchGets() throws Exception {
    Waits.until(
        "the scope current",
        WAIT,
        () -> curl(p2Token, listPath(ns) + "?resourceVersion=0").code() == 200);
    configMap(ns, "burst");
    String from =
        admin
            .configMaps()
            .inNamespace(ns)
            .withName("burst")
            .get()
            .getMetadata()
            .getResourceVersion();
    String q = "?watch=true&timeoutSeconds=600&resourceVersion=" + from;
    try (CurlWatch atEdge = watch(p2Token, listPath(ns) + q);
        CurlWatch atApiserver =
            CurlWatch.start(
                plane.pki().caCert(), p2Token, plane.apiserverUrl() + listPath(ns) + q)) {
      List<String> versions = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        int n = i;
        versions.add(
            admin
                .configMaps()
                .inNamespace(ns)
                .withName("burst")
                .edit(
                    c -> {
                      c.getData().put("n", Integer.toString(n + 1)); // never a no-op
                      return c;
                    })
                .getMetadata()
                .getResourceVersion());
      }
      String last = versions.get(versions.size() - 1);
      Waits.until("the apiserver's watch at the last version", SEEN, () -> atApiserver.saw(last));
      Duration d =
          Waits.until("MetaServer's watch at the last version", SEEN, () -> atEdge.saw(last));
      LOG.info(
          "MetaServer's watch reached the last of 300 versions {} ms after the apiserver's",
          d.toMillis());
      List<String> apiserver = atApiserver.modified("burst");
      List<String> metaServer = atEdge.modified("burst");
      atApiserver.save(dir.resolve("burst-at-apiserver.jsonl"));
      atEdge.save(dir.resolve("burst-at-metaserver.jsonl"));
      LOG.info(
          "watched from version {}: the apiserver's watch got {} MODIFIED, MetaServer's {}",
          from,
          apiserver.size(),
          metaServer.size());
      assertThat(apiserver).as("the apiserver's own watch").containsExactlyElementsOf(versions);
      assertThat(metaServer)
          .as("MetaServer's watch, event for event")
          .containsExactlyElementsOf(apiserver);
      assertThat(atEdge.types()).doesNotContain("ERROR");
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  static String scope(String namespace) {
    return "/v1/configmaps in " + namespace;
  }

  /** The edge's log since its last start. */
  static String restartedLog() {
    String log = edge.log();
    int i = log.lastIndexOf("store opened");
    return i < 0 ? log : log.substring(i);
  }

  static Path pki() {
    return edge.dir().resolve("pki/metaserver");
  }

  static Path ca() {
    return pki().resolve("ca.crt");
  }

  static boolean caReady() {
    Path f = ca();
    try {
      return Files.isRegularFile(f) && Files.readString(f).contains("BEGIN CERTIFICATE");
    } catch (IOException e) {
      return false;
    }
  }

  static String listPath(String namespace) {
    return "/api/v1/namespaces/" + namespace + "/configmaps";
  }

  static SecureMetaServer.Answer curl(String token, String pathAndQuery) {
    return SecureMetaServer.curl(ca(), token, "https://127.0.0.1:" + port + pathAndQuery);
  }

  static List<String> names(SecureMetaServer.Answer a) {
    return a.code() == 200 ? a.names() : List.of();
  }

  static CurlWatch watch(String token, String pathAndQuery) {
    return CurlWatch.start(ca(), token, "https://127.0.0.1:" + port + pathAndQuery);
  }

  static void configMap(String namespace, String name) {
    admin
        .configMaps()
        .inNamespace(namespace)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withData(Map.of("n", "0"))
                .build())
        .create();
  }

  static Pod pod(String namespace, String name, String sa) {
    Pod p =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .endMetadata()
            .withNewSpec()
            .withNodeName(NODE)
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
    Pod[] created = {null};
    // The ServiceAccount admission plugin may not know a new ServiceAccount for a moment.
    Waits.until(
        "pod " + namespace + "/" + name + " created",
        Duration.ofSeconds(30),
        () -> (created[0] = admin.pods().inNamespace(namespace).resource(p).create()) != null);
    return created[0];
  }

  static boolean ready(String name) {
    Node n = admin.nodes().withName(name).get();
    return n != null
        && n.getStatus() != null
        && n.getStatus().getConditions() != null
        && n.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /** A watch held with the real curl ({@code -N}): its events as they arrive. */
  static final class CurlWatch implements AutoCloseable {
    final Process process;
    final List<JsonNode> events = new CopyOnWriteArrayList<>();
    final Thread reader;

    private CurlWatch(Process process) {
      this.process = process;
      this.reader =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = r.readLine()) != null) {
                    if (!line.isBlank()) {
                      events.add(Json.parse(line));
                    }
                  }
                } catch (IOException | RuntimeException e) {
                  LOG.debug("watch output ended: {}", e.toString());
                }
              },
              "curl-watch");
      reader.setDaemon(true);
      reader.start();
    }

    static CurlWatch start(Path ca, String token, String url) {
      try {
        return new CurlWatch(
            new ProcessBuilder(
                    "curl",
                    "-sS",
                    "-N",
                    "--max-time",
                    "600",
                    "--cacert",
                    ca.toString(),
                    "-H",
                    "Authorization: Bearer " + token,
                    url)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void awaitType(String type, String name, Duration atMost) {
      Waits.until(
          type + " " + name + " on the watch",
          atMost,
          () ->
              events.stream()
                  .anyMatch(
                      e ->
                          type.equals(e.path("type").asString())
                              && name.equals(
                                  e.path("object").path("metadata").path("name").asString())));
    }

    boolean saw(String resourceVersion) {
      return events.stream()
          .anyMatch(
              e ->
                  resourceVersion.equals(
                      e.path("object").path("metadata").path("resourceVersion").asString()));
    }

    /** The versions of {@code name} in MODIFIED events, in order. */
    List<String> modified(String name) {
      return events.stream()
          .filter(e -> "MODIFIED".equals(e.path("type").asString()))
          .filter(e -> name.equals(e.path("object").path("metadata").path("name").asString()))
          .map(e -> e.path("object").path("metadata").path("resourceVersion").asString())
          .toList();
    }

    /** Writes the events seen to {@code file}, one per line (for the run's record). */
    void save(Path file) {
      try {
        Files.write(file, events.stream().map(Json::string).toList());
      } catch (IOException e) {
        LOG.warn("cannot write {}: {}", file, e.toString());
      }
    }

    List<String> types() {
      return events.stream().map(e -> e.path("type").asString()).toList();
    }

    @Override
    public void close() {
      process.destroy();
    }
  }
}
