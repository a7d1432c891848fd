package io.kedge.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.hub.TestBootstrapServer;
import io.kedge.edge.hub.TestCloudHub;
import io.kedge.edge.hub.TestPki;
import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectStore;
import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.pki.Pem;
import io.kedge.protocol.Json;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.config.EdgeCoreConfig;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.message.Sources;
import io.kedge.testkit.Ports;
import io.kedge.testkit.Waits;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The whole recorded KubeEdge v1.17.0 session, cloud→edge, against a Kedge edgecore wired as in
 * production ({@link EdgeCore}: EdgeHub, MetaManager, SQLite store, MetaServer with
 * requireAuthorization, Edged with a runtime that runs nothing). A simulated KubeEdge cloud answers
 * each of the edge's requests with the reply recorded for the same request (matched by route and
 * resource, or by an Application's key and verb; ids rewritten) and pushes the recorded
 * cloud-initiated messages in order; every effect the recording shows is checked and a difference
 * names its seq.
 *
 * <p>Substituted, because they are checked cryptographically and their cluster is gone: the
 * MetaServer certificate in the CSR replies (seq 161, 293: the edge's own request, signed by a test
 * CA) and the pod tokens of seq 1104 and 1176 (the same claims, times moved to now, signed by a
 * test key; KubeEdge's edge and Kedge's without issuer keys accept them by equality, not by
 * signature). Other UIDs, times and versions stay as recorded.
 */
class KubeEdgeSessionReplayTest {
  static final GoldenTrace TRACE = GoldenTrace.load();
  static final String NODE = "edge-node-1";

  @TempDir Path dir;

  /** Recorded request signature → seqs of the replies to such requests, in order. */
  final Map<String, List<Integer>> recordedReplies = new LinkedHashMap<>();

  final Map<String, Integer> used = new ConcurrentHashMap<>();

  /** Ids of the messages the simulated cloud sent → the seq they were made from. */
  final Map<String, Integer> sentSeq = new ConcurrentHashMap<>();

  /** msg_ids of the recorded cloud messages KubeEdge's edge acknowledged. */
  final Set<String> ackedByKubeEdge = new HashSet<>();

  final List<String> unanswered = new CopyOnWriteArrayList<>();
  volatile boolean closing;
  final Map<String, Integer> acks = new ConcurrentHashMap<>();
  final List<Message> fromEdge = new CopyOnWriteArrayList<>();

  final CertificateAuthority servingCa =
      CertificateAuthority.create("kubernetes-test", KeyPairs.ecP256(), Duration.ofDays(1));
  final KeyPair tokenKey = KeyPairs.rsa2048();
  volatile String csrRequest = "";
  volatile String podToken = "";

  @Test
  void theRecordedSessionReplaysWithTheRecordedEffects() throws Exception {
    index();
    TestPki pki = new TestPki();
    int msPort = Ports.free();
    try (TestBootstrapServer certs = new TestBootstrapServer(pki);
        TestCloudHub cloud = new TestCloudHub(pki).start()) {
      cloud.responder = this::answer;
      EdgeCoreConfig cfg = config(cloud, certs, msPort);
      PrintStream err = System.err;
      ByteArrayOutputStream log = new ByteArrayOutputStream();
      EdgeCore edge = new EdgeCore(cfg);
      try {
        edge.start();
        Waits.until("connected", Duration.ofSeconds(60), edge.hub()::isConnected);
        ObjectStore store = edge.store();

        // step 1: CA (158/159) and the MetaServer CSR (160/161 insert, 292/293 bare poll)
        awaitSent(159, 161, 293);
        Waits.until(
            "MetaServer's certificate issued from the bare poll answer (seq 293)",
            Duration.ofSeconds(60),
            () -> Files.exists(dir.resolve("pki/" + "metaserver-current.pem")));

        // steps 2-3b: pods, ServiceAccountAccess pushed; Edged fetches ConfigMaps and tokens
        push(cloud, 1000, 1338);
        awaitSent(1097, 1104, 1107, 1176);
        expectObject(store, 1074, Gvr.core("pods"), "demo", "golden");
        expectObject(store, 1143, Gvr.core("pods"), "demo", "noperm-pod");
        Gvr saa = new Gvr("policy.kubeedge.io", "v1alpha1", "serviceaccountaccesses");
        expectObject(store, 1089, saa, "demo", "app");
        expectObject(store, 1145, saa, "demo", "noperm");
        expectObject(store, 1097, Gvr.core("configmaps"), "demo", "cfg1");
        expectObject(store, 1107, Gvr.core("configmaps"), "demo", "kube-root-ca.crt");
        assertThat(podToken).as("seq 1104: the token obtained for pod demo/golden").isNotEmpty();

        // steps 4-9: MetaServer with the pod's token, answered from the recorded Applications
        HttpClient http = client();
        String base = "https://127.0.0.1:" + msPort;
        var get = call(http, "GET", base + "/api/v1/namespaces/demo/configmaps/cfg1", null);
        expectBody(1340, get, 200);
        var list = call(http, "GET", base + "/api/v1/namespaces/demo/configmaps", null);
        expectBody(1342, list, 200);

        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        var watch =
            http.sendAsync(
                request("GET", base + "/api/v1/namespaces/demo/configmaps?watch=true", null),
                HttpResponse.BodyHandlers.ofLines());
        awaitSent(1347);
        watch.thenAccept(r -> r.body().forEach(events::add));

        var create = call(http, "POST", base + "/api/v1/namespaces/demo/configmaps", reqBody(1423));
        expectBody(1424, create, 201);
        push(cloud, 1425, 1425);
        expectEvent(events, 1425, "ADDED");
        expectObject(store, 1425, Gvr.core("configmaps"), "demo", "made-at-edge");

        var patch =
            call(
                http,
                "PATCH",
                base + "/api/v1/namespaces/demo/configmaps/made-at-edge",
                patchBody(1454));
        expectBody(1455, patch, 200);
        push(cloud, 1456, 1456);
        expectEvent(events, 1456, "MODIFIED");

        var delete =
            call(http, "DELETE", base + "/api/v1/namespaces/demo/configmaps/made-at-edge", null);
        assertThat(delete.statusCode()).as("seq 1490").isEqualTo(200);
        push(cloud, 1489, 1489);
        expectEvent(events, 1489, "DELETED");
        Waits.until(
            "seq 1489: made-at-edge deleted from the store",
            Duration.ofSeconds(30),
            () -> store.get(Gvr.core("configmaps"), "demo", "made-at-edge").isEmpty());

        // step 10: denied requests are decided at the edge: nothing on the wire
        int before = fromEdge.size();
        var secrets = call(http, "GET", base + "/api/v1/namespaces/demo/secrets", null);
        assertThat(secrets.statusCode()).as("step 10: SA app lists secrets").isEqualTo(403);
        var bad =
            http.send(
                HttpRequest.newBuilder(URI.create(base + "/api/v1/namespaces/demo/configmaps"))
                    .header("Authorization", "Bearer not-a-token")
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(bad.statusCode()).as("step 10: a bad token").isEqualTo(401);
        List<Message> sinceDenied = List.copyOf(fromEdge);
        assertThat(sinceDenied.subList(before, sinceDenied.size()))
            .as("step 10: denied requests send nothing to the cloud")
            .noneMatch(m -> Sources.META_SERVER.equals(m.source()));

        // steps 12-14: the cloud goes away; reads are served; after the reconnect, through it
        checkAcks(); // what was sent on the first connection was acknowledged on it
        closing = true; // a reply sent from here until the reconnect may be lost with the link
        cloud.stopServing();
        Waits.until("disconnected", Duration.ofSeconds(30), () -> !edge.hub().isConnected());
        var offline = call(http, "GET", base + "/api/v1/namespaces/demo/configmaps/cfg1", null);
        assertThat(offline.statusCode()).as("cfg1 read while the cloud is down").isEqualTo(200);
        assertThat(Json.parse(offline.body()).path("data")).isEqualTo(respBody(1340).path("data"));
        cloud.restart();
        Waits.until("reconnected (seq 2615)", Duration.ofSeconds(60), edge.hub()::isConnected);
        closing = false;
        int gets = used.getOrDefault("app get /core/v1/configmaps/demo/cfg1", 0);
        var again = call(http, "GET", base + "/api/v1/namespaces/demo/configmaps/cfg1", null);
        expectBody(2618, again, 200);
        assertThat(used.get("app get /core/v1/configmaps/demo/cfg1")).isEqualTo(gets + 1);

        // steps 15-16: pod demo/golden deleted, with its ServiceAccountAccess
        push(cloud, 2619, 2679);
        Waits.until(
            "seq 2668: pod demo/golden deleted from the store",
            Duration.ofSeconds(60),
            () -> store.get(Gvr.core("pods"), "demo", "golden").isEmpty());
        Waits.until(
            "seq 2666: ServiceAccountAccess demo/app deleted from the store",
            Duration.ofSeconds(30),
            () -> store.get(saa, "demo", "app").isEmpty());
        expectObject(store, 1143, Gvr.core("pods"), "demo", "noperm-pod");

        // every ACK as KubeEdge's edge sent it
        checkAcks();
        // the edge never asks the cloud for ServiceAccountAccess objects: it is sent them
        assertThat(fromEdge)
            .noneMatch(m -> m.resource().contains("serviceaccountaccess") && !m.isAck());
        // Requests the recording has no answer for: the issuer keys (KubeEdge's cloud has none and
        // never answers), and, after the reconnect, Kedge's re-read of the objects it holds (its
        // own behaviour, absent from KubeEdge's session; unanswered here, the held copy stays), and
        // the kubelet's events about the pods it runs, which Edged sends and the recording lacks.
        assertThat(unanswered)
            .as("requests without a recorded answer")
            .allMatch(
                s ->
                    s.equals("metamanager/meta/query k8s/jwks")
                        || s.startsWith("app get /core/v1/pods/demo/")
                        || s.startsWith("edged/meta/insert demo/event/"));
      } finally {
        System.setErr(new PrintStream(new TeeStream(err, log), true, StandardCharsets.UTF_8));
        try {
          edge.close();
        } finally {
          System.setErr(err);
        }
      }
      assertThat(log.toString(StandardCharsets.UTF_8))
          .as("stopping edgecore")
          .doesNotContain("RejectedExecutionException");
    }
  }

  // ------------------------------------------------------------------ the simulated cloud

  private void index() {
    Map<String, String> signatureOfRequest = new HashMap<>();
    for (GoldenTrace.Line l : TRACE.lines()) {
      if (!l.isMessage()) {
        continue;
      }
      Message m = l.message();
      if (l.fromEdge() && !m.header().hasParent()) {
        signatureOfRequest.put(m.id(), signature(m));
      } else if (l.fromEdge() && m.isAck()) {
        ackedByKubeEdge.add(m.parentId());
      } else if (l.fromCloud() && m.header().hasParent()) {
        String sig = signatureOfRequest.get(m.parentId());
        if (sig != null) {
          recordedReplies.computeIfAbsent(sig, k -> new ArrayList<>()).add(l.seq());
        }
      }
    }
  }

  static String signature(Message m) {
    if (Sources.META_SERVER.equals(m.source())) {
      if (m.resource().endsWith(ResourcePath.WATCHAPP_SYNC)) {
        return "watchapp/sync";
      }
      Application a = Application.fromJson(GoldenTrace.content(m));
      return "app " + a.verb() + " " + a.key();
    }
    return m.source() + "/" + m.group() + "/" + m.operation() + " " + m.resource();
  }

  private Message answer(Message m) {
    fromEdge.add(m);
    if (m.isAck()) {
      acks.merge(m.parentId(), 1, Integer::sum);
      return null;
    }
    if (m.header().hasParent()
        || m.resource().equals("node") && m.operation().equals("keepalive")) {
      return null;
    }
    String sig = signature(m);
    List<Integer> replies = recordedReplies.get(sig);
    if (replies == null) {
      unanswered.add(sig);
      return null; // as KubeEdge's cloud: no answer to what it does not know
    }
    int n = used.merge(sig, 1, Integer::sum);
    int seq = replies.get(Math.min(n, replies.size()) - 1);
    Message recorded = TRACE.message(seq);
    MessageHeader h = MessageHeader.replyTo(m.id());
    if (!recorded.header().resourceVersion().isEmpty()) {
      h = h.withResourceVersion(recorded.header().resourceVersion());
    }
    Message reply = new Message(h, recorded.route(), substitute(seq, m, recorded.content()));
    if (!closing) {
      sentSeq.put(reply.id(), seq);
    }
    return reply;
  }

  /** The recorded content, with what is checked cryptographically made for this test. */
  private JsonNode substitute(int seq, Message request, JsonNode content) {
    if (request.resource().contains("/certificatesigningrequest/")) {
      JsonNode c = GoldenTrace.content(content).deepCopy();
      if (request.operation().equals("insert")) {
        csrRequest = GoldenTrace.content(request).path("spec").path("request").asString();
      }
      ObjectNode csr = (ObjectNode) (c.has("Object") ? c.get("Object") : c);
      ((ObjectNode) csr.get("spec")).put("request", csrRequest);
      if (csr.path("status").has("certificate")) {
        ((ObjectNode) csr.get("status")).put("certificate", sign(csrRequest));
      }
      return c;
    }
    if (seq == 1104 || seq == 1176) {
      // the tokens of demo/golden and demo/noperm-pod, recorded expired by now
      ObjectNode tr = (ObjectNode) GoldenTrace.content(content).deepCopy();
      String recordedToken = tr.path("status").path("token").asString();
      String token = retoken(recordedToken);
      if (seq == 1104) {
        podToken = token;
      }
      ((ObjectNode) tr.get("status")).put("token", token);
      ((ObjectNode) tr.get("status"))
          .put("expirationTimestamp", Instant.now().plusSeconds(3600).toString());
      return tr;
    }
    return content;
  }

  private String sign(String requestB64) {
    try {
      var req =
          Pem.csr(new String(Base64.getDecoder().decode(requestB64), StandardCharsets.US_ASCII));
      var key = new JcaPEMKeyConverter().getPublicKey(req.getSubjectPublicKeyInfo());
      var cert =
          servingCa.issue(
              CertSpec.server(
                  req.getSubject().toString(),
                  List.of("127.0.0.1"),
                  List.of(),
                  Duration.ofHours(2)),
              key);
      return Base64.getEncoder()
          .encodeToString(Pem.encode(cert).getBytes(StandardCharsets.US_ASCII));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The recorded token's claims with fresh times, signed with the test key. */
  private String retoken(String recorded) {
    String[] parts = recorded.split("\\.");
    ObjectNode claims = (ObjectNode) Json.parse(Base64.getUrlDecoder().decode(parts[1]));
    long now = Instant.now().getEpochSecond();
    long life = claims.path("exp").asLong() - claims.path("iat").asLong();
    claims.put("iat", now).put("nbf", now).put("exp", now + life);
    Base64.Encoder enc = Base64.getUrlEncoder().withoutPadding();
    String input = parts[0] + "." + enc.encodeToString(Json.bytes(claims));
    try {
      Signature s = Signature.getInstance("SHA256withRSA");
      s.initSign(tokenKey.getPrivate());
      s.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + enc.encodeToString(s.sign());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void push(TestCloudHub cloud, int from, int to) {
    for (GoldenTrace.Line l : TRACE.lines()) {
      if (l.seq() >= from
          && l.seq() <= to
          && l.isMessage()
          && l.fromCloud()
          && !l.message().header().hasParent()) {
        sentSeq.put(l.message().id(), l.seq());
        cloud.send(l.message());
        if (ackedByKubeEdge.contains(l.message().id())) {
          String id = l.message().id();
          Waits.until(
              "seq " + l.seq() + " acknowledged as KubeEdge's edge did",
              Duration.ofSeconds(30),
              () -> acks.containsKey(id));
        }
      }
    }
  }

  private void awaitSent(int... seqs) {
    for (int seq : seqs) {
      Waits.until(
          "the edge asked what seq " + seq + " answers",
          Duration.ofSeconds(60),
          () -> sentSeq.containsValue(seq));
    }
  }

  private void checkAcks() {
    waitQuietly(
        "the acknowledgements KubeEdge's edge sent",
        Duration.ofSeconds(20),
        () ->
            sentSeq.entrySet().stream()
                .filter(e -> ackedByKubeEdge.contains(TRACE.message(e.getValue()).id()))
                .allMatch(e -> acks.containsKey(e.getKey())));
    List<String> differences = new ArrayList<>();
    sentSeq.forEach(
        (id, seq) -> {
          boolean kubeEdge = ackedByKubeEdge.contains(TRACE.message(seq).id());
          int kedge = acks.getOrDefault(id, 0);
          String res = TRACE.message(seq).resource();
          if (kubeEdge && kedge != 1) {
            differences.add(
                "seq " + seq + " (" + res + "): acknowledged " + kedge + " times, KubeEdge once");
          } else if (!kubeEdge && kedge > 0 && !res.matches(".*/(nodepatch|podpatch)/.*")) {
            // Kedge acknowledges replies to status patches that carry a resourceversion; KubeEdge's
            // cloud never waits for those, so an extra one is harmless
            differences.add("seq " + seq + " (" + res + "): acknowledged, KubeEdge did not");
          }
        });
    assertThat(differences).isEmpty();
  }

  // ------------------------------------------------------------------ checks

  /** Waits for {@code done}, at most {@code max}; what is then missing the caller names. */
  private static void waitQuietly(
      String what, Duration max, java.util.function.BooleanSupplier done) {
    long end = System.nanoTime() + max.toNanos();
    while (!done.getAsBoolean() && System.nanoTime() < end) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private void expectObject(ObjectStore store, int seq, Gvr gvr, String ns, String name) {
    Waits.until(
        "seq " + seq + ": " + gvr.resource() + " " + ns + "/" + name + " in the store",
        Duration.ofSeconds(60),
        () -> store.get(gvr, ns, name).isPresent());
    JsonNode stored = Json.parse(store.get(gvr, ns, name).get().json());
    JsonNode recorded = objectOf(seq);
    assertThat(stored.path("metadata").path("uid"))
        .as("seq " + seq + ": uid of " + name)
        .isEqualTo(recorded.path("metadata").path("uid"));
  }

  private static JsonNode objectOf(int seq) {
    JsonNode c = GoldenTrace.content(TRACE.message(seq));
    return c.has("Object") ? c.get("Object") : c;
  }

  private static JsonNode decoded(int seq) {
    return TRACE.seq(seq).decoded();
  }

  private static JsonNode respBody(int seq) {
    return decoded(seq).path("RespBody");
  }

  private static byte[] reqBody(int seq) {
    return Json.bytes(decoded(seq).path("ReqBody"));
  }

  private static byte[] patchBody(int seq) {
    JsonNode opt = decoded(seq).path("Option");
    JsonNode data = opt.path("Data");
    return data.isString() ? Base64.getDecoder().decode(data.asString()) : Json.bytes(data);
  }

  private static void expectBody(int seq, HttpResponse<String> r, int code) {
    assertThat(r.statusCode()).as("seq " + seq + ": " + r.body()).isEqualTo(code);
    assertThat(Json.parse(r.body()))
        .as("seq " + seq + ": the recorded RespBody")
        .isEqualTo(respBody(seq));
  }

  private static void expectEvent(BlockingQueue<String> events, int seq, String type)
      throws InterruptedException {
    String name = objectOf(seq).path("metadata").path("name").asString();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    List<String> seen = new ArrayList<>();
    while (System.nanoTime() < deadline) {
      String line = events.poll(1, TimeUnit.SECONDS);
      if (line == null || line.isBlank()) {
        continue;
      }
      seen.add(line);
      JsonNode e = Json.parse(line);
      if (e.path("type").asString().equals(type)
          && e.path("object").path("metadata").path("name").asString().equals(name)) {
        assertThat(e.path("object").path("metadata").path("resourceVersion").asString())
            .as("seq " + seq + ": resourceVersion of the event")
            .isEqualTo(objectOf(seq).path("metadata").path("resourceVersion").asString());
        return;
      }
    }
    throw new AssertionError("seq " + seq + ": no " + type + " event for " + name + " in " + seen);
  }

  // ------------------------------------------------------------------ wiring

  private EdgeCoreConfig config(TestCloudHub cloud, TestBootstrapServer certs, int msPort) {
    String ms = "127.0.0.1:" + msPort;
    List<String> sets =
        List.of(
            "featureGates.requireAuthorization=true",
            "database.dataSource=" + dir.resolve("edgecore.db"),
            "modules.edgeHub.websocket.server=" + cloud.address(),
            "modules.edgeHub.httpServer=" + certs.uri(),
            "modules.edgeHub.tlsCaFile=" + dir.resolve("ca.crt"),
            "modules.edgeHub.tlsCertFile=" + dir.resolve("edge.crt"),
            "modules.edgeHub.tlsPrivateKeyFile=" + dir.resolve("edge.key"),
            "modules.edgeHub.reconnectMinDelay=1",
            "modules.edgeHub.reconnectMaxDelay=2",
            "modules.edged.hostnameOverride=" + NODE,
            "modules.edged.nodeIP=127.0.0.1",
            "modules.edged.runtime=test-running",
            "modules.edged.rootDirectory=" + dir.resolve("pods"),
            "modules.metaManager.remoteQueryTimeout=5",
            "modules.metaManager.metaServer.enable=true",
            "modules.metaManager.metaServer.server=" + ms,
            "modules.metaManager.metaServer.dummyServer=" + ms,
            "modules.metaManager.metaServer.pkiDir=" + dir.resolve("pki"));
    List<String> all = new ArrayList<>(sets);
    all.add("modules.edgeHub.token=" + certs.token());
    return EdgeCoreConfig.load(null, all).config();
  }

  private HttpClient client() throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setCertificateEntry("ca", servingCa.certificate());
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder()
        .sslContext(ssl)
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10))
        .build();
  }

  private HttpRequest request(String method, String url, byte[] body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(60))
            .header("Authorization", "Bearer " + podToken)
            .header("Accept", "application/json");
    if (method.equals("PATCH")) {
      b.header("Content-Type", "application/merge-patch+json");
    } else if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return b.method(
            method,
            body == null
                ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
  }

  private HttpResponse<String> call(HttpClient http, String method, String url, byte[] body)
      throws Exception {
    return http.send(request(method, url, body), HttpResponse.BodyHandlers.ofString());
  }

  /** Writes to two streams: the log goes on to the console while the test reads it. */
  private static final class TeeStream extends java.io.OutputStream {
    private final java.io.OutputStream a;
    private final java.io.OutputStream b;

    TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public synchronized void write(int c) throws java.io.IOException {
      a.write(c);
      b.write(c);
    }

    @Override
    public synchronized void write(byte[] buf, int off, int len) throws java.io.IOException {
      a.write(buf, off, len);
      b.write(buf, off, len);
    }
  }
}
