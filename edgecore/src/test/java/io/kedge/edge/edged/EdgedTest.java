package io.kedge.edge.edged;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.protocol.Json;
import io.kedge.protocol.config.ConfigLoader;
import io.kedge.testkit.Prerequisites;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** Edged with the real process runtime and in-memory store, tokens and cloud. */
class EdgedTest {
  @TempDir Path tmp;
  Path root;
  FakeObjects objects = new FakeObjects();
  FakeTokens tokens = new FakeTokens();
  RecordingSink sink = new RecordingSink();
  Edged edged;

  @BeforeEach
  void setUp() throws Exception {
    Prerequisites.require(
        ProcessRuntime.unavailableReason().isEmpty(),
        "root and util-linux: " + ProcessRuntime.unavailableReason().orElse(""));
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    root = tmp.resolve("pods");
    objects.configMaps.put("ns1/cfg", cm("cfg", Map.of("greeting", "hello", "mode", "fast")));
    objects.configMaps.put(
        "ns1/kube-root-ca.crt", cm("kube-root-ca.crt", Map.of("ca.crt", "---CA---")));
  }

  @AfterEach
  void tearDown() {
    if (edged != null) {
      edged.close();
    }
  }

  EdgedSettings settings() {
    return new EdgedSettings(
        new NodeInfo(
            "edge-1",
            "10.1.2.3",
            BigDecimal.valueOf(4),
            BigDecimal.valueOf(8L << 30),
            BigDecimal.valueOf(100L << 30)),
        root,
        Optional.of(new KubernetesService("169.254.30.10", "10550")),
        new RestartBackoff(Duration.ofMillis(200), Duration.ofMillis(800), Duration.ofMinutes(10)),
        Duration.ofSeconds(60),
        Duration.ofMillis(300),
        Duration.ofSeconds(5),
        4096,
        Duration.ofMillis(200),
        EdgedSettings.NOBODY);
  }

  Edged startEdged() {
    edged =
        new Edged(
            settings(),
            new ProcessRuntime(root, Clock.systemUTC()),
            objects,
            tokens,
            sink,
            Clock.systemUTC());
    edged.start();
    return edged;
  }

  static JsonNode cm(String name, Map<String, String> data) {
    ObjectNode o = Json.object();
    o.put("apiVersion", "v1").put("kind", "ConfigMap");
    o.putObject("metadata").put("name", name).put("namespace", "ns1");
    ObjectNode d = o.putObject("data");
    data.forEach(d::put);
    return o;
  }

  /** A pod from YAML, with the service-account volume the API server adds. */
  static JsonNode pod(String name, String yamlSpec) {
    String yaml =
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: "
            + name
            + "\n  namespace: ns1\n  uid: uid-"
            + name
            + "\nspec:\n  nodeName: edge-1\n  serviceAccountName: app\n"
            + yamlSpec.indent(2);
    ObjectNode pod = (ObjectNode) Json.parse(Json.string(ConfigLoader.parseYaml(yaml)));
    JsonNode sa =
        ConfigLoader.parseYaml(
            """
            name: kube-api-access
            projected:
              defaultMode: 420
              sources:
              - serviceAccountToken: {expirationSeconds: 3607, path: token}
              - configMap:
                  name: kube-root-ca.crt
                  items: [{key: ca.crt, path: ca.crt}]
              - downwardAPI:
                  items: [{path: namespace, fieldRef: {apiVersion: v1, fieldPath: metadata.namespace}}]
            """);
    ObjectNode spec = (ObjectNode) pod.path("spec");
    if (!spec.has("volumes")) {
      spec.putArray("volumes");
    }
    ((tools.jackson.databind.node.ArrayNode) spec.path("volumes")).add(Json.parse(Json.string(sa)));
    return pod;
  }

  static final String SA_MOUNT =
      "volumeMounts:\n- {name: kube-api-access, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true}\n";

  JsonNode awaitStatus(String pod, Predicate<JsonNode> ok) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      last = sink.status(pod);
      if (last != null && ok.test(last)) {
        return last;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("pod " + pod + " never reached the expected status; last: " + last);
  }

  static JsonNode container(JsonNode status, int i) {
    return status.path("containerStatuses").path(i);
  }

  @Test
  void podRunsWithInClusterConfigAndSucceeds() throws Exception {
    startEdged();
    JsonNode pod =
        pod(
            "web",
            """
            restartPolicy: Never
            containers:
            - name: c
              image: busybox
              command: [/bin/sh, -c]
              args:
              - |
                echo host=$KUBERNETES_SERVICE_HOST port=$KUBERNETES_SERVICE_PORT https=$KUBERNETES_SERVICE_PORT_HTTPS
                echo token=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)
                echo ca=$(cat /var/run/secrets/kubernetes.io/serviceaccount/ca.crt)
                echo ns=$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)
                echo greeting=$GREETING mode=$CFG_mode pod=$POD node=$NODE ip=$IP sa=$SA cpu=$CPU mem=$MEM
                echo said=$(SAID)
                echo kubeconfig=${KUBECONFIG:-none}
              env:
              - {name: GREETING, valueFrom: {configMapKeyRef: {name: cfg, key: greeting}}}
              - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
              - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
              - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
              - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}
              - {name: CPU, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}
              - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
              - {name: SAID, value: "$(GREETING) world"}
              envFrom:
              - {prefix: CFG_, configMapRef: {name: cfg}}
            """
                + SA_MOUNT.indent(2));
    edged.podUpserted(pod);
    JsonNode s = awaitStatus("web", st -> st.path("phase").asString("").equals("Succeeded"));
    JsonNode c = container(s, 0);
    assertThat(c.path("state").path("terminated").path("exitCode").asInt()).isZero();
    assertThat(c.path("state").path("terminated").path("reason").asString()).isEqualTo("Completed");
    assertThat(c.path("containerID").asString()).startsWith("process://");
    assertThat(s.path("podIP").asString()).isEqualTo("10.1.2.3");
    String log =
        new String(
            edged.logs().read("ns1", "web", PodLogs.LogOptions.of("")), StandardCharsets.UTF_8);
    assertThat(log)
        .contains("host=169.254.30.10 port=10550 https=10550")
        .contains("token=tok-app-1")
        .contains("ca=---CA---")
        .contains("ns=ns1")
        .contains("greeting=hello mode=fast pod=web node=edge-1 ip=10.1.2.3 sa=app cpu=4 mem=8192")
        .contains("said=hello world")
        .contains("kubeconfig=none");
    // The patch is what KubeEdge sends: uid + status, conditions with cleared fields.
    JsonNode patch = Json.parse(sink.lastPatch("web"));
    assertThat(patch.path("metadata").path("uid").asString()).isEqualTo("uid-web");
    assertThat(patch.path("status").path("conditions").path(1).has("message")).isTrue();
    assertThat(tokens.requests.get(0)).isEqualTo("ns1/app/3607/web/uid-web");
  }

  @Test
  void restartPoliciesAndCrashLoopBackOff() throws Exception {
    startEdged();
    edged.podUpserted(
        pod(
            "crash",
            "restartPolicy: Always\ncontainers:\n- {name: c, image: x, command: [/bin/sh, -c, 'echo run; exit 2']}\n"));
    edged.podUpserted(
        pod(
            "once",
            "restartPolicy: OnFailure\ncontainers:\n- {name: c, image: x, command: [/bin/true]}\n"));
    edged.podUpserted(
        pod(
            "fails",
            "restartPolicy: Never\ncontainers:\n- {name: c, image: x, command: [/bin/sh, -c, 'exit 7']}\n"));
    JsonNode s = awaitStatus("crash", st -> container(st, 0).path("restartCount").asInt() >= 3);
    assertThat(s.path("phase").asString()).isEqualTo("Running");
    JsonNode crashing =
        awaitStatus(
            "crash",
            st ->
                container(st, 0)
                    .path("state")
                    .path("waiting")
                    .path("reason")
                    .asString("")
                    .equals("CrashLoopBackOff"));
    assertThat(container(crashing, 0).path("lastState").path("terminated").path("exitCode").asInt())
        .isEqualTo(2);
    assertThat(container(crashing, 0).path("state").path("waiting").path("message").asString())
        .contains("back-off")
        .contains("crash_ns1(uid-crash)");
    awaitStatus("once", st -> st.path("phase").asString("").equals("Succeeded"));
    JsonNode failed = awaitStatus("fails", st -> st.path("phase").asString("").equals("Failed"));
    assertThat(container(failed, 0).path("state").path("terminated").path("exitCode").asInt())
        .isEqualTo(7);
    assertThat(container(failed, 0).path("restartCount").asInt()).isZero();
    // The previous instance's log is there for --previous.
    String prev =
        new String(
            edged.logs().read("ns1", "crash", new PodLogs.LogOptions("c", true, -1, -1, false)),
            StandardCharsets.UTF_8);
    assertThat(prev).isEqualTo("run\n");
  }

  @Test
  void podsArrivingBeforeStartRunOnlyOnceStarted() throws Exception {
    edged =
        new Edged(
            settings(),
            new ProcessRuntime(root, Clock.systemUTC()),
            objects,
            tokens,
            sink,
            Clock.systemUTC());
    JsonNode early =
        pod(
            "early",
            "containers:\n- {name: c, image: x, command: [/bin/sh, -c, 'while :; do sleep 0.2; done']}\n");
    // edgecore may hold Edged back (MetaServer's certificate): a store event must not run the pod
    edged.podUpserted(early);
    Thread.sleep(500);
    assertThat(sink.status("early")).isNull();
    objects.pods.add(early);
    edged.start();
    JsonNode st = awaitStatus("early", s -> s.path("phase").asString("").equals("Running"));
    assertThat(container(st, 0).path("ready").asBoolean()).isTrue();
  }

  @Test
  void badSpecsSayWhyAndOtherPodsKeepRunning() throws Exception {
    startEdged();
    edged.podUpserted(
        pod(
            "good",
            "containers:\n- {name: c, image: x, command: [/bin/sh, -c, 'while :; do sleep 0.2; done']}\n"));
    edged.podUpserted(pod("nocmd", "containers:\n- {name: c, image: busybox}\n"));
    edged.podUpserted(
        pod(
            "nokey",
            "restartPolicy: OnFailure\ncontainers:\n- name: c\n  image: x\n  command: [/bin/true]\n  env:\n  - {name: X, valueFrom: {configMapKeyRef: {name: cfg, key: missing}}}\n"));
    edged.podUpserted(
        pod(
            "novol",
            "containers:\n- name: c\n  image: x\n  command: [/bin/true]\n  volumeMounts: [{name: data, mountPath: /data}]\nvolumes:\n- {name: data, nfs: {server: 10.0.0.1, path: /x}}\n"));
    String big = "x".repeat(100_000);
    StringBuilder env =
        new StringBuilder("containers:\n- name: c\n  image: x\n  command: [/bin/true]\n  env:\n");
    for (int i = 0; i < 11; i++) {
      env.append("  - {name: V").append(i).append(", value: ").append(big).append("}\n");
    }
    edged.podUpserted(pod("bigenv", env.toString()));

    assertThat(waitingMessage("nocmd")).contains("has no command");
    assertThat(waitingMessage("nokey")).contains("couldn't find key missing in ConfigMap ns1/cfg");
    assertThat(waitingMessage("novol")).contains("nfs volumes are not supported");
    assertThat(waitingMessage("bigenv")).contains("bytes").contains("at most 1048576");
    for (String p : List.of("nocmd", "nokey", "novol", "bigenv")) {
      JsonNode s = sink.status(p);
      assertThat(s.path("phase").asString()).isEqualTo("Pending");
      assertThat(container(s, 0).path("state").path("waiting").path("reason").asString())
          .isEqualTo("CreateContainerConfigError");
    }
    JsonNode good = awaitStatus("good", st -> st.path("phase").asString("").equals("Running"));
    assertThat(container(good, 0).path("ready").asBoolean()).isTrue();
    // A missing ConfigMap key that shows up later lets the pod start.
    objects.configMaps.put(
        "ns1/cfg", cm("cfg", Map.of("greeting", "hello", "missing", "now here")));
    awaitStatus("nokey", st -> st.path("phase").asString("").equals("Succeeded"));
  }

  @Test
  void aTokenNotIssuedYetKeepsThePodCreatingUntilItIs() throws Exception {
    tokens.refuse.set(3); // three retries' worth of "ContainerCreating" to observe
    startEdged();
    edged.podUpserted(
        pod(
            "late",
            "restartPolicy: Never\ncontainers:\n- name: c\n  image: x\n  command: [/bin/true]\n"
                + SA_MOUNT.indent(2)));
    JsonNode first = awaitStatus("late", st -> !container(st, 0).path("state").isMissingNode());
    JsonNode waiting = container(first, 0).path("state").path("waiting");
    assertThat(waiting.path("reason").asString()).isEqualTo("ContainerCreating");
    assertThat(waiting.path("message").asString()).contains("no service account token for ns1/app");
    assertThat(first.path("phase").asString()).isEqualTo("Pending");
    JsonNode done = awaitStatus("late", st -> st.path("phase").asString("").equals("Succeeded"));
    assertThat(container(done, 0).path("state").path("terminated").path("exitCode").asInt())
        .isZero();
    assertThat(tokens.requests).hasSizeGreaterThanOrEqualTo(4);
  }

  String waitingMessage(String pod) throws InterruptedException {
    JsonNode s =
        awaitStatus(
            pod,
            st ->
                !container(st, 0)
                    .path("state")
                    .path("waiting")
                    .path("message")
                    .asString("")
                    .isEmpty());
    return container(s, 0).path("state").path("waiting").path("message").asString();
  }

  @Test
  void deletionStopsTheContainersReportsAndCleansUp() throws Exception {
    startEdged();
    JsonNode pod =
        pod(
            "victim",
            "terminationGracePeriodSeconds: 20\ncontainers:\n- {name: c, image: x, command: [/bin/sh, -c, 'trap \"echo bye; exit 0\" TERM; echo ready; while :; do sleep 0.1; done']}\n");
    edged.podUpserted(pod);
    awaitStatus("victim", st -> st.path("phase").asString("").equals("Running"));
    Path dir = root.resolve("uid-victim");
    Path log = dir.resolve("logs/c/0.log");
    long ready = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!(Files.exists(log) && Files.readString(log).contains("ready"))
        && System.nanoTime() < ready) {
      Thread.sleep(20);
    }
    assertThat(dir).exists();
    ObjectNode deleting = (ObjectNode) pod.deepCopy();
    ((ObjectNode) deleting.path("metadata"))
        .put("deletionTimestamp", Instant.now().toString())
        .put("deletionGracePeriodSeconds", 20);
    edged.podUpserted(deleting);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!sink.deleted.contains("ns1/victim") && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(sink.deleted).contains("ns1/victim");
    JsonNode last = sink.status("victim");
    assertThat(container(last, 0).path("state").path("terminated").path("exitCode").asInt())
        .isZero();
    assertThat(
            new String(
                edged.logs().read("ns1", "victim", PodLogs.LogOptions.of("c")),
                StandardCharsets.UTF_8))
        .contains("bye");
    edged.podRemoved("ns1", "victim", "uid-victim");
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (Files.exists(dir) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(dir).doesNotExist();
    assertThatThrownBy(() -> edged.logs().read("ns1", "victim", PodLogs.LogOptions.of("")))
        .isInstanceOf(PodLogs.PodLogException.class)
        .hasMessage("pods \"victim\" not found");
  }

  @Test
  void offlineStatusIsSentOnReconnectAndStoredPodsStartAgain() throws Exception {
    sink.online = false;
    JsonNode pod =
        pod(
            "keeper",
            "containers:\n- {name: c, image: x, command: [/bin/sh, -c, 'echo started; while :; do sleep 0.2; done']}\n");
    objects.pods.add(pod);
    startEdged();
    Path log = root.resolve("uid-keeper/logs/c/0.log");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!(Files.exists(log) && Files.readString(log).contains("started"))
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(Files.readString(log)).contains("started");
    assertThat(sink.status("keeper")).isNull();
    sink.online = true;
    sink.reconnect();
    awaitStatus("keeper", st -> st.path("phase").asString("").equals("Running"));

    // edgecore stops (containers with it) and starts again offline: the pod runs again.
    edged.close();
    sink.online = false;
    startEdged();
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (Files.readString(log).split("started", -1).length < 3 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(Files.readString(log).split("started", -1).length).isGreaterThanOrEqualTo(3);
  }

  @Test
  void logsAreRotatedAndReadAcrossTheRotation() throws Exception {
    startEdged();
    edged.podUpserted(
        pod(
            "chatty",
            "containers:\n- {name: c, image: x, command: [/bin/sh, -c, 'i=0; while [ $i -lt 1000 ]; do echo line-$i; i=$((i+1)); done; sleep 30']}\n"));
    awaitStatus("chatty", st -> st.path("phase").asString("").equals("Running"));
    PodLogs.LogStream stream = edged.logs().open("ns1", "chatty", PodLogs.LogOptions.of(""));
    String first = new String(stream.readAvailable(), StandardCharsets.UTF_8);
    Path log = root.resolve("uid-chatty/logs/c/0.log");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!Files.exists(log.resolveSibling("0.log.1")) && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(log.resolveSibling("0.log.1")).exists(); // 4 KiB limit in these settings
    // The rotation may come while the loop is still writing: read on until the last line.
    StringBuilder all = new StringBuilder(first);
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!all.toString().contains("line-999\n") && System.nanoTime() < deadline) {
      all.append(new String(stream.readAvailable(), StandardCharsets.UTF_8));
      Thread.sleep(50);
    }
    assertThat(all.toString()).contains("line-0\n").contains("line-999\n");
    String tail =
        new String(
            edged.logs().read("ns1", "chatty", new PodLogs.LogOptions("c", false, 2, -1, false)),
            StandardCharsets.UTF_8);
    assertThat(tail).isEqualTo("line-998\nline-999\n");
    String limited =
        new String(
            edged.logs().read("ns1", "chatty", new PodLogs.LogOptions("c", false, -1, 7, false)),
            StandardCharsets.UTF_8);
    assertThat(limited).isEqualTo("line-0\n");
  }

  @Test
  void logsAreReadWhileASyncWaitsForTheCloud() throws Exception {
    EdgedSettings base = settings();
    edged =
        new Edged(
            new EdgedSettings(
                base.node(),
                base.rootDirectory(),
                base.service(),
                base.backoff(),
                base.resyncPeriod(),
                base.retryPeriod(),
                Duration.ofMinutes(3), // a lookup may wait this long for the cloud
                base.maxLogBytes(),
                base.logCheckPeriod(),
                base.defaultUser()),
            new ProcessRuntime(root, Clock.systemUTC()),
            objects,
            tokens,
            sink,
            Clock.systemUTC());
    edged.start();
    JsonNode pod =
        pod(
            "patient",
            "containers:\n- {name: c, image: x, command: [/bin/sh, -c, 'echo hello-$G; while :; do sleep 0.2; done'], env: [{name: G, valueFrom: {configMapKeyRef: {name: cfg, key: greeting}}}]}\n");
    edged.podUpserted(pod);
    awaitStatus("patient", st -> st.path("phase").asString("").equals("Running"));
    Path log = root.resolve("uid-patient/logs/c/0.log");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!(Files.exists(log) && Files.readString(log).contains("hello-hello"))
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    // The cloud stops answering; an update makes the pod's worker look its ConfigMap up again.
    objects.gate = new CompletableFuture<>();
    ObjectNode touched = (ObjectNode) pod.deepCopy();
    ((ObjectNode) touched.path("metadata")).putObject("labels").put("touched", "yes");
    edged.podUpserted(touched);
    Thread.sleep(500); // let the sync reach the lookup
    try {
      String read =
          CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      return new String(
                          edged.logs().read("ns1", "patient", PodLogs.LogOptions.of("c")),
                          StandardCharsets.UTF_8);
                    } catch (PodLogs.PodLogException e) {
                      throw new IllegalStateException(e);
                    }
                  })
              .get(60, TimeUnit.SECONDS); // the lookup waits 3 minutes: a reader must not
      assertThat(read).contains("hello-hello");
    } finally {
      objects.gate.complete(Optional.empty());
      objects.gate = null;
    }
  }

  // ---- fakes -------------------------------------------------------------------------------

  static final class FakeObjects implements EdgeObjects {
    final Map<String, JsonNode> configMaps = new ConcurrentHashMap<>();
    final Map<String, JsonNode> secrets = new ConcurrentHashMap<>();
    final List<JsonNode> pods = new CopyOnWriteArrayList<>();

    @Override
    public List<JsonNode> pods() {
      return pods;
    }

    /** When set, every ConfigMap lookup waits for it (a cloud that does not answer). */
    volatile CompletableFuture<Optional<JsonNode>> gate;

    @Override
    public CompletionStage<Optional<JsonNode>> configMap(String namespace, String name) {
      CompletableFuture<Optional<JsonNode>> g = gate;
      if (g != null) {
        return g.thenApply(x -> Optional.ofNullable(configMaps.get(namespace + "/" + name)));
      }
      return CompletableFuture.completedFuture(
          Optional.ofNullable(configMaps.get(namespace + "/" + name)));
    }

    @Override
    public CompletionStage<Optional<JsonNode>> secret(String namespace, String name) {
      return CompletableFuture.completedFuture(
          Optional.ofNullable(secrets.get(namespace + "/" + name)));
    }
  }

  static final class FakeTokens implements ServiceAccountTokens {
    final List<String> requests = new CopyOnWriteArrayList<>();
    final AtomicInteger n = new AtomicInteger();

    /** How many requests to refuse first, as the node authorizer does before it knows the pod. */
    final AtomicInteger refuse = new AtomicInteger();

    @Override
    public CompletionStage<Token> token(
        String namespace,
        String serviceAccount,
        List<String> audiences,
        long expirationSeconds,
        String podName,
        String podUid) {
      requests.add(
          namespace
              + "/"
              + serviceAccount
              + "/"
              + expirationSeconds
              + "/"
              + podName
              + "/"
              + podUid);
      if (refuse.getAndUpdate(r -> Math.max(0, r - 1)) > 0) {
        return CompletableFuture.failedFuture(
            new IllegalStateException("no relationship found between node and this object"));
      }
      return CompletableFuture.completedFuture(
          new Token(
              "tok-" + serviceAccount + "-" + n.incrementAndGet(),
              Instant.now().plusSeconds(expirationSeconds)));
    }
  }

  static final class RecordingSink implements PodStatusSink {
    final Map<String, String> patches = new ConcurrentHashMap<>();
    final List<JsonNode> events = new CopyOnWriteArrayList<>();

    @Override
    public void createEvent(String namespace, JsonNode event) {
      events.add(event);
    }

    @Override
    public void patchEvent(String namespace, String name, JsonNode patch) {
      for (JsonNode e : events) {
        if (e.path("metadata").path("name").asString("").equals(name)) {
          ((ObjectNode) e).put("count", patch.path("count").asInt());
        }
      }
    }

    /** Messages of the events with {@code reason} about pod {@code pod}. */
    List<String> events(String pod, String reason) {
      return events.stream()
          .filter(e -> e.path("involvedObject").path("name").asString("").equals(pod))
          .filter(e -> e.path("reason").asString("").equals(reason))
          .map(e -> e.path("message").asString(""))
          .toList();
    }

    final List<String> deleted = new CopyOnWriteArrayList<>();
    final List<Runnable> onConnect = new CopyOnWriteArrayList<>();
    volatile boolean online = true;

    @Override
    public CompletionStage<Void> patchStatus(
        String namespace, String name, String uid, String patch) {
      if (!online) {
        return CompletableFuture.failedFuture(new IllegalStateException("offline"));
      }
      patches.put(name, patch);
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> deletePod(String namespace, String name, String uid) {
      if (!online) {
        return CompletableFuture.failedFuture(new IllegalStateException("offline"));
      }
      deleted.add(namespace + "/" + name);
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void whenConnected(Runnable r) {
      onConnect.add(r);
    }

    void reconnect() {
      onConnect.forEach(Runnable::run);
    }

    String lastPatch(String pod) {
      return patches.get(pod);
    }

    JsonNode status(String pod) {
      String p = patches.get(pod);
      return p == null ? null : Json.parse(p).path("status");
    }
  }
}
