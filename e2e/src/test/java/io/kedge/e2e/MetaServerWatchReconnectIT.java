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
import io.kedge.protocol.Json;
import io.kedge.testkit.ControlPlane;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

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
          + "    print(json.dumps({'type': ev['type'], 'name': o.metadata.name,\n"
          + "        'rv': o.metadata.resource_version, 'data': o.data}), flush=True)\n";

  record Seen(String type, String name, String rv) {}

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
          new Seen(n.path("type").asString(), n.path("name").asString(), n.path("rv").asString()));
    }
    return l;
  }

  /** Every event matches one of the direct watch; per object the versions only increase. */
  static void assertConsistent(String who, List<Seen> seen, List<Seen> direct) {
    Set<String> versions = ConcurrentHashMap.newKeySet();
    Set<String> deleted = ConcurrentHashMap.newKeySet();
    for (Seen d : direct) {
      if (d.type().equals("DELETED")) {
        deleted.add(d.name());
      } else {
        versions.add(d.name() + "@" + d.rv());
      }
    }
    Map<String, Long> last = new TreeMap<>();
    for (Seen s : seen) {
      if (s.type().equals("BOOKMARK")) {
        continue;
      }
      if (s.type().equals("DELETED")) {
        assertThat(deleted).as(who + ": " + s).contains(s.name());
      } else {
        assertThat(versions)
            .as(who + ": " + s + " not seen by the apiserver watch")
            .contains(s.name() + "@" + s.rv());
        long rv = Long.parseLong(s.rv());
        Long before = last.get(s.name());
        assertThat(before == null || rv > before)
            .as(who + ": " + s + " after version " + before)
            .isTrue();
        last.put(s.name(), rv);
      }
    }
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
                    direct.add(
                        new Seen(
                            action.name(),
                            c.getMetadata().getName(),
                            c.getMetadata().getResourceVersion()));
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
                      informed.add(seen("DELETED", c));
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
      Waits.until(
          "informer and python see c1 changed twice",
          Duration.ofSeconds(60),
          () -> stateOf(inf).equals(truth(ns)) && fold(pythonEvents(pyOut)).equals(truth(ns)));

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
          .containsKeys("c1", "c3", "c4")
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
      assertConsistent("informer", informed, direct);
      assertConsistent("python", py, direct);
      // they saw the deletion that happened while the edge was away, and what came after
      assertThat(informed).anyMatch(s -> s.type().equals("DELETED") && s.name().equals("c2"));
      assertThat(py).anyMatch(s -> s.type().equals("DELETED") && s.name().equals("c2"));
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
    return new Seen(type, c.getMetadata().getName(), c.getMetadata().getResourceVersion());
  }

  static Map<String, String> stateOf(SharedIndexInformer<ConfigMap> informer) {
    Map<String, String> m = new TreeMap<>();
    for (ConfigMap c : informer.getStore().list()) {
      m.put(c.getMetadata().getName(), c.getMetadata().getResourceVersion());
    }
    return m;
  }
}
