package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.EdgeCoreProcess;
import io.kedge.testkit.Ports;
import io.kedge.testkit.Prerequisites;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 7, must show 1, 2 and 3, with the process runtime: real cloudcore (as ServiceAccount
 * kubeedge/cloudcore, dynamicController and requireAuthorization on) and a real edgecore with
 * MetaServer; pods applied at the apiserver run the machine's unchanged {@code kubectl}, python
 * client and fabric8 with in-cluster config, through MetaServer, also across a cloud outage; specs
 * Edged cannot run say why at the apiserver.
 */
@WithControlPlane
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EdgePodIT {
  private static final Logger LOG = LoggerFactory.getLogger(EdgePodIT.class);
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final String NODE = "edge-pod-1";
  private static final String ACCESS_LOGGER = "io.kedge.edge.metaserver.access";

  static Path dir;
  static ControlPlane plane;
  static KubernetesClient admin;
  static CloudCoreProcess cloud;
  static EdgeCoreProcess edge;
  static Path kubectl;

  @BeforeAll
  static void cloudAndEdge(ControlPlane p, KubernetesClient a) {
    kubectl = Prerequisites.tool("kubectl", "kubernetes-client");
    // kept after the run: edgecore's and cloudcore's logs, the pods' logs
    dir = RunFiles.runDir("edge-pod-it-");
    LOG.info("files of this run in {}", dir);
    plane = p;
    admin = a;
    cloud = SecureMetaServer.startCloud(plane, dir.resolve("cloudcore"));
    int metaPort = Ports.free();
    edge =
        SecureMetaServer.startEdge(
            dir.resolve("edge"),
            NODE,
            cloud,
            metaPort,
            "-Xmx256m -XX:+UseSerialGC -Dorg.slf4j.simpleLogger.log." + ACCESS_LOGGER + "=debug");
    Waits.until("node " + NODE + " Ready", WAIT, () -> ready(NODE));
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
          cloud.assertNoForbidden(); // the shipped ClusterRoles cover cloudcore's own calls
        }
      } finally {
        if (admin != null && admin.nodes().withName(NODE).get() != null) {
          admin.nodes().withName(NODE).delete();
        }
      }
    }
  }

  /** Must show 1: the real kubectl, no flags, in a pod applied at the apiserver. */
  @Test
  @Order(1)
  void kubectlInAPodListsConfigMapsThroughMetaServer() throws Exception {
    String ns = namespace("pod-kubectl");
    configMap(ns, "greeting", "hello");
    long accessBefore = accessLines(ns).size();
    apply(
        pod(
            ns,
            "lister",
            "Never",
            "[" + kubectl + ", get, configmaps, -n, " + ns + "]",
            "kubectl"));
    Pod done = awaitPhase(ns, "lister", "Succeeded");
    String log = containerLog(done, "kubectl");
    LOG.info("pod {}/lister wrote:\n{}", ns, log);
    assertThat(log).contains("NAME").contains("greeting").contains("kube-root-ca.crt");
    List<String> access = accessLines(ns);
    assertThat(access.subList((int) accessBefore, access.size()))
        .as("MetaServer's access log has the pod's list, as its service account")
        .anyMatch(
            l ->
                l.contains("GET /api/v1/namespaces/" + ns + "/configmaps")
                    && l.contains("by system:serviceaccount:" + ns + ":reader"));
  }

  /** Must show 1, python: the unchanged python-kubernetes in-cluster loader. */
  @Test
  @Order(2)
  void pythonInClusterConfigInAPod() throws Exception {
    Prerequisites.pythonModule("kubernetes", "python3-kubernetes");
    String ns = namespace("pod-python");
    configMap(ns, "greeting", "hello");
    long accessBefore = accessLines(ns).size();
    String script =
        String.join(
            "\n",
            "from kubernetes import client, config",
            "config.load_incluster_config()",
            "c = client.Configuration.get_default_copy()",
            "print('host', c.host, flush=True)",
            "items = client.CoreV1Api().list_namespaced_config_map('" + ns + "').items",
            "print('read', sorted(i.metadata.name for i in items), flush=True)");
    apply(
        pod(ns, "py", "Never", "[/usr/bin/python3, -u, -c, " + yamlString(script) + "]", "client"));
    Pod done = awaitPhase(ns, "py", "Succeeded");
    String log = containerLog(done, "client");
    LOG.info("pod {}/py wrote:\n{}", ns, log);
    assertThat(log)
        .contains("read ['greeting', 'kube-root-ca.crt']")
        .contains("host https://127.0.0.2:");
    List<String> access = accessLines(ns);
    assertThat(access.subList((int) accessBefore, access.size()))
        .anyMatch(l -> l.contains("GET /api/v1/namespaces/" + ns + "/configmaps"));
  }

  /** Must show 2: {@code kubectl get configmaps -w} keeps printing across a cloud outage. */
  @Test
  @Order(3)
  void aWatchInAPodKeepsPrintingAcrossADisconnect() throws Exception {
    String ns = namespace("pod-watch");
    configMap(ns, "before", "1");
    apply(
        pod(
            ns,
            "watcher",
            "Never",
            "[" + kubectl + ", get, configmaps, -w, -n, " + ns + "]",
            "kubectl"));
    awaitPhase(ns, "watcher", "Running");
    String uid = admin.pods().inNamespace(ns).withName("watcher").get().getMetadata().getUid();
    awaitPrinted(ns, uid, "the first list", "before");
    configMap(ns, "online-1", "1");
    awaitPrinted(ns, uid, "online-1", "online-1");

    int connections = edge.connections();
    long outages = disconnects();
    cloud.stop();
    Waits.until("edgecore notices the outage", WAIT, () -> disconnects() > outages);
    configMap(ns, "during-outage", "1");
    Thread.sleep(3000); // the edge is cut off: nothing can reach it now
    assertThat(podLog(uid)).doesNotContain("during-outage");
    assertThat(watcherRunning(uid)).as("kubectl -w still runs while the cloud is away").isTrue();

    cloud.startProcess();
    edge.awaitConnections(connections + 1, WAIT);
    Duration caughtUp = awaitPrinted(ns, uid, "the change made during the outage", "during-outage");
    configMap(ns, "after-reconnect", "1");
    Duration live = awaitPrinted(ns, uid, "a change made after the reconnect", "after-reconnect");
    LOG.info(
        "watch across the outage: caught up {} ms after reconnecting, next change in {} ms",
        caughtUp.toMillis(),
        live.toMillis());
    String log = podLog(uid);
    LOG.info("pod {}/watcher wrote:\n{}", ns, log);
    assertThat(watcherRunning(uid)).as("the same kubectl -w process").isTrue();
    assertThat(Files.exists(logFile(uid, "kubectl", 1))).as("no restart").isFalse();
    Pod p = admin.pods().inNamespace(ns).withName("watcher").get();
    assertThat(p.getStatus().getPhase()).isEqualTo("Running");
    admin.pods().inNamespace(ns).withName("watcher").delete();
  }

  /** Must show 1, fabric8: {@code new KubernetesClientBuilder().build()}, nothing configured. */
  @Test
  @Order(4)
  void fabric8DefaultAutoConfigurationInAPod() throws Exception {
    String ns = namespace("pod-fabric8");
    configMap(ns, "greeting", "hello");
    Path cp = podClassPath();
    long accessBefore = accessLines(ns).size();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    apply(
        pod(
            ns,
            "fabric8",
            "Never",
            "["
                + String.join(
                    ", ",
                    java,
                    "-Xmx64m",
                    "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1",
                    "-cp",
                    yamlString(cp.resolve("classes") + ":" + cp.resolve("lib") + "/*"),
                    Fabric8InClusterLister.class.getName())
                + "]",
            "client"));
    Pod done = awaitPhase(ns, "fabric8", "Succeeded");
    String log = containerLog(done, "client");
    LOG.info("pod {}/fabric8 wrote:\n{}", ns, log);
    assertThat(log)
        .contains("master https://127.0.0.2:")
        .contains("namespace " + ns + " configmaps [greeting, kube-root-ca.crt]");
    List<String> access = accessLines(ns);
    assertThat(access.subList((int) accessBefore, access.size()))
        .as("MetaServer's access log has the pod's list, as its service account")
        .anyMatch(
            l ->
                l.contains("GET /api/v1/namespaces/" + ns + "/configmaps")
                    && l.contains("by system:serviceaccount:" + ns + ":reader"));
  }

  /**
   * Must show 3: specs Edged cannot run say why in the pod's status at the apiserver, while
   * edgecore and a good pod on the node keep running, and a pod applied afterwards still runs.
   */
  @Test
  @Order(5)
  void badSpecsSayWhyAtTheApiserverAndTheNodeKeepsWorking() throws Exception {
    String ns = namespace("pod-bad");
    configMap(ns, "cfg", "1");
    apply(
        pod(
            ns,
            "good",
            "Never",
            "[/bin/sh, -c, 'i=0; while [ $i -lt 600 ]; do i=$((i+1)); sleep 0.1; done; echo done']",
            "c"));
    awaitPhase(ns, "good", "Running");
    apply(badPod(ns, "nocmd", "  - {name: c, image: busybox}\n"));
    apply(
        badPod(
            ns,
            "nokey",
            "  - name: c\n"
                + "    image: busybox\n"
                + "    command: [/bin/true]\n"
                + "    env:\n"
                + "    - {name: X, valueFrom: {configMapKeyRef: {name: cfg, key: missing}}}\n"));
    apply(
        badPod(
            ns,
            "novol",
            "  - name: c\n"
                + "    image: busybox\n"
                + "    command: [/bin/true]\n"
                + "    volumeMounts: [{name: data, mountPath: /data}]\n"
                + "  volumes:\n"
                + "  - {name: data, nfs: {server: 10.0.0.1, path: /x}}\n"));
    // Over 1 MiB of environment; created directly (kubectl apply would store it twice, in its
    // last-applied annotation, past etcd's request limit).
    StringBuilder env = new StringBuilder("  - name: c\n    image: busybox\n");
    env.append("    command: [/bin/true]\n    env:\n");
    for (int i = 0; i < 11; i++) {
      env.append("    - {name: V").append(i).append(", value: ").append("x".repeat(96_000));
      env.append("}\n");
    }
    admin
        .load(
            new java.io.ByteArrayInputStream(
                badPod(ns, "bigenv", env.toString()).getBytes(StandardCharsets.UTF_8)))
        .inNamespace(ns)
        .create();

    Map<String, String> why =
        Map.of(
            "nocmd", "has no command",
            "nokey", "couldn't find key missing in ConfigMap " + ns + "/cfg",
            "novol", "nfs volumes are not supported",
            "bigenv", "at most 1048576");
    for (var e : why.entrySet()) {
      ContainerStatus c = awaitWaiting(ns, e.getKey());
      LOG.info(
          "pod {}/{}: {} {}",
          ns,
          e.getKey(),
          c.getState().getWaiting().getReason(),
          c.getState().getWaiting().getMessage());
      assertThat(c.getState().getWaiting().getReason()).isEqualTo("CreateContainerConfigError");
      assertThat(c.getState().getWaiting().getMessage()).contains(e.getValue());
      Pod p = admin.pods().inNamespace(ns).withName(e.getKey()).get();
      assertThat(p.getStatus().getPhase()).isEqualTo("Pending");
      assertThat(p.getStatus().getConditions())
          .anyMatch(
              k ->
                  k.getType().equals("ContainersReady")
                      && k.getStatus().equals("False")
                      && "ContainersNotReady".equals(k.getReason()));
    }
    assertThat(edge.process().isAlive()).as("edgecore runs").isTrue();
    assertThat(ready(NODE)).as("node Ready").isTrue();
    Pod good = admin.pods().inNamespace(ns).withName("good").get();
    String uid = good.getMetadata().getUid();
    assertThat(good.getStatus().getPhase()).isEqualTo("Running");
    assertThat(good.getStatus().getContainerStatuses().get(0).getRestartCount()).isZero();
    // A pod applied after the bad ones still runs, through MetaServer.
    apply(
        pod(ns, "after", "Never", "[" + kubectl + ", get, configmaps, -n, " + ns + "]", "kubectl"));
    assertThat(containerLog(awaitPhase(ns, "after", "Succeeded"), "kubectl")).contains("cfg");
    Pod goodDone = awaitPhase(ns, "good", "Succeeded");
    assertThat(goodDone.getMetadata().getUid()).isEqualTo(uid);
    assertThat(goodDone.getStatus().getContainerStatuses().get(0).getRestartCount()).isZero();
    assertThat(containerLog(goodDone, "c")).contains("done");
    assertThat(edge.process().isAlive()).as("edgecore runs").isTrue();
  }

  static String badPod(String ns, String name, String containers) {
    return String.join(
        "\n",
        "apiVersion: v1",
        "kind: Pod",
        "metadata:",
        "  name: " + name,
        "  namespace: " + ns,
        "spec:",
        "  nodeName: " + NODE,
        "  serviceAccountName: reader",
        "  restartPolicy: Never",
        "  containers:",
        containers);
  }

  static ContainerStatus awaitWaiting(String ns, String name) {
    ContainerStatus[] last = {null};
    Waits.until(
        "pod " + ns + "/" + name + " waiting with an error",
        WAIT,
        () -> {
          Pod p = admin.pods().inNamespace(ns).withName(name).get();
          List<ContainerStatus> cs =
              p.getStatus() == null ? null : p.getStatus().getContainerStatuses();
          last[0] = cs == null || cs.isEmpty() ? null : cs.get(0);
          // "ContainerCreating" is still on the way (e.g. the token before the apiserver's node
          // authorizer knows the pod), not the answer.
          return last[0] != null
              && last[0].getState().getWaiting() != null
              && last[0].getState().getWaiting().getMessage() != null
              && !"ContainerCreating".equals(last[0].getState().getWaiting().getReason());
        });
    return last[0];
  }

  /**
   * fabric8 and what it needs, copied where the pod's user (nobody) can read them: the test's own
   * class path lies under root's home.
   */
  static Path podClassPath() throws IOException {
    Path cp = dir.resolve("fabric8-classpath");
    Path lib = Files.createDirectories(cp.resolve("lib"));
    for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      if (e.endsWith(".jar")
          && Stream.of(
                  "/io/fabric8/",
                  "/tools/jackson/",
                  "/com/fasterxml/",
                  "/org/snakeyaml/",
                  "/org/slf4j/")
              .anyMatch(e::contains)) {
        Path jar = Path.of(e);
        Files.copy(jar, lib.resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    String name = Fabric8InClusterLister.class.getName().replace('.', '/') + ".class";
    Path classes = cp.resolve("classes");
    Path target = Files.createDirectories(classes.resolve(name).getParent());
    try (var in = Fabric8InClusterLister.class.getClassLoader().getResourceAsStream(name)) {
      Files.copy(in, target.resolve(Path.of(name).getFileName()));
    }
    try (Stream<Path> all = Files.walk(cp)) {
      for (Path f : all.toList()) {
        Files.setPosixFilePermissions(
            f, PosixFilePermissions.fromString(Files.isDirectory(f) ? "rwxr-xr-x" : "rw-r--r--"));
      }
    }
    return cp;
  }

  // ---- helpers -----------------------------------------------------------------------------

  static boolean ready(String node) {
    Node n = admin.nodes().withName(node).get();
    return n != null
        && n.getStatus() != null
        && n.getStatus().getConditions() != null
        && n.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /**
   * A new namespace named after {@code prefix}, with ServiceAccount {@code reader} that may get,
   * list and watch ConfigMaps.
   */
  static String namespace(String prefix) {
    String ns = prefix + "-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    PageInstall.readerAccount(admin, ns, true);
    Waits.until(
        "ConfigMap " + ns + "/kube-root-ca.crt",
        WAIT,
        () -> admin.configMaps().inNamespace(ns).withName("kube-root-ca.crt").get() != null);
    return ns;
  }

  static void configMap(String ns, String name, String value) {
    admin
        .configMaps()
        .inNamespace(ns)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withData(Map.of("value", value))
                .build())
        .serverSideApply();
  }

  static String pod(String ns, String name, String restart, String command, String container) {
    return String.join(
        "\n",
        "apiVersion: v1",
        "kind: Pod",
        "metadata:",
        "  name: " + name,
        "  namespace: " + ns,
        "spec:",
        "  nodeName: " + NODE,
        "  serviceAccountName: reader",
        "  restartPolicy: " + restart,
        "  tolerations:",
        "  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}",
        "  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute}",
        "  containers:",
        "  - name: " + container,
        "    image: kedge/host-process",
        "    command: " + command,
        "");
  }

  /** {@code kubectl apply -f -} at the apiserver, as an administrator. */
  static void apply(String yaml) {
    Kubectl.kubeconfig(plane.adminKubeconfig(), dir).withInput(yaml, "apply", "-f", "-").ok();
  }

  static Pod awaitPhase(String ns, String name, String phase) {
    Pod[] last = {null};
    Waits.until(
        "pod " + ns + "/" + name + " " + phase,
        WAIT,
        () -> {
          last[0] = admin.pods().inNamespace(ns).withName(name).get();
          String now = last[0].getStatus() == null ? null : last[0].getStatus().getPhase();
          return phase.equals(now) || "Failed".equals(now) || "Succeeded".equals(now);
        });
    assertThat(last[0].getStatus().getPhase())
        .as("pod %s/%s; its log: %s", ns, name, podLog(last[0].getMetadata().getUid()))
        .isEqualTo(phase);
    return last[0];
  }

  /** Edged keeps a container's output in {@code <pods dir>/<uid>/logs/<container>/<n>.log}. */
  static Path logFile(String uid, String container, int restarts) {
    return edge.dir()
        .resolve("pods")
        .resolve(uid)
        .resolve("logs")
        .resolve(container)
        .resolve(restarts + ".log");
  }

  static String containerLog(Pod p, String container) throws IOException {
    return Files.readString(
        logFile(p.getMetadata().getUid(), container, 0), StandardCharsets.UTF_8);
  }

  static String podLog(String uid) {
    try (Stream<Path> s = Files.walk(edge.dir().resolve("pods").resolve(uid).resolve("logs"))) {
      StringBuilder b = new StringBuilder();
      for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
        b.append(Files.readString(f, StandardCharsets.UTF_8));
      }
      return b.toString();
    } catch (IOException | UncheckedIOException e) {
      return "";
    }
  }

  /**
   * Waits until the watching pod printed {@code text}; when it does not, fails with what the pod
   * printed, its phase, and what edgecore and cloudcore logged about the namespace.
   */
  static Duration awaitPrinted(String ns, String uid, String what, String text) {
    try {
      return Waits.until("the watch prints " + what, WAIT, () -> podLog(uid).contains(text));
    } catch (RuntimeException | AssertionError e) {
      Pod p = admin.pods().inNamespace(ns).withName("watcher").get();
      String phase = p == null || p.getStatus() == null ? "gone" : p.getStatus().getPhase();
      throw new AssertionError(
          "the watch never printed "
              + what
              + " (pod "
              + phase
              + ")\n--- kubectl wrote:\n"
              + podLog(uid)
              + "\n--- edgecore about "
              + ns
              + ":\n"
              + linesAbout(edge.log(), ns)
              + "\n--- cloudcore about "
              + ns
              + ":\n"
              + linesAbout(cloud.log(), ns),
          e);
    }
  }

  /** The last lines of a log naming the namespace, without discovery requests. */
  static String linesAbout(String log, String ns) {
    List<String> l =
        log.lines()
            .filter(x -> x.contains(ns))
            .filter(x -> !x.contains(" GET /") || x.contains("/namespaces/"))
            .toList();
    return String.join("\n", l.subList(Math.max(0, l.size() - 40), l.size()));
  }

  /** Whether a process of the pod's container still runs (its log file is open for writing). */
  static boolean watcherRunning(String uid) throws IOException {
    Path log = logFile(uid, "kubectl", 0).toRealPath();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.filter(x -> x.getFileName().toString().matches("\\d+")).toList()) {
        try (Stream<Path> fds = Files.list(p.resolve("fd"))) {
          for (Path fd : fds.toList()) {
            try {
              if (Files.readSymbolicLink(fd).equals(log)) {
                return true;
              }
            } catch (IOException e) {
              // gone meanwhile
            }
          }
        } catch (IOException | UncheckedIOException e) {
          // gone meanwhile, or not ours to read
        }
      }
    }
    return false;
  }

  static long disconnects() {
    return edge.log().lines().filter(l -> l.contains("disconnected from the cloud")).count();
  }

  /** MetaServer's access lines about ConfigMaps of {@code ns}, from edgecore's log. */
  static List<String> accessLines(String ns) {
    return edge.log()
        .lines()
        .filter(l -> l.contains("metaserver: ") && l.contains("/namespaces/" + ns + "/configmaps"))
        .filter(l -> l.contains(" by "))
        .toList();
  }

  static String yamlString(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }
}
