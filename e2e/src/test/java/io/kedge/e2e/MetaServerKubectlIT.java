package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.protocol.Json;
import io.kedge.testkit.ControlPlane;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * kubectl (1.32 on this machine) against MetaServer, through the real cloud path, compared with the
 * same commands against the apiserver: version, api-resources, create, apply, the three patch
 * types, get/list (JSON and table), watch, delete, {@code auth can-i} (protobuf), on ConfigMaps and
 * on a CRD.
 */
@WithControlPlane
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetaServerKubectlIT {
  InProcessKedge kedge;
  KubernetesClient admin;
  Kubectl edge;
  Kubectl direct;
  Path work;

  @BeforeAll
  void start(ControlPlane plane, @TempDir Path dir) throws Exception {
    assumeTrue(Kubectl.available(), "kubectl is not installed");
    admin = plane.adminClient();
    kedge = InProcessKedge.start(plane, dir.resolve("kedge"), "edge-kubectl");
    MetaServerFixture.prepare(admin, kedge);
    work = Files.createDirectories(dir.resolve("kubectl"));
    edge = Kubectl.server(kedge.metaServerUrl(), work);
    direct = Kubectl.kubeconfig(plane.adminKubeconfig(), work);
  }

  @AfterAll
  void stop() {
    if (kedge != null) {
      kedge.close();
    }
  }

  static JsonNode json(Kubectl.Result r) {
    return Json.parse(r.ok().out());
  }

  /** The same object read through MetaServer and directly. */
  void sameObject(String... get) {
    JsonNode viaEdge = MetaServerFixture.normalized(json(edge.run(get)));
    JsonNode viaApi = MetaServerFixture.normalized(json(direct.run(get)));
    assertThat(viaEdge).as(String.join(" ", get)).isEqualTo(viaApi);
  }

  @Test
  void versionAndApiResourcesMatchTheApiserver() {
    JsonNode ve = json(edge.run("version", "-o", "json"));
    JsonNode vd = json(direct.run("version", "-o", "json"));
    assertThat(ve.path("serverVersion")).isEqualTo(vd.path("serverVersion"));
    assertThat(ve.path("serverVersion").path("gitVersion").asString()).startsWith("v1.20");
    List<String> re = sortedLines(edge.run("api-resources", "-o", "name").ok().out());
    List<String> rd = sortedLines(direct.run("api-resources", "-o", "name").ok().out());
    assertThat(re).isEqualTo(rd).contains("configmaps", "widgets." + MetaServerFixture.GROUP);
  }

  @Test
  void configMapsCreateApplyPatchGetListWatchDelete() throws Exception {
    String ns = MetaServerFixture.namespace(admin, "kubectl");
    JsonNode created =
        json(edge.run("create", "configmap", "k1", "--from-literal=a=1", "-n", ns, "-o", "json"));
    assertThat(created.path("metadata").path("resourceVersion").asString()).isNotEmpty();
    sameObject("get", "configmap", "k1", "-n", ns, "-o", "json");

    String manifest =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: k2\n  namespace: "
            + ns
            + "\ndata:\n  x: \"1\"\n";
    edge.withInput(manifest, "apply", "-f", "-").ok();
    // ("y" alone would be YAML 1.1's true)
    edge.withInput(manifest.replace("x: \"1\"", "x: \"2\"\n  yy: \"3\""), "apply", "-f", "-").ok();
    sameObject("get", "configmap", "k2", "-n", ns, "-o", "json");
    assertThat(
            json(direct.run("get", "cm", "k2", "-n", ns, "-o", "json"))
                .path("data")
                .path("yy")
                .asString())
        .isEqualTo("3");

    edge.run("patch", "configmap", "k1", "-n", ns, "-p", "{\"data\":{\"s\":\"strategic\"}}").ok();
    edge.run(
            "patch",
            "configmap",
            "k1",
            "-n",
            ns,
            "--type",
            "merge",
            "-p",
            "{\"data\":{\"m\":\"merge\"}}")
        .ok();
    edge.run(
            "patch",
            "configmap",
            "k1",
            "-n",
            ns,
            "--type",
            "json",
            "-p",
            "[{\"op\":\"add\",\"path\":\"/data/j\",\"value\":\"json\"}]")
        .ok();
    JsonNode k1 = json(direct.run("get", "cm", "k1", "-n", ns, "-o", "json"));
    assertThat(k1.path("data").path("s").asString()).isEqualTo("strategic");
    assertThat(k1.path("data").path("m").asString()).isEqualTo("merge");
    assertThat(k1.path("data").path("j").asString()).isEqualTo("json");
    sameObject("get", "configmap", "k1", "-n", ns, "-o", "json");
    sameObject("get", "configmaps", "-n", ns, "-o", "json");
    // the default (Table) output
    assertThat(columns(edge.run("get", "configmaps", "-n", ns).ok().out(), 2))
        .isEqualTo(columns(direct.run("get", "configmaps", "-n", ns).ok().out(), 2));

    // a watch through MetaServer sees a change made at the apiserver
    Path out = work.resolve("watch-" + ns + ".json");
    Waits.until(
        "earlier watches are closed",
        Duration.ofSeconds(60),
        () -> kedge.metaServer.watchCount() == 0);
    Process w = edge.start(out, "get", "configmap", "k2", "-n", ns, "-w", "-o", "json");
    try {
      Waits.until(
          "kubectl watch shows the object",
          Duration.ofSeconds(60),
          () -> Files.readString(out).contains("\"k2\""));
      // kubectl prints what it read, then watches from "0" and skips the initial ADDED: change
      // the object only once the watch is open, or kubectl (against any apiserver) may miss it.
      Waits.until(
          "the watch is open", Duration.ofSeconds(60), () -> kedge.metaServer.watchCount() == 1);
      admin
          .configMaps()
          .inNamespace(ns)
          .withName("k2")
          .edit(
              c -> {
                c.getData().put("z", "from-the-cloud");
                return c;
              });
      Waits.until(
          "kubectl watch shows the change",
          Duration.ofSeconds(60),
          () -> Files.readString(out).contains("from-the-cloud"));
    } finally {
      w.destroy();
      w.waitFor();
    }
    String rvAtApiserver =
        admin.configMaps().inNamespace(ns).withName("k2").get().getMetadata().getResourceVersion();
    assertThat(Files.readString(out)).contains("\"resourceVersion\": \"" + rvAtApiserver + "\"");

    edge.run("delete", "configmap", "k1", "-n", ns).ok();
    assertThat(admin.configMaps().inNamespace(ns).withName("k1").get()).isNull();
    Kubectl.Result gone = edge.run("get", "configmap", "k1", "-n", ns);
    assertThat(gone.exit()).isNotZero();
    assertThat(gone.err()).contains("NotFound").contains("\"k1\" not found");
  }

  @Test
  void aCustomResourceThroughMetaServer() throws Exception {
    String ns = MetaServerFixture.namespace(admin, "kubectl-crd");
    // a cluster-scoped core resource, read both ways
    sameObject("get", "namespace", ns, "-o", "json");
    String w0 =
        "apiVersion: "
            + MetaServerFixture.GROUP
            + "/v1\nkind: Widget\nmetadata:\n  name: w0\n  namespace: "
            + ns
            + "\nspec:\n  size: 1\n";
    JsonNode created = json(edge.withInput(w0, "create", "-f", "-", "-o", "json"));
    assertThat(created.path("metadata").path("resourceVersion").asString()).isNotEmpty();
    sameObject("get", "widget", "w0", "-n", ns, "-o", "json");
    String widget =
        "apiVersion: "
            + MetaServerFixture.GROUP
            + "/v1\nkind: Widget\nmetadata:\n  name: w1\n  namespace: "
            + ns
            + "\nspec:\n  size: 3\n";
    edge.withInput(widget, "apply", "-f", "-").ok();
    sameObject("get", "widgets", "w1", "-n", ns, "-o", "json");
    edge.run("patch", "widget", "w1", "-n", ns, "--type", "merge", "-p", "{\"spec\":{\"size\":4}}")
        .ok();
    sameObject("get", "widgets", "-n", ns, "-o", "json");
    assertThat(
            json(direct.run("get", "widget", "w1", "-n", ns, "-o", "json"))
                .path("spec")
                .path("size")
                .asInt())
        .isEqualTo(4);

    // a watch on the custom resource through MetaServer sees a change made at the apiserver
    Path out = work.resolve("watch-" + ns + ".json");
    Waits.until(
        "earlier watches are closed",
        Duration.ofSeconds(60),
        () -> kedge.metaServer.watchCount() == 0);
    Process w = edge.start(out, "get", "widgets", "-n", ns, "-w", "-o", "json");
    try {
      Waits.until(
          "kubectl watch shows the widgets",
          Duration.ofSeconds(60),
          () -> Files.readString(out).contains("\"w1\""));
      Waits.until(
          "the widget watch is open",
          Duration.ofSeconds(60),
          () -> kedge.metaServer.watchCount() == 1);
      direct
          .run(
              "patch", "widget", "w0", "-n", ns, "--type", "merge", "-p", "{\"spec\":{\"size\":7}}")
          .ok();
      Waits.until(
          "kubectl watch shows the widget change",
          Duration.ofSeconds(60),
          () -> Files.readString(out).contains("\"size\": 7"));
    } finally {
      w.destroy();
      w.waitFor();
    }
    String rv =
        json(direct.run("get", "widget", "w0", "-n", ns, "-o", "json"))
            .path("metadata")
            .path("resourceVersion")
            .asString();
    assertThat(Files.readString(out)).contains("\"resourceVersion\": \"" + rv + "\"");

    edge.run("delete", "widget", "w1", "-n", ns).ok();
    assertThat(direct.run("get", "widget", "w1", "-n", ns).exit()).isNotZero();
    edge.withInput(w0, "delete", "-f", "-").ok();
    assertThat(direct.run("get", "widget", "w0", "-n", ns).exit()).isNotZero();
  }

  @Test
  void authCanIPostsProtobufThroughTheCloud() {
    Kubectl.Result r = edge.run("auth", "can-i", "list", "configmaps", "-n", "default");
    assertThat(r.out().trim()).isEqualTo("yes");
    Kubectl.Result no = edge.run("auth", "can-i", "delete", "nodes");
    assertThat(no.out().trim()).isEqualTo("no");
  }

  static List<String> sortedLines(String s) {
    return s.lines().map(String::trim).filter(l -> !l.isEmpty()).sorted().toList();
  }

  /** The first {@code n} columns of a table output, per line. */
  static List<String> columns(String table, int n) {
    return table
        .lines()
        .map(
            l ->
                String.join(
                    " ",
                    Arrays.asList(l.trim().split("\\s+"))
                        .subList(0, Math.min(n, l.trim().split("\\s+").length))))
        .toList();
  }
}
