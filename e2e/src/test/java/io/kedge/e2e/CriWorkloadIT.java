package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.kedge.controlplane.ControlPlane;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.EdgeCoreProcess;
import io.kedge.testkit.NetworkNamespace;
import io.kedge.testkit.Ports;
import io.kedge.testkit.Prerequisites;
import io.kedge.testkit.TestContainerd;
import io.kedge.testkit.TestRegistry;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 21: ordinary Kubernetes apps on a CRI edge node, as a kubelet runs them. The edge node —
 * edgecore, its containerd with a CNI bridge network, MetaServer's dummy address {@code
 * 169.254.30.10} — and two image registries (Debian's {@code docker-registry}, one needing
 * credentials) live in a network namespace of this test's own, joined to the host (cloudcore, the
 * control plane) by a veth pair; the pods are applied at the apiserver and judged there.
 */
@WithControlPlane
class CriWorkloadIT {
  private static final Logger LOG = LoggerFactory.getLogger(CriWorkloadIT.class);
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final String NODE = "edge-workloads-1";
  private static final String POD_SUBNET = "10.99.0.0/24";
  private static final String ACCESS_LOGGER = "io.kedge.edge.metaserver.access";

  static Path dir;
  static ControlPlane plane;
  static KubernetesClient admin;
  static NetworkNamespace netns;
  static TestRegistry open;
  static TestRegistry locked;
  static TestContainerd containerd;
  static CloudCoreProcess cloud;
  static EdgeCoreProcess edge;

  @BeforeAll
  static void edgeInItsOwnNetwork(ControlPlane p, KubernetesClient a) throws Exception {
    Prerequisites.require(
        Files.readString(Path.of("/proc/self/status")).contains("Uid:\t0\t"),
        "root (network namespaces and containerd)");
    long t0 = System.nanoTime();
    plane = p;
    admin = a;
    dir = RunFiles.runDir("cri-workload-it-");
    LOG.info("files of this run in {}", dir);
    netns = NetworkNamespace.create();
    LOG.info(
        "network namespace {}: host {} <-> edge {}",
        netns.name(),
        netns.hostAddress(),
        netns.innerAddress());
    open = TestRegistry.open(dir.resolve("registry-open"), netns.prefix());
    String password = HexFormat.of().formatHex(new SecureRandom().generateSeed(8));
    locked =
        TestRegistry.withCredentials(
            dir.resolve("registry-locked"), netns.prefix(), "puller", password);
    // containerd's socket path must stay short (unix socket paths are limited to 107 bytes).
    containerd =
        TestContainerd.start(
            Files.createTempDirectory("kedge-ctd-"),
            new TestContainerd.Options(netns.prefix(), Optional.of(POD_SUBNET)));
    containerd.trustPlainHttp(open.host());
    containerd.trustPlainHttp(locked.host());
    containerd.importImage(TestContainerd.pythonImage());
    String host = netns.hostAddress();
    cloud =
        CloudCoreProcess.start(
            plane,
            dir.resolve("cloudcore"),
            "modules.dynamicController.enable=true",
            "featureGates.requireAuthorization=true",
            "modules.cloudHub.advertiseAddress={127.0.0.1," + host + "}",
            "modules.cloudHub.websocket.address=" + host,
            "modules.cloudHub.https.address=" + host);
    int metaPort = Ports.free();
    edge =
        EdgeCoreProcess.startWithPrefix(
            netns.prefix(),
            dir.resolve("edge"),
            NODE,
            URI.create("wss://" + host + ":" + cloud.webSocketPort()),
            URI.create("https://" + host + ":" + cloud.httpsPort()),
            cloud.token(),
            Map.of(
                "KEDGE_JAVA_OPTS",
                "-Xmx256m -XX:+UseSerialGC -Dorg.slf4j.simpleLogger.log."
                    + ACCESS_LOGGER
                    + "=debug"),
            "featureGates.requireAuthorization=true",
            "modules.metaManager.metaServer.enable=true",
            "modules.metaManager.metaServer.server=127.0.0.1:" + metaPort,
            // KubeEdge's own dummy address: this namespace is the only holder of it here
            "modules.metaManager.metaServer.dummyServer=169.254.30.10:10550",
            "modules.edged.runtime=cri",
            "modules.edged.containerRuntimeEndpoint=" + containerd.endpoint());
    Waits.until("node " + NODE + " Ready", WAIT, CriWorkloadIT::ready);
    LOG.info("edge node, registries and containerd ready in {} s", secondsSince(t0));
  }

  @AfterAll
  static void stop() {
    try {
      if (edge != null && edge.process() != null && edge.process().isAlive()) {
        edge.stop(); // as a node shuts down: Edged stops and removes its pods' sandboxes
      }
      if (edge != null) {
        edge.close();
      }
      if (cloud != null) {
        cloud.close();
        cloud.assertNoForbidden();
      }
    } finally {
      for (AutoCloseable c : new AutoCloseable[] {open, locked}) {
        try {
          if (c != null) {
            c.close();
          }
        } catch (Exception e) {
          LOG.warn("closing {} failed", c, e);
        }
      }
      if (containerd != null) {
        Path ctd = containerd.dir();
        containerd.close();
        removeTree(ctd);
      }
      if (netns != null) {
        netns.close();
      }
      if (admin != null && admin.nodes().withName(NODE).get() != null) {
        admin.nodes().withName(NODE).delete();
      }
    }
  }

  /**
   * Must show 1: images from real registries. A pod with {@code imagePullSecrets} pulls from the
   * registry that needs credentials; a pod without them is refused there ({@code ErrImagePull} with
   * the registry's message); a pod whose image is not pushed yet goes {@code ErrImagePull} then
   * {@code ImagePullBackOff} and runs once the image is pushed.
   */
  @Test
  void imagesArePulledFromRegistriesWithPullSecretsAndBackOff() throws Exception {
    long t0 = System.nanoTime();
    String ns = namespace("pull");
    String privateImage = locked.push(TestContainerd.edgeImage(), "kedge/tools:1");
    String late = open.host() + "/kedge/late:1";
    String auth =
        Base64.getEncoder()
            .encodeToString(
                (locked.user() + ":" + locked.password()).getBytes(StandardCharsets.UTF_8));
    String dockerConfig = "{\"auths\":{\"" + locked.host() + "\":{\"auth\":\"" + auth + "\"}}}";
    admin
        .secrets()
        .inNamespace(ns)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("regcred")
                .endMetadata()
                .withType("kubernetes.io/dockerconfigjson")
                .withData(
                    Map.of(
                        ".dockerconfigjson",
                        Base64.getEncoder()
                            .encodeToString(dockerConfig.getBytes(StandardCharsets.UTF_8))))
                .build())
        .create();
    try (PodHistory history = PodHistory.watch(ns)) {
      apply(
          ns,
          """
          apiVersion: v1
          kind: Pod
          metadata: {name: with-secret}
          spec:
            nodeName: %1$s
            restartPolicy: Never
            imagePullSecrets: [{name: regcred}]
            containers:
            - {name: c, image: '%2$s', command: [sh, -c, 'echo pulled with the secret']}
          ---
          apiVersion: v1
          kind: Pod
          metadata: {name: without-secret}
          spec:
            nodeName: %1$s
            restartPolicy: Never
            containers:
            - {name: c, image: '%2$s', imagePullPolicy: Always, command: [sh, -c, 'echo not me']}
          ---
          apiVersion: v1
          kind: Pod
          metadata: {name: late}
          spec:
            nodeName: %1$s
            restartPolicy: Never
            containers:
            - {name: c, image: '%3$s', command: [sh, -c, 'echo pushed at last']}
          """
              .formatted(NODE, privateImage, late));
      Pod withSecret = awaitPod(ns, "with-secret", phase("Succeeded"));
      assertThat(podLog(withSecret)).contains("pulled with the secret");
      assertThat(container(withSecret).getImageID()).startsWith("sha256:");

      // ErrImagePull stands only until the back-off starts: taken from the watch, which saw
      // every state, not from a poll that may come in ImagePullBackOff (it did, under load)
      history.await("without-secret", s -> "ErrImagePull".equals(s.waiting()), WAIT);
      String message =
          history.samples("without-secret").stream()
              .filter(s -> "ErrImagePull".equals(s.waiting()))
              .map(Sample::message)
              .findFirst()
              .orElse("");
      LOG.info("without the secret: {}", message);
      assertThat(message)
          .startsWith("rpc error: code = ")
          .contains(privateImage)
          .containsIgnoringCase("unauthorized");

      history.await("late", s -> "ImagePullBackOff".equals(s.waiting()), WAIT);
      assertThat(history.waitingReasons("late"))
          .as("reasons the apiserver saw, in order")
          .containsSubsequence("ErrImagePull", "ImagePullBackOff");
      Pod backingOff = admin.pods().inNamespace(ns).withName("late").get();
      if ("ImagePullBackOff".equals(waitingReason(backingOff))) {
        assertThat(container(backingOff).getState().getWaiting().getMessage())
            .isEqualTo("Back-off pulling image \"" + late + "\"");
      }
      String notFound =
          history.samples("late").stream()
              .filter(s -> "ErrImagePull".equals(s.waiting()))
              .map(Sample::message)
              .findFirst()
              .orElse("");
      assertThat(notFound).as("the registry's answer").contains("not found");
      open.push(TestContainerd.edgeImage(), "kedge/late:1");
      Pod ran = awaitPod(ns, "late", phase("Succeeded"));
      assertThat(podLog(ran)).contains("pushed at last");
    }
    assertThat(eventMessages(ns, "late", "BackOff"))
        .contains("Back-off pulling image \"" + late + "\"");
    assertThat(eventMessages(ns, "late", "Pulling")).contains("Pulling image \"" + late + "\"");
    assertThat(eventMessages(ns, "late", "Failed"))
        .contains("Error: ErrImagePull")
        .anyMatch(m -> m.startsWith("Failed to pull image \"" + late + "\": rpc error"));
    assertThat(eventMessages(ns, "late", "Pulled"))
        .anyMatch(m -> m.startsWith("Successfully pulled image \"" + late + "\" in "));
    LOG.info("pull test took {} s", secondsSince(t0));
  }

  /**
   * Must show 2: a readiness probe failing then passing (an HTTP probe against the container's own
   * server), Ready false → true at the apiserver; a liveness probe failing, the restart count
   * growing; a startup probe holding both back.
   */
  @Test
  void probesDriveReadinessAndRestarts() throws Exception {
    long t0 = System.nanoTime();
    String ns = namespace("probes");
    try (PodHistory history = PodHistory.watch(ns)) {
      apply(
          ns,
          """
          apiVersion: v1
          kind: Pod
          metadata: {name: web}
          spec:
            nodeName: %1$s
            containers:
            - name: web
              image: %2$s
              command: [sh, -c, 'mkdir -p /tmp/www; httpd -p 8080 -h /tmp/www; sleep 6; echo ok > /tmp/www/ready; exec sleep 3600']
              ports: [{name: http, containerPort: 8080}]
              readinessProbe:
                httpGet: {path: /ready, port: http}
                periodSeconds: 1
          ---
          apiVersion: v1
          kind: Pod
          metadata: {name: flaky}
          spec:
            nodeName: %1$s
            terminationGracePeriodSeconds: 1
            containers:
            - name: flaky
              image: %2$s
              command: [sh, -c, 'touch /tmp/healthy; sleep 2; rm /tmp/healthy; exec sleep 3600']
              livenessProbe:
                exec: {command: [cat, /tmp/healthy]}
                periodSeconds: 1
                failureThreshold: 2
          ---
          apiVersion: v1
          kind: Pod
          metadata: {name: slow}
          spec:
            nodeName: %1$s
            terminationGracePeriodSeconds: 1
            containers:
            - name: slow
              image: %2$s
              command: [sh, -c, 'sleep 8; touch /tmp/started; exec httpd -f -p 8081 -h /tmp']
              startupProbe:
                exec: {command: [test, -f, /tmp/started]}
                periodSeconds: 1
                failureThreshold: 60
              readinessProbe:
                tcpSocket: {port: 8081}
                periodSeconds: 1
              livenessProbe:
                exec: {command: [test, -f, /tmp/started]}
                periodSeconds: 1
                failureThreshold: 1
          """
              .formatted(NODE, TestContainerd.IMAGE));

      Pod web = awaitPod(ns, "web", p -> ready(p, "Ready"));
      assertThat(web.getStatus().getPodIP())
          .as("a pod IP of the bridge network")
          .startsWith("10.99.0.");
      assertThat(history.readyValues("web"))
          .as("Ready at the apiserver, in order")
          .containsSubsequence(false, true);
      assertThat(history.samples("web"))
          .as("running but not ready before the probe passed")
          .anyMatch(s -> s.running() && !s.ready());
      assertThat(eventMessages(ns, "web", "Unhealthy"))
          .contains("Readiness probe failed: HTTP probe failed with statuscode: 404");

      Pod flaky = awaitPod(ns, "flaky", p -> container(p).getRestartCount() >= 2);
      assertThat(container(flaky).getLastState().getTerminated().getExitCode()).isIn(137, 143);
      assertThat(eventMessages(ns, "flaky", "Killing"))
          .contains("Container flaky failed liveness probe, will be restarted");
      assertThat(eventMessages(ns, "flaky", "Unhealthy"))
          .anyMatch(m -> m.startsWith("Liveness probe failed: cat: "));

      Pod slow = awaitPod(ns, "slow", p -> ready(p, "Ready"));
      assertThat(container(slow).getRestartCount())
          .as("liveness (failing until the file exists) waited for the startup probe")
          .isZero();
      assertThat(container(slow).getStarted()).isTrue();
      assertThat(history.samples("slow"))
          .as("running, not started and not ready while the startup probe failed")
          .anyMatch(s -> s.running() && !s.started() && !s.ready());
      assertThat(eventMessages(ns, "slow", "Unhealthy"))
          .anyMatch(m -> m.startsWith("Startup probe failed"))
          .noneMatch(m -> m.startsWith("Liveness"));
    }
    LOG.info("probe test took {} s", secondsSince(t0));
  }

  /**
   * Must show 3: a container over its memory limit is {@code OOMKilled}; a busy loop limited to
   * 200m uses no more, by the kernel's accounting of its CPU time and of the periods its quota
   * stopped it.
   */
  @Test
  void memoryAndCpuLimitsHold() throws Exception {
    long t0 = System.nanoTime();
    String ns = namespace("limits");
    String marker = "busy-" + Long.toString(System.nanoTime(), 36);
    apply(
        ns,
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: hog}
        spec:
          nodeName: %1$s
          restartPolicy: Never
          containers:
          - name: hog
            image: %2$s
            command: [sh, -c, 'a=x; while :; do a="$a$a"; done']
            resources: {limits: {memory: 32Mi}}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: busy}
        spec:
          nodeName: %1$s
          terminationGracePeriodSeconds: 1
          containers:
          - name: busy
            image: %2$s
            command: [sh, -c, 'while :; do :; done', %3$s]
            resources: {limits: {cpu: 200m, memory: 64Mi}}
        """
            .formatted(NODE, TestContainerd.IMAGE, marker));
    Pod hog = awaitPod(ns, "hog", phase("Failed"));
    assertThat(container(hog).getState().getTerminated().getReason()).isEqualTo("OOMKilled");
    assertThat(container(hog).getState().getTerminated().getExitCode()).isEqualTo(137);

    awaitPod(ns, "busy", p -> container(p) != null && container(p).getState().getRunning() != null);
    long pid = CpuUse.find(marker);
    long throttledBefore = CpuUse.throttledPeriods(pid);
    double cores = CpuUse.ofProcess(pid, Duration.ofSeconds(5));
    long throttled = CpuUse.throttledPeriods(pid) - throttledBefore;
    LOG.info("busy loop limited to 200m: {} cores, {} throttled periods", cores, throttled);
    assertThat(cores).as("cores used").isLessThan(0.25).isGreaterThan(0.02);
    assertThat(throttled).as("CFS periods in which the quota stopped the loop").isGreaterThan(10);
    LOG.info("limits test took {} s", secondsSince(t0));
  }

  /**
   * Must show 3, the node's side: its allocatable leaves out what edgecore keeps for itself (its
   * JVM's heap limit, 256 MiB here, with the JVM's native parts, and 100m CPU) besides the eviction
   * threshold, and the pods' cgroup is held to that allocatable memory.
   */
  @Test
  void theNodesAllocatableLeavesOutWhatEdgecoreKeeps() throws Exception {
    Node n = admin.nodes().withName(NODE).get();
    Map<String, io.fabric8.kubernetes.api.model.Quantity> cap = n.getStatus().getCapacity();
    Map<String, io.fabric8.kubernetes.api.model.Quantity> alloc = n.getStatus().getAllocatable();
    long capMem =
        io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(cap.get("memory")).longValue();
    long allocMem =
        io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(alloc.get("memory")).longValue();
    LOG.info(
        "node memory: capacity {} allocatable {}; cpu: {} / {}",
        cap.get("memory"),
        alloc.get("memory"),
        cap.get("cpu"),
        alloc.get("cpu"));
    assertThat(capMem - allocMem)
        .as("eviction threshold 100Mi + edgecore's heap (~256Mi) + 96Mi for its JVM")
        .isBetween(400L << 20, 460L << 20);
    long cpus = Long.parseLong(cap.get("cpu").getAmount());
    assertThat(alloc.get("cpu").toString()).isEqualTo((cpus * 1000 - 100) + "m");
    Path v1 = Path.of("/sys/fs/cgroup/memory/kedge", NODE, "memory.limit_in_bytes");
    Path v2 = Path.of("/sys/fs/cgroup/kedge", NODE, "memory.max");
    Path limit = Files.exists(v1) ? v1 : v2;
    assertThat(Long.parseLong(Files.readString(limit).strip()))
        .as("the pods' cgroup %s", limit)
        .isBetween(allocMem - 4096, allocMem); // the kernel keeps whole pages
  }

  /**
   * Must show 4: a pod in its own network namespace (no hostNetwork) whose python client uses
   * {@code load_incluster_config()} reads through MetaServer at the dummy address; the same pod
   * under a ServiceAccount without rights is refused by RBAC.
   */
  @Test
  void aPodNetworkPodReadsThroughMetaServerWithInClusterConfig() throws Exception {
    long t0 = System.nanoTime();
    String ns = "cri-py-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    PageInstall.readerNamespace(admin, ns, true);
    admin
        .serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName("stranger")
                .endMetadata()
                .build())
        .serverSideApply();
    Waits.until(
        "ConfigMap " + ns + "/kube-root-ca.crt",
        WAIT,
        () -> admin.configMaps().inNamespace(ns).withName("kube-root-ca.crt").get() != null);
    String script =
        String.join(
            "\n",
            "import sys",
            "from kubernetes import client, config",
            "from kubernetes.client.rest import ApiException",
            "config.load_incluster_config()",
            "print('api', client.Configuration.get_default_copy().host, flush=True)",
            "ns = open('/var/run/secrets/kubernetes.io/serviceaccount/namespace').read()",
            "try:",
            "    items = client.CoreV1Api().list_namespaced_config_map(ns).items",
            "    print('configmaps:', ' '.join(sorted(c.metadata.name for c in items)), flush=True)",
            "except ApiException as e:",
            "    print('refused:', e.status, e.reason, flush=True)",
            "    sys.exit(3)");
    String pods =
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: reader}
        spec:
          nodeName: %1$s
          serviceAccountName: reader
          restartPolicy: Never
          containers:
          - name: py
            image: %2$s
            command:
            - python3
            - -c
            - |
        %3$s
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: stranger}
        spec:
          nodeName: %1$s
          serviceAccountName: stranger
          restartPolicy: Never
          containers:
          - name: py
            image: %2$s
            command:
            - python3
            - -c
            - |
        %3$s
        """
            .formatted(NODE, TestContainerd.PYTHON_IMAGE, script.indent(8).stripTrailing());
    apply(ns, pods);
    Pod reader = awaitPod(ns, "reader", p -> terminal(p));
    String readerLog = podLog(reader);
    LOG.info("reader wrote:\n{}", readerLog);
    assertThat(reader.getStatus().getPhase()).as("log: %s", readerLog).isEqualTo("Succeeded");
    assertThat(reader.getStatus().getPodIP()).startsWith("10.99.0.");
    assertThat(readerLog)
        .contains("api https://169.254.30.10:10550")
        .contains("configmaps: greeting kube-root-ca.crt");
    String podIp = reader.getStatus().getPodIP();

    Pod stranger = awaitPod(ns, "stranger", p -> terminal(p));
    String strangerLog = podLog(stranger);
    LOG.info("stranger wrote:\n{}", strangerLog);
    assertThat(stranger.getStatus().getPhase()).isEqualTo("Failed");
    assertThat(container(stranger).getState().getTerminated().getExitCode()).isEqualTo(3);
    assertThat(strangerLog).contains("refused: 403 Forbidden");
    List<String> access =
        edge.log()
            .lines()
            .filter(
                l -> l.contains("metaserver: ") && l.contains("/namespaces/" + ns + "/configmaps"))
            .toList();
    assertThat(access)
        .as("MetaServer's log: each pod's request as its own service account, from the pod's IP")
        .anyMatch(
            l ->
                l.contains("by system:serviceaccount:" + ns + ":reader")
                    && l.contains("from /" + podIp + ":"))
        .anyMatch(l -> l.contains("forbidden for system:serviceaccount:" + ns + ":stranger"));
    LOG.info("in-cluster python test took {} s", secondsSince(t0));
  }

  // ------------------------------------------------------------------------------------------

  static String namespace(String what) {
    String ns = "cri-" + what + "-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    admin
        .namespaces()
        .resource(
            new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                .withNewMetadata()
                .withName(ns)
                .endMetadata()
                .build())
        .serverSideApply();
    Waits.until(
        "ServiceAccount " + ns + "/default",
        WAIT,
        () -> admin.serviceAccounts().inNamespace(ns).withName("default").get() != null);
    return ns;
  }

  static void apply(String ns, String yaml) {
    Kubectl.kubeconfig(plane.adminKubeconfig(), dir)
        .withInput(yaml, "apply", "-n", ns, "-f", "-")
        .ok();
  }

  static Pod awaitPod(String ns, String name, Predicate<Pod> ok) {
    Pod[] last = {null};
    try {
      Waits.until(
          "pod " + ns + "/" + name,
          WAIT,
          () -> {
            last[0] = admin.pods().inNamespace(ns).withName(name).get();
            return last[0] != null && ok.test(last[0]);
          });
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError("pod " + ns + "/" + name + " never got there; last: " + last[0], e);
    }
    return last[0];
  }

  static Predicate<Pod> phase(String phase) {
    return p -> p.getStatus() != null && phase.equals(p.getStatus().getPhase());
  }

  static Predicate<Pod> waiting(String reason) {
    return p -> reason.equals(waitingReason(p));
  }

  static boolean terminal(Pod p) {
    return phase("Succeeded").test(p) || phase("Failed").test(p);
  }

  static ContainerStatus container(Pod p) {
    if (p.getStatus() == null || p.getStatus().getContainerStatuses() == null) {
      return null;
    }
    List<ContainerStatus> cs = p.getStatus().getContainerStatuses();
    return cs.isEmpty() ? null : cs.get(0);
  }

  static String waitingReason(Pod p) {
    ContainerStatus c = container(p);
    return c == null || c.getState() == null || c.getState().getWaiting() == null
        ? null
        : c.getState().getWaiting().getReason();
  }

  static boolean ready(Pod p, String condition) {
    if (p.getStatus() == null || p.getStatus().getConditions() == null) {
      return false;
    }
    for (PodCondition c : p.getStatus().getConditions()) {
      if (condition.equals(c.getType())) {
        return "True".equals(c.getStatus());
      }
    }
    return false;
  }

  static List<Event> events(String ns, String pod) {
    return admin.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> pod.equals(e.getInvolvedObject().getName()))
        .toList();
  }

  /** Messages of the pod's events with {@code reason}, waiting a little for them to arrive. */
  static List<String> eventMessages(String ns, String pod, String reason) {
    List<String> found = new ArrayList<>();
    Waits.until(
        "event " + reason + " of pod " + ns + "/" + pod,
        Duration.ofSeconds(60),
        () -> {
          found.clear();
          events(ns, pod).stream()
              .filter(e -> reason.equals(e.getReason()))
              .forEach(e -> found.add(e.getMessage()));
          return !found.isEmpty();
        });
    return found;
  }

  static boolean ready() {
    Node n = admin.nodes().withName(NODE).get();
    return n != null
        && n.getStatus() != null
        && n.getStatus().getConditions() != null
        && n.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /** The pod's container logs as Edged keeps them (CRI format). */
  static String podLog(Pod p) {
    Path logs = edge.dir().resolve("pods").resolve(p.getMetadata().getUid()).resolve("logs");
    try (Stream<Path> s = Files.walk(logs)) {
      StringBuilder b = new StringBuilder();
      for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
        b.append(Files.readString(f, StandardCharsets.UTF_8));
      }
      return b.toString();
    } catch (IOException | UncheckedIOException e) {
      return "";
    }
  }

  static long secondsSince(long t0) {
    return TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
  }

  static void removeTree(Path d) {
    try {
      new ProcessBuilder("rm", "-rf", "--one-file-system", d.toString()).start().waitFor();
    } catch (IOException e) {
      LOG.warn("could not remove {}", d, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One pod status the apiserver sent, reduced to what the tests look at. */
  record Sample(
      String pod,
      String waiting,
      String message,
      boolean running,
      boolean started,
      boolean ready,
      int restarts) {}

  /** Every status of a namespace's pods as a watch at the apiserver saw it, in order. */
  static final class PodHistory implements Watcher<Pod>, AutoCloseable {
    private final List<Sample> samples = new CopyOnWriteArrayList<>();
    private Watch watch;

    static PodHistory watch(String ns) {
      PodHistory h = new PodHistory();
      h.watch = admin.pods().inNamespace(ns).watch(h);
      return h;
    }

    @Override
    public void eventReceived(Action action, Pod p) {
      ContainerStatus c = container(p);
      if (c == null) {
        return;
      }
      var w = c.getState() == null ? null : c.getState().getWaiting();
      samples.add(
          new Sample(
              p.getMetadata().getName(),
              w == null ? null : w.getReason(),
              w == null ? null : w.getMessage(),
              c.getState() != null && c.getState().getRunning() != null,
              Boolean.TRUE.equals(c.getStarted()),
              CriWorkloadIT.ready(p, "Ready"),
              c.getRestartCount() == null ? 0 : c.getRestartCount()));
    }

    @Override
    public void onClose(WatcherException cause) {
      LOG.warn("pod watch closed: {}", String.valueOf(cause));
    }

    List<Sample> samples(String pod) {
      return samples.stream().filter(s -> s.pod().equals(pod)).toList();
    }

    List<String> waitingReasons(String pod) {
      List<String> out = new ArrayList<>();
      for (Sample s : samples(pod)) {
        if (s.waiting() != null
            && (out.isEmpty() || !out.get(out.size() - 1).equals(s.waiting()))) {
          out.add(s.waiting());
        }
      }
      return out;
    }

    List<Boolean> readyValues(String pod) {
      List<Boolean> out = new ArrayList<>();
      for (Sample s : samples(pod)) {
        if (out.isEmpty() || out.get(out.size() - 1) != s.ready()) {
          out.add(s.ready());
        }
      }
      return out;
    }

    void await(String pod, Predicate<Sample> ok, Duration atMost) {
      Waits.until(
          "pod " + pod + " seen in the wanted state",
          atMost,
          () -> samples(pod).stream().anyMatch(ok));
    }

    @Override
    public void close() {
      if (watch != null) {
        watch.close();
      }
    }
  }

  /** The CPU a process uses, from the kernel's accounting ({@code /proc/PID/stat}). */
  static final class CpuUse {
    static long find(String marker) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        Optional<ProcessHandle> h =
            ProcessHandle.allProcesses()
                .filter(
                    p -> {
                      String[] a = p.info().arguments().orElse(new String[0]);
                      return a.length > 2
                          && a[0].equals("-c")
                          && a[1].startsWith("while")
                          && a[a.length - 1].equals(marker);
                    })
                .findFirst();
        if (h.isPresent()) {
          return h.get().pid();
        }
        Thread.sleep(100);
      }
      throw new AssertionError("no process with " + marker);
    }

    static double ofProcess(long pid, Duration over) throws Exception {
      long t0 = System.nanoTime();
      long c0 = ticks(pid);
      Thread.sleep(over.toMillis());
      long c1 = ticks(pid);
      return (c1 - c0) / 100.0 / ((System.nanoTime() - t0) / 1e9); // USER_HZ is 100 on Linux
    }

    static long ticks(long pid) throws IOException {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime + stime
    }

    /** {@code nr_throttled} of the process's CPU cgroup (v1 {@code cpu} hierarchy, or v2). */
    static long throttledPeriods(long pid) throws IOException {
      for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"))) {
        String[] f = l.split(":", 3);
        Path stat = null;
        if (List.of(f[1].split(",")).contains("cpu")) {
          stat = Path.of("/sys/fs/cgroup/cpu" + f[2], "cpu.stat");
        } else if (f[1].isEmpty() && Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"))) {
          stat = Path.of("/sys/fs/cgroup" + f[2], "cpu.stat");
        }
        if (stat != null && Files.exists(stat)) {
          for (String s : Files.readAllLines(stat)) {
            if (s.startsWith("nr_throttled ")) {
              return Long.parseLong(s.substring("nr_throttled ".length()).strip());
            }
          }
        }
      }
      return 0;
    }
  }
}
