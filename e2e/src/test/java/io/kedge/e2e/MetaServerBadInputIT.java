package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.Json;
import io.kedge.protocol.status.KubeStatus;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.EdgeCoreProcess;
import io.kedge.testkit.RawHttp;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import tools.jackson.databind.JsonNode;

/**
 * Bad input against the MetaServer of a real edgecore process (online, through a real cloudcore):
 * every case of the table gets a 4xx Kubernetes {@code Status} whose code is the HTTP code and
 * whose reason fits it, edgecore stays up, and the edge store holds the same objects before and
 * after the table (read read-only from the database file). All failures are reported together. The
 * table has as many cases as the README says MetaServer answers so.
 */
@WithControlPlane
class MetaServerBadInputIT {
  private static final Logger LOG = LoggerFactory.getLogger(MetaServerBadInputIT.class);
  private static final Duration WAIT = Duration.ofSeconds(120);

  /** Objects the node itself keeps changing while the table runs (heartbeats). */
  private static final Set<String> LIVE_TYPES =
      Set.of("coordination.k8s.io/v1/leases", "/v1/nodes", "/v1/events", "/v1/pods");

  @TempDir Path dir;

  /**
   * One bad request.
   *
   * @param head request line and headers (no blank line); {@code Host} and {@code Content-Length}
   *     are added unless present
   * @param codes the acceptable answers
   */
  record Case(String name, String head, byte[] body, Set<Integer> codes, boolean verbatim) {
    Case(String name, String head, byte[] body, Set<Integer> codes) {
      this(name, head, body, codes, false);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /**
   * A request sent exactly as given ({@code head} gets one CRLF, nothing is added): one that does
   * not finish.
   */
  static Case unfinished(String name, String head, String body, Integer... codes) {
    return new Case(
        name,
        head,
        body == null ? null : body.getBytes(StandardCharsets.UTF_8),
        Set.of(codes),
        true);
  }

  static Case c(String name, String requestLine, String headers, String body, Integer... codes) {
    return new Case(
        name,
        requestLine + (headers.isEmpty() ? "" : "\r\n" + headers),
        body == null ? null : body.getBytes(StandardCharsets.UTF_8),
        Set.of(codes));
  }

  static List<Case> table(String ns) {
    String base = "/api/v1/namespaces/" + ns + "/configmaps";
    String json = "Content-Type: application/json";
    String cm = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"%s}}";
    List<Case> t = new ArrayList<>();
    // bodies
    t.add(
        c(
            "malformed JSON body",
            "POST " + base + " HTTP/1.1",
            json,
            "{\"apiVersion\":\"v1\",",
            400));
    t.add(c("JSON body not an object", "POST " + base + " HTTP/1.1", json, "[1,2,3]", 400));
    t.add(c("JSON body null", "POST " + base + " HTTP/1.1", json, "null", 400, 422));
    t.add(c("empty body on create", "POST " + base + " HTTP/1.1", json, "", 400));
    t.add(
        c(
            "malformed YAML body",
            "POST " + base + " HTTP/1.1",
            "Content-Type: application/yaml",
            "kind: ConfigMap\n  : : [",
            400));
    t.add(
        c(
            "wrong content type",
            "POST " + base + " HTTP/1.1",
            "Content-Type: text/plain",
            String.format(cm, "bad-ct", ""),
            415));
    t.add(
        c(
            "garbage protobuf body",
            "POST " + base + " HTTP/1.1",
            "Content-Type: application/vnd.kubernetes.protobuf",
            "\u0001\u0002garbage",
            400,
            415));
    t.add(
        c(
            "empty name",
            "POST " + base + " HTTP/1.1",
            json,
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{}}",
            422));
    t.add(
        c(
            "name with invalid characters",
            "POST " + base + " HTTP/1.1",
            json,
            String.format(cm, "Bad_Name!", ""),
            422));
    t.add(
        c(
            "name too long",
            "POST " + base + " HTTP/1.1",
            json,
            String.format(cm, "n".repeat(300), ""),
            422));
    t.add(
        c(
            "namespace of the body differs from the URL",
            "POST " + base + " HTTP/1.1",
            json,
            String.format(cm, "other-ns", ",\"namespace\":\"kube-system\""),
            400));
    t.add(
        c(
            "kind of the body differs from the URL",
            "POST " + base + " HTTP/1.1",
            json,
            "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"wrong-kind\"}}",
            400));
    t.add(
        c(
            "name of the body differs from the URL on update",
            "PUT " + base + "/c0 HTTP/1.1",
            json,
            String.format(cm, "not-c0", ""),
            400));
    // patches
    t.add(
        c(
            "JSON patch that is not a list",
            "PATCH " + base + "/c0 HTTP/1.1",
            "Content-Type: application/json-patch+json",
            "{\"op\":\"add\"}",
            400,
            422));
    t.add(
        c(
            "JSON patch with an unknown op",
            "PATCH " + base + "/c0 HTTP/1.1",
            "Content-Type: application/json-patch+json",
            "[{\"op\":\"frobnicate\",\"path\":\"/data/x\",\"value\":\"1\"}]",
            400,
            422));
    t.add(
        c(
            "malformed merge patch",
            "PATCH " + base + "/c0 HTTP/1.1",
            "Content-Type: application/merge-patch+json",
            "{\"data\":",
            400));
    t.add(
        c(
            "strategic merge patch that is a list",
            "PATCH " + base + "/c0 HTTP/1.1",
            "Content-Type: application/strategic-merge-patch+json",
            "[1]",
            400,
            422));
    t.add(
        c(
            "patch with a plain JSON content type",
            "PATCH " + base + "/c0 HTTP/1.1",
            json,
            "{\"data\":{\"x\":\"1\"}}",
            415));
    t.add(
        c(
            "malformed DeleteOptions",
            "DELETE " + base + "/c0 HTTP/1.1",
            json,
            "{\"propagationPolicy\":",
            400));
    t.add(
        c(
            "DeleteOptions that are not an object",
            "DELETE " + base + "/c0 HTTP/1.1",
            json,
            "[\"c1\"]",
            400));
    // resources
    t.add(
        c("unknown resource", "GET /api/v1/namespaces/" + ns + "/widgetz HTTP/1.1", "", null, 404));
    t.add(c("unknown group", "GET /apis/nosuch.example.com/v1/things HTTP/1.1", "", null, 404));
    t.add(
        c(
            "unknown version",
            "GET /api/v9/namespaces/" + ns + "/configmaps HTTP/1.1",
            "",
            null,
            404));
    t.add(c("unknown group version", "GET /apis/apps/v7/deployments HTTP/1.1", "", null, 404));
    t.add(c("unknown subresource", "GET " + base + "/c0/nosuchsub HTTP/1.1", "", null, 404));
    // selectors and list parameters
    t.add(
        c(
            "unbalanced label selector",
            "GET " + base + "?labelSelector=a%20in%20(b HTTP/1.1",
            "",
            null,
            400));
    t.add(
        c(
            "label selector with bad key",
            "GET " + base + "?labelSelector=!!a HTTP/1.1",
            "",
            null,
            400));
    t.add(
        c(
            "label selector with bad value",
            "GET " + base + "?labelSelector=a%3D%25%25%25 HTTP/1.1",
            "",
            null,
            400));
    t.add(
        c(
            "field selector without operator",
            "GET " + base + "?fieldSelector=metadata.name HTTP/1.1",
            "",
            null,
            400));
    t.add(
        c(
            "unsupported field selector",
            "GET " + base + "?fieldSelector=spec.nope%3Dx HTTP/1.1",
            "",
            null,
            400));
    t.add(
        c(
            "unsupported field selector on a watch",
            "GET " + base + "?watch=true&fieldSelector=spec.nope%3Dx HTTP/1.1",
            "",
            null,
            400));
    t.add(
        c(
            "resourceVersion not a number",
            "GET " + base + "?resourceVersion=abc HTTP/1.1",
            "",
            null,
            400));
    t.add(
        c(
            "huge resourceVersion",
            "GET " + base + "?resourceVersion=99999999999999999999999 HTTP/1.1",
            "",
            null,
            400));
    t.add(
        c(
            "negative resourceVersion",
            "GET " + base + "/c0?resourceVersion=-3 HTTP/1.1",
            "",
            null,
            400));
    t.add(
        c(
            "watch from a resourceVersion not a number",
            "GET " + base + "?watch=1&resourceVersion=abc HTTP/1.1",
            "",
            null,
            400));
    t.add(
        c(
            "unknown resourceVersionMatch",
            "GET " + base + "?resourceVersion=0&resourceVersionMatch=Sideways HTTP/1.1",
            "",
            null,
            400,
            422));
    t.add(
        c(
            "resourceVersionMatch without resourceVersion",
            "GET " + base + "?resourceVersionMatch=NotOlderThan HTTP/1.1",
            "",
            null,
            400,
            422));
    t.add(c("limit not a number", "GET " + base + "?limit=ten HTTP/1.1", "", null, 400));
    t.add(
        c("negative limit", "GET " + base + "?limit=-5&resourceVersion=0 HTTP/1.1", "", null, 400));
    t.add(
        c(
            "continue token that is garbage",
            "GET " + base + "?limit=1&continue=bm90LWEtdG9rZW4 HTTP/1.1",
            "",
            null,
            400,
            410));
    t.add(
        c(
            "continue token that is not base64",
            "GET " + base + "?limit=1&continue=%25%25%25 HTTP/1.1",
            "",
            null,
            400,
            410));
    t.add(c("watch boolean not a boolean", "GET " + base + "?watch=maybe HTTP/1.1", "", null, 400));
    t.add(
        c(
            "negative watch timeout",
            "GET " + base + "?watch=true&timeoutSeconds=-1 HTTP/1.1",
            "",
            null,
            400));
    t.add(
        c(
            "watch timeout not a number",
            "GET " + base + "?watch=true&timeoutSeconds=soon HTTP/1.1",
            "",
            null,
            400));
    t.add(
        c("bad escape in the query", "GET " + base + "?labelSelector=%zz HTTP/1.1", "", null, 400));
    // paths
    t.add(c("dot-dot segment", "GET " + base + "/../secrets HTTP/1.1", "", null, 400));
    t.add(c("encoded dot-dot", "GET " + base + "/%2e%2e/secrets HTTP/1.1", "", null, 400));
    t.add(
        c(
            "encoded upper-case dot-dot",
            "GET /api/v1/namespaces/" + ns + "/%2E%2E/kube-system/secrets HTTP/1.1",
            "",
            null,
            400));
    t.add(
        c(
            "encoded slash in a segment",
            "GET /api/v1/namespaces/" + ns + "%2Fconfigmaps HTTP/1.1",
            "",
            null,
            400));
    t.add(c("double-encoded dot-dot", "GET " + base + "/%252e%252e HTTP/1.1", "", null, 400, 404));
    t.add(c("double-encoded slash", "GET " + base + "/c0%252Fx HTTP/1.1", "", null, 400, 404));
    t.add(c("empty segment", "GET /api/v1/namespaces//configmaps HTTP/1.1", "", null, 400, 404));
    t.add(
        c(
            "bad escape in the path",
            "GET /api/v1/namespaces/%zz/configmaps HTTP/1.1",
            "",
            null,
            400));
    t.add(c("NUL in the path", "GET " + base + "/c%00 HTTP/1.1", "", null, 400));
    // methods and negotiation
    t.add(
        c(
            "update without a name",
            "PUT " + base + " HTTP/1.1",
            json,
            String.format(cm, "x", ""),
            405));
    t.add(
        c(
            "create on a named object",
            "POST " + base + "/c0 HTTP/1.1",
            json,
            String.format(cm, "c0", ""),
            405));
    t.add(c("unknown method", "TRACE " + base + " HTTP/1.1", "", null, 405));
    t.add(c("OPTIONS on a resource", "OPTIONS " + base + "/c0 HTTP/1.1", "", null, 405));
    t.add(
        c(
            "unsupported Accept",
            "GET " + base + "/c0 HTTP/1.1",
            "Accept: application/x-nonsense",
            null,
            406));
    t.add(
        c(
            "unsupported Accept on a list from the cache",
            "GET " + base + "?resourceVersion=0 HTTP/1.1",
            "Accept: image/png",
            null,
            406));
    // transport
    t.add(
        new Case(
            "10 MiB body",
            "POST " + base + " HTTP/1.1\r\n" + json,
            bigObject(10 << 20),
            Set.of(413)));
    t.add(
        new Case(
            "10 MiB chunked body",
            "POST " + base + " HTTP/1.1\r\n" + json + "\r\nTransfer-Encoding: chunked",
            chunked(bigObject(10 << 20)),
            Set.of(413)));
    t.add(
        c(
            "HTTP/1.0 without Host to an unknown resource",
            "GET /api/v1/nosuch HTTP/1.0",
            "Host:",
            null,
            404));
    t.add(c("HTTP/1.0 bad selector", "GET " + base + "?labelSelector=!! HTTP/1.0", "", null, 400));
    t.add(
        c(
            "header too large",
            "GET " + base + " HTTP/1.1",
            "X-Big: " + "x".repeat(40_000),
            null,
            431));
    t.add(
        c(
            "request line too long",
            "GET " + base + "/" + "a".repeat(20_000) + " HTTP/1.1",
            "",
            null,
            414));
    t.add(c("unknown HTTP version", "GET " + base + " HTTP/3.7", "", null, 400));
    // requests that do not finish (MetaServer runs with 3 s header and body timeouts here)
    t.add(
        unfinished(
            "headers that never end",
            "GET " + base + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1",
            null,
            408));
    t.add(
        unfinished(
            "body shorter than its Content-Length",
            "POST "
                + base
                + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + json
                + "\r\nContent-Length: 100\r\n",
            "{\"apiVersion\":",
            408));
    t.add(
        c(
            "conflicting Content-Length headers",
            "POST " + base + " HTTP/1.1",
            json + "\r\nContent-Length: 5\r\nContent-Length: 7",
            "{}{}{}{",
            400));
    return t;
  }

  static byte[] bigObject(int size) {
    String head =
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"big\"},\"data\":{\"x\":\"";
    String tail = "\"}}";
    return (head + "x".repeat(size - head.length() - tail.length()) + tail)
        .getBytes(StandardCharsets.UTF_8);
  }

  static byte[] chunked(byte[] body) {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    for (int off = 0; off < body.length; off += 8192) {
      int n = Math.min(8192, body.length - off);
      b.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
      b.write(body, off, n);
      b.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    b.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    return b.toByteArray();
  }

  static String request(Case k, int port) {
    if (k.verbatim()) {
      return k.head();
    }
    StringBuilder h = new StringBuilder(k.head());
    String lower = k.head().toLowerCase(java.util.Locale.ROOT);
    if (!lower.contains("\r\nhost:")) {
      h.append("\r\nHost: 127.0.0.1:").append(port);
    }
    if (k.body() != null
        && !lower.contains("\r\ncontent-length:")
        && !lower.contains("transfer-encoding")) {
      h.append("\r\nContent-Length: ").append(k.body().length);
    }
    h.append("\r\nConnection: close\r\n");
    return h.toString();
  }

  /** What is wrong with an answer to a bad request, or null. */
  static String check(Case k, RawHttp.Answer a) {
    if (!k.codes().contains(a.code())) {
      return "HTTP " + a.code() + ", expected one of " + k.codes() + ": " + abbreviated(a.text());
    }
    String ct = a.headers().getOrDefault("content-type", "");
    if (!ct.startsWith("application/json")) {
      return "content type \"" + ct + "\": " + abbreviated(a.text());
    }
    JsonNode s;
    try {
      s = Json.parse(a.text());
    } catch (RuntimeException e) {
      return "body is not JSON: " + abbreviated(a.text());
    }
    if (!s.path("kind").asString().equals("Status")
        || !s.path("apiVersion").asString().equals("v1")
        || !s.path("status").asString().equals("Failure")) {
      return "not a failure Status: " + abbreviated(a.text());
    }
    if (s.path("code").asInt() != a.code()) {
      return "Status code " + s.path("code").asInt() + " in an HTTP " + a.code() + " answer";
    }
    String reason = s.path("reason").asString();
    String expected = KubeStatus.reasonFor(a.code());
    if (!expected.isEmpty() && !reason.equals(expected)) {
      return "reason \"" + reason + "\" for " + a.code() + " (expected " + expected + ")";
    }
    if (expected.isEmpty() && reason.isEmpty() && a.code() != 414 && a.code() != 431) {
      return "no reason for " + a.code();
    }
    if (s.path("message").asString().isEmpty()) {
      return "Status without a message";
    }
    return null;
  }

  static String abbreviated(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "…" : s;
  }

  /** Every object row of the edge store (value bytes included), read-only. */
  static TreeMap<String, String> storeRows(Path db) throws Exception {
    SQLiteConfig cfg = new SQLiteConfig();
    cfg.setReadOnly(true);
    cfg.setBusyTimeout(10_000);
    TreeMap<String, String> rows = new TreeMap<>();
    try (Connection c = cfg.createConnection("jdbc:sqlite:" + db);
        Statement st = c.createStatement();
        ResultSet r =
            st.executeQuery(
                "SELECT gvr, namespace, name, rv, deleted, hex(value) FROM objects"
                    + " ORDER BY gvr, namespace, name")) {
      while (r.next()) {
        rows.put(
            r.getString(1) + " " + r.getString(2) + "/" + r.getString(3),
            r.getLong(4) + " " + r.getInt(5) + " " + r.getString(6));
      }
    }
    return rows;
  }

  static TreeMap<String, String> stable(TreeMap<String, String> rows) {
    TreeMap<String, String> m = new TreeMap<>();
    rows.forEach(
        (k, v) -> {
          if (!LIVE_TYPES.contains(k.substring(0, k.indexOf(' ')))) {
            m.put(k, v);
          }
        });
    return m;
  }

  @Test
  void everyBadRequestGetsAFourHundredStatusAndChangesNothing(
      ControlPlane plane, KubernetesClient admin) throws Exception {
    MetaServerFixture.apply(admin, MetaServerFixture.CLOUDCORE_EXTRA);
    String ns = MetaServerFixture.namespace(admin, "bad");
    for (String n : List.of("c0", "c1")) {
      admin
          .configMaps()
          .inNamespace(ns)
          .resource(
              new ConfigMapBuilder()
                  .withNewMetadata()
                  .withName(n)
                  .addToLabels("app", "x")
                  .endMetadata()
                  .addToData("v", n)
                  .build())
          .create();
    }
    String base = "/api/v1/namespaces/" + ns + "/configmaps";
    try (CloudCoreProcess cloud =
            CloudCoreProcess.start(
                plane,
                dir.resolve("cloudcore"),
                "modules.dynamicController.enable=true",
                "modules.dynamicController.identity=cloudcore",
                "modules.dynamicController.tokenlessIdentity=cloudcore");
        EdgeCoreProcess edge =
            EdgeCoreProcess.start(
                dir.resolve("edge"),
                "edge-bad-input",
                cloud.hubUri(),
                cloud.bootstrapUri(),
                cloud.token(),
                "modules.metaManager.metaServer.enable=true",
                "modules.metaManager.metaServer.requestHeaderTimeout=3",
                "modules.metaManager.metaServer.requestBodyTimeout=3")) {
      EdgeHttp http = new EdgeHttp(edge.metaServerUri().toString());
      edge.awaitConnections(1, WAIT);
      Waits.until(
          "the edge caches the namespace's configmaps",
          WAIT,
          () -> {
            try {
              EdgeHttp.Answer a = http.get(base + "?resourceVersion=0");
              LOG.info(
                  "list through MetaServer: {} {}", a.code(), abbreviated(a.response().body()));
              List<String> names = new ArrayList<>();
              a.json()
                  .path("items")
                  .forEach(i -> names.add(i.path("metadata").path("name").asString()));
              return names.containsAll(List.of("c0", "c1"));
            } catch (RuntimeException e) {
              LOG.info("list through MetaServer: {}", e.toString());
              Thread.sleep(1_000);
              return false;
            }
          });
      // also read c0 once by name, so that the store holds what a GET brought
      assertThat(http.get(base + "/c0").code()).isEqualTo(200);
      JsonNode listBefore =
          MetaServerFixture.normalized(http.get(base + "?resourceVersion=0").json());
      // writes that reach the cloud are kept in the store in the background: let it settle
      Waits.until(
          "the edge store is settled",
          WAIT,
          () -> {
            TreeMap<String, String> a = stable(storeRows(edge.database()));
            Thread.sleep(1_000);
            return a.equals(stable(storeRows(edge.database())));
          });
      TreeMap<String, String> before = storeRows(edge.database());
      assertThat(before.keySet()).contains("/v1/configmaps " + ns + "/c0");

      RawHttp raw = new RawHttp("127.0.0.1", edge.metaServerUri().getPort());
      List<Case> table = table(ns);
      List<String> failures = new ArrayList<>();
      TreeMap<String, Integer> byCode = new TreeMap<>();
      for (Case k : table) {
        String problem;
        try {
          RawHttp.Answer a = raw.exchange(request(k, edge.metaServerUri().getPort()), k.body());
          byCode.merge(a.code() + " " + reasonOf(a), 1, Integer::sum);
          problem = check(k, a);
          LOG.info("bad input \"{}\": {} {}", k.name(), a.code(), abbreviated(a.text()));
        } catch (Exception | AssertionError e) {
          problem = "no answer: " + e;
        }
        if (!edge.process().isAlive()) {
          failures.add(k.name() + ": edgecore is no longer running");
          break;
        }
        if (problem != null) {
          failures.add(k.name() + ": " + problem);
        }
      }
      LOG.info("{} bad-input cases, answers {}", table.size(), byCode);
      assertThat(table.size())
          .as("cases in the table, and bad requests the README says MetaServer answers with a 4xx")
          .isEqualTo(readmeCount());
      assertThat(edge.process().isAlive()).as("edgecore survives the table").isTrue();

      // MetaServer still answers, and the store holds what it held
      assertThat(http.get("/healthz").code()).isEqualTo(200);
      assertThat(http.get(base + "/c0").json().path("data").path("v").asString()).isEqualTo("c0");
      assertThat(MetaServerFixture.normalized(http.get(base + "?resourceVersion=0").json()))
          .as("the cached list")
          .isEqualTo(listBefore);
      TreeMap<String, String> after = storeRows(edge.database());
      assertThat(stable(after)).as("the edge store's objects").isEqualTo(stable(before));
      assertThat(admin.configMaps().inNamespace(ns).list().getItems())
          .extracting(x -> x.getMetadata().getName())
          .containsExactlyInAnyOrder("c0", "c1", "kube-root-ca.crt");
      assertThat(failures).as("bad-input cases answered wrongly").isEmpty();
      assertThat(edge.log()).doesNotContain("Exception in thread");
    }
  }

  /** The number of bad requests the README says MetaServer answers with a 4xx {@code Status}. */
  static int readmeCount() throws java.io.IOException {
    Path readme = Path.of(System.getProperty("kedge.home", "..")).resolve("README.md");
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(\\d+) bad requests answered with 4xx")
            .matcher(java.nio.file.Files.readString(readme));
    assertThat(m.find()).as("README.md states the number of bad requests: " + readme).isTrue();
    return Integer.parseInt(m.group(1));
  }

  static String reasonOf(RawHttp.Answer a) {
    try {
      return Json.parse(a.text()).path("reason").asString();
    } catch (RuntimeException e) {
      return "(not JSON)";
    }
  }
}
