package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.Json;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
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
 * A fabric8 informer and a python-kubernetes watch held through MetaServer while the edge loses the
 * cloud and gets it back end with exactly the apiserver's state; every event they saw is one a
 * watch held directly on the apiserver saw too, and per object the resourceVersions they saw only
 * increase.
 */
@WithControlPlane
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetaServerWatchReconnectIT {
  private static final Logger LOG = LoggerFactory.getLogger(MetaServerWatchReconnectIT.class);
  private static final Path PYTHON = Path.of("/usr/bin/python3");
  private static final int ONLINE_CHANGES = 120;
  private static final Duration PROGRESS_WAIT = Duration.ofSeconds(40);

  /** Prints one JSON line per event of a watch through {@code argv[1]} on namespace argv[2]. */
  static final String PY_WATCH =
      "import json, sys\n"
          + "from kubernetes import client, watch\n"
          + "c = client.Configuration()\n"
          + "c.host = sys.argv[1]\n"
          + "api = client.CoreV1Api(client.ApiClient(c))\n"
          + "w = watch.Watch()\n"
          + "for ev in w.stream(api.list_namespaced_config_map, sys.argv[2]):\n"
          + "    o = ev['object']\n"
          + "    m = o.metadata\n"
          + "    print(json.dumps({'type': ev['type'], 'name': m.name,\n"
          + "        'rv': m.resource_version, 'content': {'name': m.name,\n"
          + "        'namespace': m.namespace, 'uid': m.uid, 'labels': m.labels,\n"
          + "        'annotations': m.annotations, 'data': o.data}}), flush=True)\n";

  /**
   * One event a watcher saw: type, object name and resourceVersion, and the object's content
   * (identity, labels, annotations, data — what every client here decodes alike).
   */
  record Seen(String type, String name, String rv, JsonNode content) {
    @Override
    public String toString() {
      return type + " " + name + "@" + rv + " " + content;
    }
  }

  /** The compared part of a ConfigMap's JSON; absent and empty maps alike. */
  static JsonNode content(JsonNode o) {
    JsonNode m = o.path("metadata");
    ObjectNode c = Json.object();
    c.set("name", m.path("name"));
    c.set("namespace", m.path("namespace"));
    c.set("uid", m.path("uid"));
    for (String f : List.of("labels", "annotations")) {
      c.set(f, orNull(m.path(f)));
    }
    c.set("data", orNull(o.path("data")));
    return c;
  }

  private static JsonNode orNull(JsonNode n) {
    return n.isMissingNode() || n.isNull() || (n.isObject() && n.isEmpty())
        ? Json.NODES.nullNode()
        : n;
  }

  static JsonNode content(JsonNode printed, boolean alreadySubset) {
    ObjectNode c = Json.object();
    for (String f : List.of("name", "namespace", "uid", "labels", "annotations", "data")) {
      c.set(f, orNull(printed.path(f)));
    }
    return c;
  }

  static JsonNode content(ConfigMap c) {
    return content(Json.parse(io.fabric8.kubernetes.client.utils.Serialization.asJson(c)));
  }

  InProcessKedge kedge;
  KubernetesClient admin;
  KubernetesClient edge;
  Path work;

  @BeforeAll
  void start(ControlPlane plane, @TempDir Path dir) throws Exception {
    admin = plane.adminClient();
    kedge = InProcessKedge.start(plane, dir.resolve("kedge"), "edge-watch");
    MetaServerFixture.prepare(admin, kedge);
    edge = MetaServerFixture.edgeClient(kedge);
    work = Files.createDirectories(dir.resolve("work"));
  }

  @AfterAll
  void stop() {
    if (edge != null) {
      edge.close();
    }
    if (kedge != null) {
      kedge.close();
    }
  }

  void put(String ns, String name, String value) {
    ConfigMap existing = admin.configMaps().inNamespace(ns).withName(name).get();
    if (existing == null) {
      admin
          .configMaps()
          .inNamespace(ns)
          .resource(
              new ConfigMapBuilder()
                  .withNewMetadata()
                  .withName(name)
                  .endMetadata()
                  .addToData("v", value)
                  .build())
          .create();
    } else {
      admin
          .configMaps()
          .inNamespace(ns)
          .withName(name)
          .edit(
              c -> {
                c.getData().put("v", value);
                return c;
              });
    }
  }

  Map<String, String> truth(String ns) {
    Map<String, String> m = new TreeMap<>();
    for (ConfigMap c : admin.configMaps().inNamespace(ns).list().getItems()) {
      m.put(c.getMetadata().getName(), c.getMetadata().getResourceVersion());
    }
    return m;
  }

  static Map<String, String> fold(List<Seen> events) {
    Map<String, String> m = new TreeMap<>();
    for (Seen s : events) {
      if (s.type().equals("DELETED")) {
        m.remove(s.name());
      } else if (!s.type().equals("BOOKMARK")) {
        m.put(s.name(), s.rv());
      }
    }
    return m;
  }

  static List<Seen> pythonEvents(Path out) throws Exception {
    List<Seen> l = new ArrayList<>();
    for (String line : Files.readAllLines(out)) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode n = Json.parse(line);
      l.add(
          new Seen(
              n.path("type").asString(),
              n.path("name").asString(),
              n.path("rv").asString(),
              content(n.path("content"), true)));
    }
    return l;
  }

  /** An informer's deletion noticed by a relist: the object as last known, not as deleted. */
  static final String LAST_KNOWN = "DELETED(last known)";

  /**
   * Every event matches one of the direct watch — name, resourceVersion and content, and for a
   * plain watch also the type (an informer's relist turns changes it missed into ADDED or MODIFIED
   * of the newest version, which still must be one the apiserver announced); per object the
   * versions only increase (no duplicate, no step back). No exception for objects changed while the
   * edge was cut off: the edge resumes its scopes and the cloud replays the apiserver's own events.
   */
  static void assertConsistent(String who, List<Seen> seen, List<Seen> direct, boolean informer) {
    Map<String, Seen> announced = new TreeMap<>();
    Map<String, Seen> deletions = new TreeMap<>();
    for (Seen d : direct) {
      String key = d.name() + "@" + d.rv();
      (d.type().equals("DELETED") ? deletions : announced).put(key, d);
    }
    Map<String, Long> last = new TreeMap<>();
    List<String> wrong = new ArrayList<>();
    for (Seen s : seen) {
      if (s.type().equals("BOOKMARK")) {
        continue;
      }
      String key = s.name() + "@" + s.rv();
      Seen match;
      if (s.type().equals(LAST_KNOWN)) {
        match = announced.get(key);
        if (deletions.keySet().stream().noneMatch(k -> k.startsWith(s.name() + "@"))) {
          wrong.add(s + ": the apiserver announced no deletion of " + s.name());
        }
      } else if (s.type().equals("DELETED")) {
        match = deletions.get(key);
      } else {
        match = announced.get(key);
      }
      if (match == null) {
        wrong.add(s + ": no such event in the apiserver's watch");
      } else {
        if (!match.content().equals(s.content())) {
          wrong.add(s + ": the apiserver's watch had " + match.content());
        }
        if (!informer && !match.type().equals(s.type())) {
          wrong.add(s + ": the apiserver's watch had it as " + match.type());
        }
      }
      long rv = Long.parseLong(s.rv());
      Long before = last.get(s.name());
      boolean increases =
          before == null || rv > before || (s.type().equals(LAST_KNOWN) && rv == before);
      if (!increases) {
        wrong.add(s + ": after version " + before + " of " + s.name());
      }
      last.put(s.name(), rv);
    }
    assertThat(wrong).as(who + " events against the apiserver's watch " + direct).isEmpty();
  }

  @Test
  void informerAndPythonWatchEndWithTheApiserversStateAcrossADisconnect() throws Exception {
    String ns = MetaServerFixture.namespace(admin, "watch");
    // the reference: a watch held directly on the apiserver, from the start
    List<Seen> direct = new CopyOnWriteArrayList<>();
    Watch directWatch =
        admin
            .configMaps()
            .inNamespace(ns)
            .watch(
                new ListOptionsBuilder().withResourceVersion("0").build(),
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, ConfigMap c) {
                    direct.add(seen(action.name(), c));
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
    SharedIndexInformer<ConfigMap> informer = null;
    Process python = null;
    Path pyOut = work.resolve("python-watch.jsonl");
    try {
      put(ns, "c1", "1");
      put(ns, "c2", "1");

      List<Seen> informed = new CopyOnWriteArrayList<>();
      informer =
          edge.configMaps()
              .inNamespace(ns)
              .inform(
                  new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(ConfigMap c) {
                      informed.add(seen("ADDED", c));
                    }

                    @Override
                    public void onUpdate(ConfigMap before, ConfigMap after) {
                      // relists and resyncs repeat what the informer has: not an event
                      if (!before
                          .getMetadata()
                          .getResourceVersion()
                          .equals(after.getMetadata().getResourceVersion())) {
                        informed.add(seen("MODIFIED", after));
                      }
                    }

                    @Override
                    public void onDelete(ConfigMap c, boolean unknownFinalState) {
                      // a deletion noticed by a relist carries the last state the informer had
                      informed.add(seen(unknownFinalState ? LAST_KNOWN : "DELETED", c));
                    }
                  },
                  0);
      SharedIndexInformer<ConfigMap> inf = informer;
      ProcessBuilder pb =
          new ProcessBuilder(PYTHON.toString(), "-u", "-c", PY_WATCH, kedge.metaServerUrl(), ns);
      for (String v : List.of("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY")) {
        pb.environment().remove(v);
      }
      pb.redirectOutput(pyOut.toFile()).redirectError(work.resolve("python-watch.stderr").toFile());
      python = pb.start();

      Waits.until(
          "informer and python see c1 and c2",
          Duration.ofSeconds(90),
          () -> stateOf(inf).equals(truth(ns)) && fold(pythonEvents(pyOut)).equals(truth(ns)));
      put(ns, "c1", "2");
      put(ns, "c1", "3");
      // More changes online than the apiserver's watch cache holds for a type (100 by default):
      // the edge's resume point must follow them, or the resume after the outage is refused as
      // too old and the watchers get a relist instead of the apiserver's own events.
      for (int i = 1; i <= ONLINE_CHANGES; i++) {
        put(ns, "busy", Integer.toString(i));
      }
      Waits.until(
          "informer and python see every change made online",
          Duration.ofSeconds(90),
          () -> stateOf(inf).equals(truth(ns)) && fold(pythonEvents(pyOut)).equals(truth(ns)));
      // As many changes again to ConfigMaps the edge does not watch: they move the apiserver's
      // window for the type on while this namespace stays quiet. The cloud's progress note
      // (kedge.watchProgress, every 30 s) has to move the edge's resume point along.
      String elsewhere = MetaServerFixture.namespace(admin, "watch-elsewhere");
      for (int i = 1; i <= ONLINE_CHANGES; i++) {
        put(elsewhere, "busy", Integer.toString(i));
      }
      Thread.sleep(PROGRESS_WAIT.toMillis());

      kedge.stopCloud();
      try {
        put(ns, "c1", "4");
        admin.configMaps().inNamespace(ns).withName("c2").delete();
        put(ns, "c3", "1");
        put(ns, "c3", "2");
      } finally {
        kedge.startCloud();
      }
      kedge.awaitConnected();
      put(ns, "c3", "3");
      put(ns, "c4", "1");

      Map<String, String> end = truth(ns);
      Duration took =
          Waits.until(
              "informer and python end with the apiserver's state",
              Duration.ofSeconds(120),
              () -> stateOf(inf).equals(truth(ns)) && fold(pythonEvents(pyOut)).equals(truth(ns)));
      LOG.info("edge watchers converged {} ms after the last change", took.toMillis());
      assertThat(stateOf(inf))
          .isEqualTo(end)
          .containsKeys("c1", "c3", "c4", "busy")
          .doesNotContainKey("c2");
      Waits.until(
          "the direct watch has every change",
          Duration.ofSeconds(60),
          () -> fold(direct).equals(truth(ns)));

      List<Seen> py = pythonEvents(pyOut);
      LOG.info(
          "direct watch {} events, informer {}, python {}",
          direct.size(),
          informed.size(),
          py.size());
      assertConsistent("informer", informed, direct, true);
      assertConsistent("python", py, direct, false);
      // they saw what happened while the edge was away as the apiserver announced it: the
      // deletion at its own version, the creation and the change after it
      Seen deleted =
          direct.stream()
              .filter(d -> d.type().equals("DELETED") && d.name().equals("c2"))
              .findFirst()
              .orElseThrow();
      List<String> c3 =
          direct.stream()
              .filter(d -> d.name().equals("c3"))
              .map(d -> d.type() + "@" + d.rv())
              .toList();
      assertThat(informed).contains(deleted);
      assertThat(py).contains(deleted);
      assertThat(py.stream().filter(p -> p.name().equals("c3")).map(p -> p.type() + "@" + p.rv()))
          .containsExactlyElementsOf(c3);
      assertThat(python.isAlive()).as("the python watch is still running").isTrue();
    } finally {
      directWatch.close();
      if (informer != null) {
        informer.close();
      }
      if (python != null) {
        python.destroy();
        python.waitFor();
      }
    }
  }

  static Seen seen(String type, ConfigMap c) {
    return new Seen(
        type, c.getMetadata().getName(), c.getMetadata().getResourceVersion(), content(c));
  }

  static Map<String, String> stateOf(SharedIndexInformer<ConfigMap> informer) {
    Map<String, String> m = new TreeMap<>();
    for (ConfigMap c : informer.getStore().list()) {
      m.put(c.getMetadata().getName(), c.getMetadata().getResourceVersion());
    }
    return m;
  }
}
