package io.kedge.edge.edged;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.metamanager.CloudQueries;
import io.kedge.edge.metamanager.MetaManager;
import io.kedge.edge.metamanager.ScriptedCloudLink;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.ResourceCatalog;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import io.kedge.protocol.Json;
import io.kedge.protocol.config.EdgeCoreConfig;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.testkit.Prerequisites;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.node.StringNode;

/**
 * Edged wired as edgecore wires it: pods arrive through MetaManager and the SQLite store, objects
 * and tokens are asked from the cloud, status and deletion go up in KubeEdge's messages.
 */
class EdgedStoreTest {
  @TempDir Path tmp;
  ObjectStore store;
  MetaManager metaManager;
  ScriptedCloudLink link;
  Edged edged;

  @BeforeEach
  void setUp() throws Exception {
    Prerequisites.require(
        ProcessRuntime.unavailableReason().isEmpty(),
        "root and util-linux: " + ProcessRuntime.unavailableReason().orElse(""));
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    store = SqliteStore.open(StoreSettings.defaults(tmp.resolve("edge.db")));
    metaManager = new MetaManager(store, new ResourceCatalog(store));
    link = new ScriptedCloudLink(this::cloud);
  }

  @AfterEach
  void tearDown() {
    if (edged != null) {
      edged.close();
    }
    if (store != null) {
      store.close();
    }
  }

  /** The cloud's answers, shaped as in the recorded KubeEdge session. */
  CompletableFuture<Message> cloud(Message m) {
    String res = m.resource();
    JsonNode content;
    if (res.equals("ns1/configmap/kube-root-ca.crt")) {
      content = EdgedTest.cm("kube-root-ca.crt", java.util.Map.of("ca.crt", "---CA---"));
    } else if (res.equals("ns1/serviceaccounttoken/app")) {
      ObjectNode tr = (ObjectNode) m.content().deepCopy();
      tr.put("kind", "TokenRequest").put("apiVersion", "authentication.k8s.io/v1");
      ((ObjectNode) tr.path("status"))
          .put(
              "token",
              "jwt-for-" + m.content().path("spec").path("boundObjectRef").path("name").asString())
          .put("expirationTimestamp", Instant.now().plusSeconds(3600).toString());
      content = tr;
    } else if (res.contains("/podpatch/")) {
      ObjectNode resp = Json.object();
      resp.putObject("Object").put("kind", "Pod");
      resp.putNull("Err");
      content = resp;
    } else if (res.contains("/pod/") && m.operation().equals("delete")) {
      content = StringNode.valueOf("OK");
    } else {
      ObjectNode err = Json.object();
      ObjectNode st = err.putObject("ErrStatus");
      st.put("kind", "Status")
          .put("status", "Failure")
          .put("reason", "NotFound")
          .put("code", 404)
          .put("message", "not found");
      content = err;
    }
    return CompletableFuture.completedFuture(m.reply(content));
  }

  Edged start() throws Exception {
    EdgeCoreConfig config =
        EdgeCoreConfig.load(
                null,
                List.of(
                    "modules.edged.hostnameOverride=edge-1,modules.edged.nodeIP=10.9.8.7,"
                        + "modules.edged.rootDirectory="
                        + tmp.resolve("pods")
                        + ",featureGates.requireAuthorization=true"))
            .config();
    edged =
        Edged.forNode(
            config,
            store,
            new CloudQueries(link, store, Duration.ofSeconds(5)),
            link,
            Clock.systemUTC());
    edged.start();
    return edged;
  }

  Message podMessage(String op, JsonNode pod) {
    String ns = pod.path("metadata").path("namespace").asString();
    String name = pod.path("metadata").path("name").asString();
    return Message.of(new MessageRoute("edgecontroller", "resource", op, ns + "/pod/" + name), pod);
  }

  Message await(Predicate<Message> p) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      for (Message m : link.requests) {
        if (p.test(m)) {
          return m;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no such message; sent: " + link.requests);
  }

  @Test
  void podFromTheCloudRunsReportsAndIsDeleted() throws Exception {
    start();
    ObjectNode pod =
        (ObjectNode)
            EdgedTest.pod(
                "job",
                "restartPolicy: Never\ncontainers:\n- name: c\n  image: x\n  command: [/bin/sh, -c, 'cat /var/run/secrets/kubernetes.io/serviceaccount/token; echo; echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT']\n"
                    + EdgedTest.SA_MOUNT.indent(2));
    pod.put("apiVersion", "v1").put("kind", "Pod");
    metaManager.handle(podMessage("insert", pod)).toCompletableFuture().get(30, TimeUnit.SECONDS);

    Message done =
        await(
            m ->
                m.resource().equals("ns1/podpatch/job")
                    && m.content().isString()
                    && m.content().asString().contains("\"phase\":\"Succeeded\""));
    assertThat(done.source()).isEqualTo("edged");
    assertThat(done.group()).isEqualTo("meta");
    assertThat(done.operation()).isEqualTo("patch");
    JsonNode patch = Json.parse(done.content().asString());
    assertThat(patch.path("metadata").path("uid").asString()).isEqualTo("uid-job");
    assertThat(patch.path("status").path("hostIP").asString()).isEqualTo("10.9.8.7");
    Message token = await(m -> m.resource().equals("ns1/serviceaccounttoken/app"));
    assertThat(token.operation()).isEqualTo("query");
    assertThat(token.content().path("spec").path("boundObjectRef").path("uid").asString())
        .isEqualTo("uid-job");
    assertThat(token.content().path("spec").path("expirationSeconds").asLong()).isEqualTo(3607);
    String log =
        new String(
            edged.logs().read("ns1", "job", PodLogs.LogOptions.of("")),
            java.nio.charset.StandardCharsets.UTF_8);
    assertThat(log).isEqualTo("jwt-for-job\n169.254.30.10:10550\n");

    // Deleted at the API server: the cloud sends the pod with deletionTimestamp.
    ObjectNode deleting = pod.deepCopy();
    ((ObjectNode) deleting.path("metadata"))
        .put("deletionTimestamp", Instant.now().toString())
        .put("deletionGracePeriodSeconds", 30)
        .put("resourceVersion", "10");
    metaManager
        .handle(podMessage("update", deleting))
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    Message delete =
        await(m -> m.operation().equals("delete") && m.resource().equals("ns1/pod/job"));
    assertThat(Json.string(delete.content()))
        .isEqualTo("{\"gracePeriodSeconds\":0,\"preconditions\":{\"uid\":\"uid-job\"}}");
    metaManager
        .handle(podMessage("delete", deleting))
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    Path dir = tmp.resolve("pods/uid-job");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (Files.exists(dir) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(dir).doesNotExist();
  }
}
