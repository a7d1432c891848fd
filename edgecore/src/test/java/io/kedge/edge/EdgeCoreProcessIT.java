package io.kedge.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.hub.TestBootstrapServer;
import io.kedge.edge.hub.TestCloudHub;
import io.kedge.edge.hub.TestPki;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.testkit.ProgramProcess;
import io.kedge.testkit.Waits;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The real {@code bin/edgecore} process with its lean JVM flags: joins a test cloud with the token,
 * registers its node and keeps it Ready with a renewed Lease, stops cleanly on SIGTERM, and runs
 * without crashing while the cloud is unreachable.
 */
class EdgeCoreProcessIT {
  private static final Logger LOG = LoggerFactory.getLogger(EdgeCoreProcessIT.class);
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Path HOME = Path.of(System.getProperty("kedge.home", "..")).toAbsolutePath();

  @TempDir Path dir;

  private Path config(String server, String httpServer, String token) throws Exception {
    Path f = dir.resolve("edgecore.yaml");
    Files.writeString(
        f,
        String.join(
            "\n",
            "apiVersion: edgecore.config.kubeedge.io/v1alpha2",
            "kind: EdgeCore",
            "database:",
            "  dataSource: " + dir.resolve("edgecore.db"),
            "modules:",
            "  edgeHub:",
            "    heartbeat: 2",
            "    httpServer: " + httpServer,
            "    token: " + token,
            "    reconnectMinDelay: 1",
            "    reconnectMaxDelay: 2",
            "    tlsCaFile: " + dir.resolve("ca/rootCA.crt"),
            "    tlsCertFile: " + dir.resolve("certs/server.crt"),
            "    tlsPrivateKeyFile: " + dir.resolve("certs/server.key"),
            "    websocket:",
            "      server: " + server,
            "  edged:",
            "    hostnameOverride: edge-proc-1",
            "    nodeIP: 10.20.30.40",
            "    nodeStatusUpdateFrequency: 2",
            "    rootDirectory: " + dir.resolve("pods"),
            "  someKubeEdgeModule:",
            "    enable: false",
            ""));
    return f;
  }

  /** Answers node registration, status and Lease requests as KubeEdge's EdgeController does. */
  private static Message answer(Message m, AtomicInteger rv) {
    if (!"edged".equals(m.source())) {
      return null;
    }
    JsonNode content;
    String type = m.resource().split("/")[1];
    if (m.operation().equals("query") && type.equals("lease")) {
      content =
          Json.parse(
              "{\"Object\":null,\"Err\":{\"ErrStatus\":{\"metadata\":{},\"status\":\"Failure\","
                  + "\"reason\":\"NotFound\",\"code\":404}}}");
    } else {
      ObjectNode obj = m.content().isObject() ? (ObjectNode) m.content().deepCopy() : Json.object();
      ObjectNode meta =
          obj.has("metadata") ? (ObjectNode) obj.get("metadata") : obj.putObject("metadata");
      meta.put("uid", "uid-" + type);
      meta.put("resourceVersion", String.valueOf(rv.incrementAndGet()));
      ObjectNode resp = Json.object();
      resp.set("Object", obj);
      resp.putNull("Err");
      content = resp;
    }
    return new Message(
        MessageHeader.replyTo(m.id()),
        new MessageRoute("edgecontroller", "resource", "response", m.resource()),
        content);
  }

  private static long rssKib(long pid) throws Exception {
    for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (l.startsWith("VmRSS:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  @Test
  void joinsRegistersStaysReadyAndStopsCleanly() throws Exception {
    TestPki pki = new TestPki();
    AtomicInteger rv = new AtomicInteger(100);
    try (TestBootstrapServer certs = new TestBootstrapServer(pki);
        TestCloudHub cloud = new TestCloudHub(pki).start()) {
      cloud.responder = m -> answer(m, rv);
      Path cfg = config(cloud.address(), certs.uri().toString(), certs.token());
      try (ProgramProcess edge =
          ProgramProcess.launcher(
              HOME,
              "edgecore",
              List.of("--config", cfg.toString()),
              Map.of(),
              dir.resolve("edgecore.log"))) {
        Message reg =
            cloud.next(
                m ->
                    m.operation().equals("insert")
                        && m.resource().equals("default/node/edge-proc-1"),
                WAIT);
        assertThat(reg).as("node registration").isNotNull();
        assertThat(
                reg.content().path("metadata").path("labels").has("node-role.kubernetes.io/edge"))
            .isTrue();
        Message status =
            cloud.next(m -> m.resource().equals("default/nodepatch/edge-proc-1"), WAIT);
        JsonNode patch = Json.parse(status.content().asString()).path("status");
        assertThat(patch.path("conditions").get(3).path("status").asString()).isEqualTo("True");
        assertThat(patch.path("addresses").get(0).path("address").asString())
            .isEqualTo("10.20.30.40");
        Message created =
            cloud.next(
                m ->
                    m.operation().equals("insert")
                        && m.resource().equals("kube-node-lease/lease/edge-proc-1"),
                WAIT);
        assertThat(
                created
                    .content()
                    .path("metadata")
                    .path("ownerReferences")
                    .get(0)
                    .path("uid")
                    .asString())
            .isEqualTo("uid-node");
        Message renewed =
            cloud.next(
                m ->
                    m.operation().equals("update")
                        && m.resource().equals("kube-node-lease/lease/edge-proc-1"),
                WAIT);
        assertThat(renewed).as("lease renewal").isNotNull();
        assertThat(cloud.next(m -> m.operation().equals("keepalive"), WAIT)).isNotNull();

        long rss = rssKib(edge.pid());
        LOG.info("edgecore RSS after joining: {} KiB", rss);
        assertThat(rss).as("RSS in KiB with bin/edgecore's JVM flags").isBetween(1L, 200L * 1024);
        assertThat(edge.output())
            .contains("unknown setting 'modules.someKubeEdgeModule' is ignored");
        assertThat(Files.readString(dir.resolve("certs/server.key")))
            .startsWith("-----BEGIN EC PRIVATE KEY-----");

        int code = edge.stop(Duration.ofSeconds(30));
        assertThat(code).isEqualTo(143);
        assertThat(edge.output())
            .contains("edgecore stopping")
            .contains("EdgeHub for node edge-proc-1 stopped");
        assertThat(edge.output()).doesNotContain("Exception in thread");
      }
    }
  }

  @Test
  void runsWithoutTheCloudAndRetries() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path cfg = config("127.0.0.1:" + port, "https://127.0.0.1:" + port, "");
    try (ProgramProcess edge =
        ProgramProcess.launcher(
            HOME,
            "edgecore",
            List.of("--config", cfg.toString()),
            Map.of(),
            dir.resolve("edgecore.log"))) {
      edge.awaitLog("cannot connect to the cloud.*retrying in", WAIT);
      Waits.until(
          "a second attempt",
          WAIT,
          () -> edge.output().split("cannot connect to the cloud").length > 2);
      assertThat(edge.isAlive()).isTrue();
      assertThat(edge.stop(Duration.ofSeconds(30))).isEqualTo(143);
    }
  }
}
