package io.kedge.cloud.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.controlplane.ControlPlane;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.pki.TlsContexts;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.RawHttp;
import io.kedge.testkit.Waits;
import io.kedge.testkit.edge.EdgeIdentity;
import io.kedge.testkit.edge.SimulatedEdge;
import io.kedge.testkit.junit.WithControlPlane;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Must-show 3 (cloud side): a table of bad inputs against the real {@code bin/cloudcore} — each is
 * refused with exactly one log line naming the problem, the offending connection is closed, and a
 * node connected meanwhile is not affected.
 */
@WithControlPlane
class BadInputIT {
  static final Duration T = Duration.ofSeconds(30);

  /** One bad input: what it does, and the text its log line must contain. */
  record Case(String name, String logText, Function<Ctx, String> attempt) {}

  /** What a case may use. */
  record Ctx(CloudCoreProcess cc, CertificateAuthority ca, String jwt, String node) {}

  static byte[] csr(String cn) throws Exception {
    KeyPair kp = KeyPairs.ecP256();
    X500NameBuilder n = new X500NameBuilder(BCStyle.INSTANCE);
    n.addRDN(BCStyle.O, "system:nodes");
    n.addRDN(BCStyle.CN, cn);
    return new JcaPKCS10CertificationRequestBuilder(n.build(), kp.getPublic())
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()))
        .getEncoded();
  }

  static int edgeCrt(Ctx c, String node, String bearer, byte[] body) {
    try {
      HttpClient h =
          HttpClient.newBuilder()
              .sslContext(TlsContexts.client(List.of(c.ca().certificate()), null, null))
              .build();
      HttpRequest.Builder r =
          HttpRequest.newBuilder(c.cc().bootstrapUri().resolve("/edge.crt"))
              .method("GET", HttpRequest.BodyPublishers.ofByteArray(body))
              .header("NodeName", node);
      if (bearer != null) {
        r.header("Authorization", "Bearer " + bearer);
      }
      return h.send(r.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /**
   * Sends {@code head} (and {@code body} after it, whole, as most clients do) to the bootstrap port
   * over TLS and reports the answer's status.
   */
  static String rawBootstrap(Ctx c, String head, byte[] body) {
    RawHttp raw =
        new RawHttp(
            "127.0.0.1",
            c.cc().bootstrapUri().getPort(),
            TlsContexts.client(List.of(c.ca().certificate()), null, null).getSocketFactory());
    try (RawHttp.Connection conn = raw.open()) {
      conn.send(head);
      if (body != null) {
        conn.send(body);
      }
      return "HTTP " + conn.answer(Duration.ofSeconds(60)).code();
    } catch (java.io.IOException e) {
      return "no answer: " + e;
    }
  }

  static String refusedUpgrade(Ctx c, EdgeIdentity id, SimulatedEdge.Options o) {
    try {
      SimulatedEdge e = SimulatedEdge.connect(c.cc().hubUri(), id, o);
      e.closeAbruptly();
      return "connected (should have been refused)";
    } catch (SimulatedEdge.ConnectException e) {
      return e.httpStatus() > 0 ? "HTTP " + e.httpStatus() : "TLS/connection refused";
    }
  }

  /**
   * Connects properly, does something bad, and reports whether the server closed the connection.
   */
  static String afterConnect(Ctx c, java.util.function.Consumer<SimulatedEdge> bad) {
    SimulatedEdge e = SimulatedEdge.connect(c.cc().hubUri(), c.cc().identity(c.node()));
    bad.accept(e);
    boolean closed = e.awaitClosed(T);
    e.closeAbruptly();
    return closed ? "closed by cloudcore" : "still open";
  }

  /**
   * A masked binary WebSocket frame whose header announces {@code announced} payload bytes, of
   * which only the first {@code sent} follow.
   */
  static byte[] frameAnnouncing(long announced, int sent) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(2 + 8 + 4 + sent);
    b.put((byte) 0x82); // FIN, binary
    b.put((byte) (0x80 | 127)); // masked, 64-bit length follows
    b.putLong(announced);
    b.put(new byte[] {0x11, 0x22, 0x33, 0x44}); // masking key
    return b.array();
  }

  private static String tail(String log) {
    return log.length() <= 4000 ? log : "…" + log.substring(log.length() - 4000);
  }

  static Message op(String operation) {
    return new Message(
        MessageHeader.create(),
        new MessageRoute("edged", "meta", operation, "default/pod/x"),
        null);
  }

  static List<Case> cases() {
    List<Case> t = new ArrayList<>();
    t.add(
        new Case(
            "no bearer token",
            "no bearer token",
            c -> "HTTP " + edgeCrt(c, c.node(), null, csr0(c.node()))));
    t.add(
        new Case(
            "garbage token",
            "malformed token",
            c -> "HTTP " + edgeCrt(c, c.node(), "not-a-jwt", csr0(c.node()))));
    t.add(
        new Case(
            "token of another cloudcore (wrong CA hash)",
            "token signature is invalid",
            c -> {
              CertificateAuthority other =
                  CertificateAuthority.create("KubeEdge", KeyPairs.ecP256(), Duration.ofDays(1));
              String foreign =
                  JoinToken.create(
                      other.certificate(),
                      HubPki.sec1(other.privateKey()),
                      Instant.now(),
                      Duration.ofHours(1));
              assertThat(foreign.split("\\.")[0])
                  .isNotEqualTo(JoinToken.caHash(c.ca().certificate()));
              return "HTTP " + edgeCrt(c, c.node(), foreign.split("\\.", 2)[1], csr0(c.node()));
            }));
    t.add(
        new Case(
            "expired token",
            "token expired",
            c -> {
              String old =
                  JoinToken.create(
                      c.ca().certificate(),
                      HubPki.sec1(c.ca().privateKey()),
                      Instant.now().minus(Duration.ofDays(2)),
                      Duration.ofHours(1));
              return "HTTP " + edgeCrt(c, c.node(), old.split("\\.", 2)[1], csr0(c.node()));
            }));
    t.add(
        new Case(
            "CSR for another node",
            "is not 'system:node:",
            c -> "HTTP " + edgeCrt(c, c.node(), c.jwt(), csr0("someone-else"))));
    t.add(
        new Case(
            "CSR body garbage",
            "not a DER certificate request",
            c -> "HTTP " + edgeCrt(c, c.node(), c.jwt(), "garbage".getBytes())));
    t.add(
        new Case(
            "headers that never end",
            "the request's headers did not arrive",
            c -> rawBootstrap(c, "GET /ca.crt HTTP/1.1\r\nHost: x\r\n", null)));
    t.add(
        new Case(
            "CSR body over the limit",
            "body larger than",
            c ->
                rawBootstrap(
                    c,
                    "GET /edge.crt HTTP/1.1\r\nHost: x\r\nNodeName: "
                        + c.node()
                        + "\r\nAuthorization: Bearer "
                        + c.jwt()
                        + "\r\nContent-Length: "
                        + (2 << 20)
                        + "\r\n\r\n",
                    new byte[2 << 20])));
    t.add(
        new Case(
            "no client certificate",
            "TLS handshake failed",
            c -> {
              try (javax.net.ssl.SSLSocket s =
                  (javax.net.ssl.SSLSocket)
                      TlsContexts.client(List.of(c.ca().certificate()), null, null)
                          .getSocketFactory()
                          .createSocket("127.0.0.1", c.cc().webSocketPort())) {
                s.startHandshake();
                // TLS 1.3: the refusal arrives with the first read
                s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
                s.getOutputStream().flush();
                return s.getInputStream().read() < 0 ? "TLS/connection refused" : "answered";
              } catch (java.io.IOException e) {
                return "TLS/connection refused";
              }
            }));
    t.add(
        new Case(
            "certificate of another node",
            "is not 'system:node:",
            c ->
                refusedUpgrade(
                    c,
                    c.cc().identity("someone-else").as(c.node()),
                    SimulatedEdge.Options.defaults(c.node()))));
    t.add(
        new Case(
            "expired certificate",
            "TLS handshake failed",
            c ->
                refusedUpgrade(
                    c,
                    EdgeIdentity.issue(
                        c.ca(), c.node(), "system:node:" + c.node(), Duration.ofDays(-1)),
                    SimulatedEdge.Options.defaults(c.node()))));
    t.add(
        new Case(
            "certificate from another CA",
            "TLS handshake failed",
            c -> {
              CertificateAuthority other =
                  CertificateAuthority.create("KubeEdge", KeyPairs.ecP256(), Duration.ofDays(1));
              EdgeIdentity foreign = EdgeIdentity.issue(other, c.node());
              return refusedUpgrade(
                  c,
                  new EdgeIdentity(
                      c.node(),
                      foreign.key(),
                      foreign.certificate(),
                      List.of(c.ca().certificate())),
                  SimulatedEdge.Options.defaults(c.node()));
            }));
    t.add(
        new Case(
            "missing node_id",
            "no node_id header",
            c ->
                refusedUpgrade(
                    c,
                    c.cc().identity(c.node()),
                    SimulatedEdge.Options.defaults(c.node()).withNodeIdHeader(null))));
    t.add(
        new Case(
            "missing ConnectionUse",
            "no ConnectionUse header",
            c ->
                refusedUpgrade(
                    c,
                    c.cc().identity(c.node()),
                    SimulatedEdge.Options.defaults(c.node()).withConnectionUse(null))));
    t.add(
        new Case(
            "invalid node_id",
            "is not a valid node name",
            c ->
                refusedUpgrade(
                    c,
                    c.cc().identity(c.node()),
                    SimulatedEdge.Options.defaults(c.node()).withNodeIdHeader("../../etc"))));
    t.add(
        new Case(
            "garbage frame",
            "invalid WebSocket frame",
            c ->
                afterConnect(
                    c,
                    e ->
                        e.sendRawBytes(
                            new byte[] {(byte) 0xff, 0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9}))));
    t.add(
        new Case(
            "invalid JSON",
            "not JSON",
            c -> afterConnect(c, e -> e.sendText("{\"header\": oops"))));
    t.add(
        new Case(
            "JSON that is no message",
            "must be a JSON object",
            c -> afterConnect(c, e -> e.sendText("\"just a string\""))));
    t.add(
        new Case(
            "unknown operation",
            "unknown operation 'explode'",
            c -> afterConnect(c, e -> e.send(op("explode")))));
    t.add(
        new Case(
            "10 MiB frame",
            "larger than maxMessageBytes",
            // The header announces 10 MiB; cloudcore must refuse on it, not wait for the payload
            // (sending all of it only made the test slow: 10 MiB of TLS on a busy machine).
            c -> afterConnect(c, e -> e.sendRawBytes(frameAnnouncing(10 << 20, 64 << 10)))));
    t.add(
        new Case(
            "message flood",
            "message flood",
            c ->
                afterConnect(
                    c,
                    e -> {
                      for (int i = 0; i < 5000 && e.isOpen(); i++) {
                        e.keepalive();
                      }
                    })));
    return t;
  }

  private static byte[] csr0(String node) {
    try {
      return csr("system:node:" + node);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void everyBadInputIsRefusedOnceAndOthersAreUnaffected(ControlPlane plane, @TempDir Path dir) {
    try (CloudCoreProcess cc =
        CloudCoreProcess.start(
            plane,
            dir,
            "modules.cloudHub.messageRateLimit=200",
            "modules.cloudHub.messageBurst=400")) {
      CertificateAuthority ca = cc.ca();
      String jwt = cc.token().split("\\.", 2)[1];
      String suffix = Long.toString(System.nanoTime() % 1_000_000, 36);
      SimulatedEdge bystander =
          SimulatedEdge.connect(cc.hubUri(), cc.identity("bystander-" + suffix));
      List<Case> table = cases();
      assertThat(table).hasSizeGreaterThanOrEqualTo(15);
      List<String> report = new ArrayList<>();
      int n = 0;
      for (Case k : table) {
        String node = "bad-" + suffix + "-" + n++;
        int before = cc.log().length();
        String outcome = k.attempt().apply(new Ctx(cc, ca, jwt, node));
        assertThat(outcome)
            .as(
                () ->
                    k.name() + "; cloudcore's log meanwhile:\n" + tail(cc.log().substring(before)))
            .isIn(
                "HTTP 400",
                "HTTP 401",
                "HTTP 403",
                "HTTP 408",
                "HTTP 413",
                "TLS/connection refused",
                "closed by cloudcore");
        Waits.until(
            "log line for " + k.name(), T, () -> cc.log().substring(before).contains(k.logText()));
        // one line, and it names the problem
        List<String> lines =
            cc.log().substring(before).lines().filter(l -> l.contains("refused")).toList();
        assertThat(lines).as("log lines for case '%s'", k.name()).hasSize(1);
        assertThat(lines.get(0)).contains(k.logText());
        // the node connected all along is not affected
        Message q =
            bystander.request(
                SimulatedEdge.query("kube-node-lease/lease/" + "bystander-" + suffix), T);
        assertThat(q.operation()).isEqualTo("response");
        bystander.keepalive();
        report.add(
            String.format(
                "%-45s %-24s %s",
                k.name(), outcome, lines.get(0).replaceAll("^.*?cloudhub: ", "")));
      }
      assertThat(bystander.isOpen()).isTrue();
      assertThat(cc.process().isAlive()).isTrue();
      assertThat(cc.forbiddenLines()).isEmpty();
      System.out.println("bad-input table:\n" + String.join("\n", report));
    }
  }
}
