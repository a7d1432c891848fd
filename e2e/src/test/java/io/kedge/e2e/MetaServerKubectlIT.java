package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.Json;
import io.kedge.testkit.Prerequisites;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * kubectl (1.32 on this machine) against MetaServer, through the real cloud path, compared with the
 * same commands against the apiserver: version, api-resources, create, apply, the three patch
 * types, get/list (JSON and table), watch, delete, {@code auth can-i} (protobuf), on ConfigMaps and
 * on a CRD.
 */
@WithControlPlane
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetaServerKubectlIT {
  private static final Logger LOG = LoggerFactory.getLogger(MetaServerKubectlIT.class);
  InProcessKedge kedge;
  KubernetesClient admin;
  Kubectl edge;
  Kubectl direct;
  Path work;

  @BeforeAll
  void start(ControlPlane plane, @TempDir Path dir) throws Exception {
    Prerequisites.tool("kubectl", "kubernetes-client");
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

  /** Each name a write command uses: {@code X-ms} through MetaServer, {@code X-direct} directly. */
  static final String EDGE_SUFFIX = "-ms";

  static final String DIRECT_SUFFIX = "-direct";

  static String[] named(String[] args, String suffix) {
    return Arrays.stream(args).map(a -> a.replace("@", suffix)).toArray(String[]::new);
  }

  /** kubectl's output with the object names of either side made the same. */
  static String unnamed(String s) {
    return s.replace(EDGE_SUFFIX, "@").replace(DIRECT_SUFFIX, "@");
  }

  /**
   * An object as the apiserver stored it, without what differs between two objects made by the same
   * commands: identity, versions and timestamps, field-manager bookkeeping.
   */
  static JsonNode stripped(JsonNode o) {
    JsonNode c = Json.parse(unnamed(Json.string(o)));
    if (c.path("metadata") instanceof ObjectNode m) {
      for (String f :
          List.of("uid", "resourceVersion", "creationTimestamp", "managedFields", "selfLink")) {
        m.remove(f);
      }
    }
    return c;
  }

  /** kubectl's stdout, as a stripped object when it printed one. */
  static Object printed(String out) {
    String t = out.trim();
    if (t.startsWith("{")) {
      return stripped(Json.parse(t));
    }
    return unnamed(out);
  }

  /**
   * Runs a write command ({@code @} in its arguments and input stands for the suffix) through
   * MetaServer on {@code X-ms} and directly on {@code X-direct}; kubectl must exit and print alike.
   */
  void sameWrite(String stdin, String... args) {
    Kubectl.Result e =
        edge.withInput(
            stdin == null ? null : stdin.replace("@", EDGE_SUFFIX), named(args, EDGE_SUFFIX));
    Kubectl.Result d =
        direct.withInput(
            stdin == null ? null : stdin.replace("@", DIRECT_SUFFIX), named(args, DIRECT_SUFFIX));
    String what = String.join(" ", args);
    assertThat(e.exit()).as("exit code of " + what + " (" + e.err() + ")").isEqualTo(d.exit());
    assertThat(printed(e.out())).as("stdout of " + what).isEqualTo(printed(d.out()));
    assertThat(unnamed(e.err())).as("stderr of " + what).isEqualTo(unnamed(d.err()));
  }

  /** The two objects the write commands made, read at the apiserver, are the same. */
  void sameResult(String kind, String name, String ns) {
    Kubectl.Result e = direct.run("get", kind, name + EDGE_SUFFIX, "-n", ns, "-o", "json");
    Kubectl.Result d = direct.run("get", kind, name + DIRECT_SUFFIX, "-n", ns, "-o", "json");
    assertThat(e.exit()).as(kind + " " + name + " exists alike").isEqualTo(d.exit());
    if (e.exit() == 0) {
      assertThat(stripped(Json.parse(e.out())))
          .as(kind + " " + name + " written through MetaServer and directly")
          .isEqualTo(stripped(Json.parse(d.out())));
      // and MetaServer reads its own write as the apiserver has it
      sameObject("get", kind, name + EDGE_SUFFIX, "-n", ns, "-o", "json");
    } else {
      assertThat(unnamed(e.err())).isEqualTo(unnamed(d.err()));
    }
  }

  @Test
  void configMapWritesThroughMetaServerMatchTheSameWritesAtTheApiserver() {
    String ns = MetaServerFixture.namespace(admin, "kubectl-w");
    sameWrite(null, "create", "configmap", "a@", "--from-literal=a=1", "-n", ns, "-o", "json");
    sameResult("configmap", "a", ns);
    sameWrite(null, "create", "configmap", "b@", "--from-literal=b=1", "-n", ns);
    sameResult("configmap", "b", ns);
    // a create that fails the same way: AlreadyExists
    sameWrite(null, "create", "configmap", "a@", "--from-literal=a=2", "-n", ns);
    String manifest =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c@\n  namespace: "
            + ns
            + "\n  labels: {tier: one}\ndata:\n  x: \"1\"\n";
    sameWrite(manifest, "apply", "-f", "-");
    sameResult("configmap", "c", ns);
    sameWrite(
        manifest.replace("x: \"1\"", "x: \"2\"\n  yy: \"3\""), "apply", "-f", "-", "-o", "json");
    sameResult("configmap", "c", ns);
    sameWrite(manifest.replace("tier: one", "tier: two"), "apply", "--server-side", "-f", "-");
    sameResult("configmap", "c", ns);
    sameWrite(null, "patch", "configmap", "a@", "-n", ns, "-p", "{\"data\":{\"s\":\"strategic\"}}");
    sameWrite(
        null,
        "patch",
        "configmap",
        "a@",
        "-n",
        ns,
        "--type",
        "merge",
        "-p",
        "{\"data\":{\"m\":\"merge\"}}",
        "-o",
        "json");
    sameWrite(
        null,
        "patch",
        "configmap",
        "a@",
        "-n",
        ns,
        "--type",
        "json",
        "-p",
        "[{\"op\":\"add\",\"path\":\"/data/j\",\"value\":\"json\"}]");
    sameResult("configmap", "a", ns);
    // a patch the apiserver refuses: the same error either way
    sameWrite(
        null,
        "patch",
        "configmap",
        "a@",
        "-n",
        ns,
        "--type",
        "json",
        "-p",
        "[{\"op\":\"remove\",\"path\":\"/data/nothing\"}]");
    sameResult("configmap", "a", ns);
    sameWrite(null, "label", "configmap", "b@", "-n", ns, "colour=green");
    sameResult("configmap", "b", ns);
    sameWrite(null, "delete", "configmap", "b@", "-n", ns);
    sameResult("configmap", "b", ns);
    sameWrite(manifest, "delete", "-f", "-");
    sameResult("configmap", "c", ns);
    sameWrite(null, "delete", "configmap", "b@", "-n", ns);
    assertThat(json(direct.run("get", "configmaps", "-n", ns, "-o", "json")).path("items"))
        .extracting(i -> i.path("metadata").path("name").asString())
        .contains("a" + EDGE_SUFFIX, "a" + DIRECT_SUFFIX)
        .doesNotContain("b" + EDGE_SUFFIX, "c" + EDGE_SUFFIX);
    sameWrite(null, "delete", "configmap", "a@", "-n", ns, "--wait=true");
    sameResult("configmap", "a", ns);
  }

  @Test
  void widgetWritesThroughMetaServerMatchTheSameWritesAtTheApiserver() {
    String ns = MetaServerFixture.namespace(admin, "kubectl-wcrd");
    String widget =
        "apiVersion: "
            + MetaServerFixture.GROUP
            + "/v1\nkind: Widget\nmetadata:\n  name: w@\n  namespace: "
            + ns
            + "\nspec:\n  size: 1\n  parts: [a, b]\n";
    sameWrite(widget, "create", "-f", "-", "-o", "json");
    sameResult("widget", "w", ns);
    sameWrite(widget, "create", "-f", "-");
    sameWrite(widget.replace("w@", "v@"), "apply", "-f", "-");
    sameResult("widget", "v", ns);
    sameWrite(widget.replace("w@", "v@").replace("size: 1", "size: 2"), "apply", "-f", "-");
    sameResult("widget", "v", ns);
    sameWrite(
        null,
        "patch",
        "widget",
        "w@",
        "-n",
        ns,
        "--type",
        "merge",
        "-p",
        "{\"spec\":{\"size\":4}}");
    sameWrite(
        null,
        "patch",
        "widget",
        "w@",
        "-n",
        ns,
        "--type",
        "json",
        "-p",
        "[{\"op\":\"add\",\"path\":\"/spec/parts/-\",\"value\":\"c\"}]",
        "-o",
        "json");
    sameResult("widget", "w", ns);
    // custom resources take no strategic merge patch: the same refusal either way
    sameWrite(null, "patch", "widget", "w@", "-n", ns, "-p", "{\"spec\":{\"size\":5}}");
    sameResult("widget", "w", ns);
    sameWrite(null, "delete", "widget", "w@", "-n", ns);
    sameResult("widget", "w", ns);
    sameWrite(widget.replace("w@", "v@"), "delete", "-f", "-");
    sameResult("widget", "v", ns);
  }

  /** The JSON objects {@code kubectl -w -o json} printed so far. */
  static List<JsonNode> printedObjects(Path out) throws Exception {
    List<JsonNode> l = new ArrayList<>();
    try (var it =
        Json.mapper().readerFor(JsonNode.class).<JsonNode>readValues(Files.readString(out))) {
      while (it.hasNext()) {
        l.add(it.next());
      }
    } catch (RuntimeException e) {
      // the last object may be half written: what came before is what counts
    }
    return l;
  }

  /**
   * {@code kubectl get <resource> -w -o json} through MetaServer and directly, while the same
   * changes are made at the apiserver: from the first change both watches show on, they print the
   * same objects in the same order.
   */
  void sameWatch(String resource, String ns, List<Runnable> changes, Runnable warmUp, String marker)
      throws Exception {
    Path eo = work.resolve("w-edge-" + ns + ".json");
    Path dout = work.resolve("w-direct-" + ns + ".json");
    Waits.until(
        "earlier watches are closed",
        Duration.ofSeconds(60),
        () -> kedge.metaServer.watchCount() == 0);
    Process we = edge.start(eo, "get", resource, "-n", ns, "-w", "-o", "json");
    Process wd = direct.start(dout, "get", resource, "-n", ns, "-w", "-o", "json");
    try {
      Waits.until(
          "both watches print the objects",
          Duration.ofSeconds(60),
          () -> !printedObjects(eo).isEmpty() && !printedObjects(dout).isEmpty());
      Waits.until(
          "the watch through MetaServer is open",
          Duration.ofSeconds(60),
          () -> kedge.metaServer.watchCount() == 1);
      // kubectl gives no sign that its direct watch is open: change something until both show it
      int[] round = {0};
      Waits.until(
          "both watches show a change",
          Duration.ofSeconds(90),
          () -> {
            round[0]++;
            warmUp.run();
            String m = marker + round[0];
            return within(
                Duration.ofSeconds(5),
                () -> Files.readString(eo).contains(m) && Files.readString(dout).contains(m));
          });
      String start = marker + round[0];
      for (Runnable c : changes) {
        c.run();
      }
      warmUp.run();
      String end = marker + (round[0] + 1);
      Waits.until(
          "both watches show every change",
          Duration.ofSeconds(60),
          () -> Files.readString(eo).contains(end) && Files.readString(dout).contains(end));
      List<JsonNode> viaEdge = after(printedObjects(eo), start);
      List<JsonNode> viaApi = after(printedObjects(dout), start);
      LOG.info("kubectl -w printed {} objects after the first shared change", viaApi.size());
      assertThat(viaApi.size()).isGreaterThanOrEqualTo(changes.size() + 1);
      assertThat(viaEdge)
          .as("what kubectl -w printed through MetaServer and directly")
          .isEqualTo(viaApi);
    } finally {
      we.destroy();
      wd.destroy();
      we.waitFor();
      wd.waitFor();
    }
  }

  /** Whether {@code condition} holds within {@code atMost} (polled). */
  static boolean within(Duration atMost, java.util.concurrent.Callable<Boolean> condition)
      throws Exception {
    long end = System.nanoTime() + atMost.toNanos();
    while (System.nanoTime() < end) {
      if (condition.call()) {
        return true;
      }
      Thread.sleep(100);
    }
    return condition.call();
  }

  /** The objects printed after the one holding {@code marker}, selfLinks removed. */
  static List<JsonNode> after(List<JsonNode> printed, String marker) {
    int i = 0;
    while (i < printed.size() && !Json.string(printed.get(i)).contains(marker)) {
      i++;
    }
    assertThat(i).as("the printed objects hold " + marker).isLessThan(printed.size());
    List<JsonNode> l = new ArrayList<>();
    for (JsonNode o : printed.subList(i + 1, printed.size())) {
      JsonNode c = o.deepCopy();
      if (c.path("metadata") instanceof ObjectNode m) {
        m.remove("selfLink");
      }
      l.add(c);
    }
    return l;
  }

  @Test
  void kubectlWatchPrintsTheSameThroughMetaServerAsDirectly() throws Exception {
    String ns = MetaServerFixture.namespace(admin, "kubectl-watch");
    direct.run("create", "configmap", "warm", "--from-literal=w=0", "-n", ns).ok();
    direct.run("create", "configmap", "k0", "--from-literal=v=0", "-n", ns).ok();
    int[] n = {0};
    Runnable warmUp =
        () -> {
          n[0]++;
          direct
              .run(
                  "patch",
                  "configmap",
                  "warm",
                  "-n",
                  ns,
                  "--type",
                  "merge",
                  "-p",
                  "{\"data\":{\"w\":\"mark-" + n[0] + "\"}}")
              .ok();
        };
    sameWatch(
        "configmaps",
        ns,
        List.of(
            () -> direct.run("create", "configmap", "k1", "--from-literal=v=1", "-n", ns).ok(),
            () ->
                direct
                    .run(
                        "patch",
                        "configmap",
                        "k1",
                        "-n",
                        ns,
                        "--type",
                        "merge",
                        "-p",
                        "{\"data\":{\"v\":\"2\"}}")
                    .ok(),
            () -> direct.run("label", "configmap", "k0", "-n", ns, "x=y").ok(),
            () -> direct.run("delete", "configmap", "k1", "-n", ns).ok()),
        warmUp,
        "mark-");
    String widget =
        "apiVersion: "
            + MetaServerFixture.GROUP
            + "/v1\nkind: Widget\nmetadata:\n  name: %s\n  namespace: "
            + ns
            + "\nspec:\n  size: %s\n";
    direct.withInput(String.format(widget, "warm", "\"w-0\""), "create", "-f", "-").ok();
    int[] m = {0};
    sameWatch(
        "widgets",
        ns,
        List.of(
            () -> direct.withInput(String.format(widget, "w1", "1"), "create", "-f", "-").ok(),
            () ->
                direct
                    .run(
                        "patch",
                        "widget",
                        "w1",
                        "-n",
                        ns,
                        "--type",
                        "merge",
                        "-p",
                        "{\"spec\":{\"size\":2}}")
                    .ok(),
            () -> direct.run("delete", "widget", "w1", "-n", ns).ok()),
        () -> {
          m[0]++;
          direct
              .run(
                  "patch",
                  "widget",
                  "warm",
                  "-n",
                  ns,
                  "--type",
                  "merge",
                  "-p",
                  "{\"spec\":{\"size\":\"wmark-" + m[0] + "\"}}")
              .ok();
        },
        "wmark-");
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
