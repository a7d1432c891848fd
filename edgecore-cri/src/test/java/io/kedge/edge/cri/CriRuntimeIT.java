package io.kedge.edge.cri;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.edged.EdgeObjects;
import io.kedge.edge.edged.Edged;
import io.kedge.edge.edged.EdgedSettings;
import io.kedge.edge.edged.KubernetesService;
import io.kedge.edge.edged.NodeInfo;
import io.kedge.edge.edged.PodLogs;
import io.kedge.edge.edged.PodStatusSink;
import io.kedge.edge.edged.RestartBackoff;
import io.kedge.edge.edged.ServiceAccountTokens;
import io.kedge.protocol.Json;
import io.kedge.protocol.config.ConfigLoader;
import io.kedge.testkit.Prerequisites;
import io.kedge.testkit.TestContainerd;
import io.kedge.testkit.TestRegistry;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Edged on a real containerd (the test's own): a pod from a locally imported image runs with the
 * service-account volume and in-cluster environment, its status and CRI log come back, a missing
 * image says why.
 */
class CriRuntimeIT {
  static Path dir;
  static TestContainerd containerd;

  @BeforeAll
  static void startContainerd() throws Exception {
    Prerequisites.require(Prerequisites.root(), "root (containerd)");
    dir = Files.createTempDirectory("kedge-cri");
    containerd = TestContainerd.start(dir.resolve("ctd"));
  }

  @AfterAll
  static void stopContainerd() {
    if (containerd != null) {
      containerd.close();
    }
    if (dir != null) {
      // containerd's root (snapshots) is root-owned and unmounted by now; remove it like any dir.
      try {
        new ProcessBuilder("rm", "-rf", "--one-file-system", dir.toString()).start().waitFor();
      } catch (Exception e) {
        // left for the OS to clean
      }
    }
  }

  final Map<String, String> patches = new ConcurrentHashMap<>();

  @Test
  void podRunsInContainerdWithInClusterConfig() throws Exception {
    CriRuntime runtime =
        new CriRuntime(containerd.endpoint(), Duration.ofSeconds(60), Clock.systemUTC());
    assertThat(runtime.name()).isEqualTo("containerd");
    Edged edged =
        new Edged(
            settings(dir.resolve("pods")), runtime, objects(), tokens(), sink(), Clock.systemUTC());
    try {
      edged.start();
      edged.podUpserted(
          pod(
              "tools",
              """
              restartPolicy: Never
              containers:
              - name: c
                image: localhost/kedge/edge-tools:1
                command: [/bin/sh, -c]
                args:
                - |
                  echo token=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)
                  echo ns=$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)
                  echo api=$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT uid=$(id -u)
                  kubectl version --client --short 2>/dev/null || kubectl version --client
                volumeMounts:
                - {name: kube-api-access, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true}
              """));
      edged.podUpserted(
          pod(
              "noimage",
              """
              containers:
              - {name: c, image: localhost/not-imported:1, imagePullPolicy: Never, command: [/bin/true]}
              """));
      JsonNode done = await("tools", s -> s.path("phase").asString("").equals("Succeeded"));
      JsonNode c = done.path("containerStatuses").path(0);
      assertThat(c.path("containerID").asString()).startsWith("containerd://");
      assertThat(c.path("state").path("terminated").path("exitCode").asInt()).isZero();
      String log =
          new String(
              edged.logs().read("ns1", "tools", PodLogs.LogOptions.of("")), StandardCharsets.UTF_8);
      assertThat(log)
          .contains("token=tok-app")
          .contains("ns=ns1")
          .contains("api=169.254.30.10:10550 uid=65534")
          .contains("Client Version");
      JsonNode missing =
          await(
              "noimage",
              s ->
                  s.path("containerStatuses")
                      .path(0)
                      .path("state")
                      .path("waiting")
                      .path("reason")
                      .asString("")
                      .equals("ErrImageNeverPull"));
      assertThat(
              missing
                  .path("containerStatuses")
                  .path(0)
                  .path("state")
                  .path("waiting")
                  .path("message")
                  .asString())
          .isEqualTo(
              "Container image \"localhost/not-imported:1\" is not present with pull policy of"
                  + " Never");
    } finally {
      edged.close(); // removes the sandboxes
    }
  }

  /**
   * Through containerd: an image pulled from a registry that needs credentials, with the pod's pull
   * secret (and refused without it); an exec liveness probe restarting its container; a memory
   * limit the kernel enforces.
   */
  @Test
  void pullsProbesAndLimits() throws Exception {
    CriRuntime runtime =
        new CriRuntime(containerd.endpoint(), Duration.ofSeconds(60), Clock.systemUTC());
    try (TestRegistry registry =
        TestRegistry.withCredentials(dir.resolve("registry"), List.of(), "puller", "s3cret")) {
      containerd.trustPlainHttp(registry.host());
      String image = registry.push(TestContainerd.edgeImage(), "kedge/tools:pulled");
      String auth =
          Base64.getEncoder().encodeToString("puller:s3cret".getBytes(StandardCharsets.UTF_8));
      String config = "{\"auths\":{\"" + registry.host() + "\":{\"auth\":\"" + auth + "\"}}}";
      secrets.put(
          "regcred",
          Json.parse(
              "{\"metadata\":{\"name\":\"regcred\"},\"type\":\"kubernetes.io/dockerconfigjson\","
                  + "\"data\":{\".dockerconfigjson\":\""
                  + Base64.getEncoder().encodeToString(config.getBytes(StandardCharsets.UTF_8))
                  + "\"}}"));
      Edged edged =
          new Edged(
              settings(dir.resolve("pods2")),
              runtime,
              objects(),
              tokens(),
              sink(),
              Clock.systemUTC());
      try {
        edged.start();
        edged.podUpserted(
            pod(
                "pulled",
                """
                restartPolicy: Never
                imagePullSecrets: [{name: regcred}]
                containers:
                - {name: c, image: '%s', command: [/bin/sh, -c, 'echo pulled']}
                """
                    .formatted(image)));
        edged.podUpserted(
            pod(
                "denied",
                """
                restartPolicy: Never
                containers:
                - {name: c, image: '%s', command: [/bin/true]}
                """
                    .formatted(registry.host() + "/kedge/tools:other")));
        edged.podUpserted(
            pod(
                "live",
                """
                terminationGracePeriodSeconds: 1
                containers:
                - name: c
                  image: localhost/kedge/edge-tools:1
                  command: [/bin/sh, -c, 'touch /tmp/alive; sleep 2; rm /tmp/alive; exec sleep 600']
                  livenessProbe:
                    exec: {command: [cat, /tmp/alive]}
                    periodSeconds: 1
                    failureThreshold: 1
                """));
        edged.podUpserted(
            pod(
                "hog",
                """
                restartPolicy: Never
                containers:
                - name: c
                  image: localhost/kedge/edge-tools:1
                  command: [/bin/sh, -c, 'a=x; while :; do a="$a$a"; done']
                  resources: {limits: {memory: 32Mi}}
                """));
        JsonNode pulled = await("pulled", st -> st.path("phase").asString("").equals("Succeeded"));
        assertThat(pulled.path("containerStatuses").path(0).path("imageID").asString())
            .startsWith("sha256:");
        JsonNode denied =
            await(
                "denied",
                st ->
                    st.path("containerStatuses")
                        .path(0)
                        .path("state")
                        .path("waiting")
                        .path("reason")
                        .asString("")
                        .equals("ErrImagePull"));
        assertThat(
                denied
                    .path("containerStatuses")
                    .path(0)
                    .path("state")
                    .path("waiting")
                    .path("message")
                    .asString())
            .startsWith("rpc error: code = ")
            .containsIgnoringCase("unauthorized");
        JsonNode live =
            await(
                "live",
                st -> st.path("containerStatuses").path(0).path("restartCount").asInt() >= 1);
        assertThat(
                live.path("containerStatuses")
                    .path(0)
                    .path("lastState")
                    .path("terminated")
                    .path("exitCode")
                    .asInt())
            .isIn(137, 143);
        JsonNode hog =
            await(
                "hog", st -> st.path("containerStatuses").path(0).path("state").has("terminated"));
        assertThat(
                hog.path("containerStatuses")
                    .path(0)
                    .path("state")
                    .path("terminated")
                    .path("reason")
                    .asString())
            .isEqualTo("OOMKilled");
      } finally {
        edged.close();
      }
    }
  }

  static EdgedSettings settings(Path root) {
    return new EdgedSettings(
        new NodeInfo(
            "edge-1",
            "127.0.0.1",
            BigDecimal.ONE,
            BigDecimal.valueOf(1L << 30),
            BigDecimal.valueOf(1L << 34)),
        root,
        Optional.of(new KubernetesService("169.254.30.10", "10550")),
        new RestartBackoff(Duration.ofMillis(500), Duration.ofSeconds(2), Duration.ofMinutes(10)),
        Duration.ofSeconds(60),
        Duration.ofSeconds(1),
        Duration.ofSeconds(10),
        1 << 20,
        Duration.ofSeconds(1),
        EdgedSettings.NOBODY);
  }

  JsonNode await(String pod, Predicate<JsonNode> ok) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      String p = patches.get(pod);
      last = p == null ? null : Json.parse(p).path("status");
      if (last != null && ok.test(last)) {
        return last;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("pod " + pod + " never got there; last status " + last);
  }

  static JsonNode pod(String name, String spec) {
    String yaml =
        "apiVersion: v1\nkind: Pod\nmetadata: {name: "
            + name
            + ", namespace: ns1, uid: uid-"
            + name
            + "}\n"
            + "spec:\n  nodeName: edge-1\n  serviceAccountName: app\n  hostNetwork: true\n"
            + spec.indent(2)
            + """
              volumes:
              - name: kube-api-access
                projected:
                  sources:
                  - serviceAccountToken: {expirationSeconds: 3607, path: token}
                  - downwardAPI:
                      items: [{path: namespace, fieldRef: {fieldPath: metadata.namespace}}]
            """;
    return Json.parse(Json.string(ConfigLoader.parseYaml(yaml)));
  }

  final Map<String, JsonNode> secrets = new ConcurrentHashMap<>();

  EdgeObjects objects() {
    return new EdgeObjects() {
      @Override
      public List<JsonNode> pods() {
        return List.of();
      }

      @Override
      public CompletionStage<Optional<JsonNode>> configMap(String namespace, String name) {
        return CompletableFuture.completedFuture(Optional.empty());
      }

      @Override
      public CompletionStage<Optional<JsonNode>> secret(String namespace, String name) {
        return CompletableFuture.completedFuture(Optional.ofNullable(secrets.get(name)));
      }
    };
  }

  static ServiceAccountTokens tokens() {
    return (ns, sa, auds, exp, pod, uid) ->
        CompletableFuture.completedFuture(
            new ServiceAccountTokens.Token("tok-" + sa, Instant.now().plusSeconds(exp)));
  }

  PodStatusSink sink() {
    return new PodStatusSink() {
      @Override
      public CompletionStage<Void> patchStatus(
          String namespace, String name, String uid, String patch) {
        patches.put(name, patch);
        return CompletableFuture.completedFuture(null);
      }

      @Override
      public CompletionStage<Void> deletePod(String namespace, String name, String uid) {
        return CompletableFuture.completedFuture(null);
      }
    };
  }
}
