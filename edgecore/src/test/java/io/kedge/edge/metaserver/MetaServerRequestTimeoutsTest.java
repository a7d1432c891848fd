package io.kedge.edge.metaserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.auth.Authenticator;
import io.kedge.edge.auth.Authorizer;
import io.kedge.edge.metamanager.ScriptedCloudLink;
import io.kedge.edge.store.ResourceCatalog;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.pki.TlsContexts;
import io.kedge.protocol.Json;
import io.kedge.testkit.RawHttp;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * MetaServer over real loopback sockets times out what it waits for — a request's headers, its body
 * — and answers a body over the limit with a 413 {@code Status} the client gets to read; responses
 * (a watch) are not cut by these timeouts. The timeouts are shortened to a second here; every wait
 * in the test is an upper bound well above them.
 */
class MetaServerRequestTimeoutsTest {
  static final String CMS = "/api/v1/namespaces/a/configmaps";
  static final Duration HEADER = Duration.ofSeconds(1);
  static final Duration BODY = Duration.ofSeconds(1);
  static final Duration IDLE = Duration.ofSeconds(2);
  static final Duration WAIT = Duration.ofSeconds(20);
  static final int LIMIT = 64 * 1024;

  @TempDir Path dir;
  MetaServerRig rig;
  RawHttp raw;

  @BeforeEach
  void start() {
    rig =
        new MetaServerRig(
            dir,
            MetaServerSettings.defaults("edge-1")
                .withPort(0)
                .withMaxRequestBytes(LIMIT)
                .withBookmarkInterval(Duration.ofMillis(300))
                .withRequestTimeouts(HEADER, BODY, IDLE));
    raw = new RawHttp("127.0.0.1", rig.server.address().getPort());
  }

  @AfterEach
  void stop() {
    rig.close();
  }

  static JsonNode status(RawHttp.Answer a, int code, String reason) {
    assertThat(a.code()).as(a.text()).isEqualTo(code);
    assertThat(a.headers().get("content-type")).startsWith("application/json");
    JsonNode s = Json.parse(a.text());
    assertThat(s.path("kind").asString()).isEqualTo("Status");
    assertThat(s.path("status").asString()).isEqualTo("Failure");
    assertThat(s.path("code").asInt()).isEqualTo(code);
    assertThat(s.path("reason").asString()).isEqualTo(reason);
    return s;
  }

  @Test
  void headersThatNeverEndGetA408AndTheConnectionIsClosed() throws Exception {
    try (RawHttp.Connection c = raw.open()) {
      c.send("GET " + CMS + " HTTP/1.1\r\nHost: x\r\n"); // no blank line: the head never ends
      RawHttp.Answer a = c.answer(WAIT);
      assertThat(status(a, 408, "Timeout").path("message").asString())
          .isEqualTo("the request's headers did not arrive within 1s");
      assertThat(a.closed()).isTrue();
      assertThat(c.closedWithin(WAIT)).isTrue();
    }
  }

  @Test
  void headersTrickledInAreTimedFromTheirFirstByteNotFromTheLastOne() throws Exception {
    try (RawHttp.Connection c = raw.open()) {
      c.send("GET " + CMS + " HTTP/1.1\r\nHost: x\r\n");
      // a header line every 300 ms for 15 s: never idle for a second, never finished
      Thread drip =
          new Thread(
              () -> {
                try {
                  for (int i = 0; i < 50; i++) {
                    c.send("X-Drip-" + i + ": x\r\n");
                    Thread.sleep(300);
                  }
                } catch (Exception e) {
                  // the server hung up
                }
              });
      drip.setDaemon(true);
      drip.start();
      RawHttp.Answer a = c.answer(WAIT);
      assertThat(drip.isAlive()).as("answered while the client still trickles").isTrue();
      status(a, 408, "Timeout");
      assertThat(c.closedWithin(WAIT)).isTrue();
    }
  }

  @Test
  void aConnectionThatSendsNothingIsClosedWithoutAnAnswer() throws Exception {
    try (RawHttp.Connection c = raw.open()) {
      assertThat(c.closedWithin(WAIT)).isTrue();
    }
  }

  @Test
  void aBodyShorterThanItsContentLengthGetsA408() throws Exception {
    try (RawHttp.Connection c = raw.open()) {
      c.send(
          "POST "
              + CMS
              + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              + "Content-Length: 100\r\n\r\n{\"metadata\":");
      RawHttp.Answer a = c.answer(WAIT);
      assertThat(status(a, 408, "Timeout").path("message").asString())
          .isEqualTo("the request's body did not arrive within 1s");
      assertThat(c.closedWithin(WAIT)).isTrue();
    }
    assertThat(rig.cloud.applications).as("nothing reached the cloud").isEmpty();
  }

  @Test
  void aKeptAliveConnectionServesRequestsAndIsClosedWhenIdle() throws Exception {
    rig.cloud.put("a", "c1", "k", "1");
    try (RawHttp.Connection c = raw.open()) {
      for (int i = 0; i < 3; i++) {
        c.send("GET " + CMS + "/c1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(c.answer(WAIT).code()).isEqualTo(200);
        Thread.sleep(500); // shorter than the idle timeout; the three together are longer
      }
      assertThat(c.closedWithin(WAIT)).isTrue();
    }
  }

  @Test
  void aWatchOutlivesEveryRequestTimeout() throws Exception {
    rig.cloud.put("a", "c1", "k", "1");
    try (MetaServerRig.Stream w = rig.watch(CMS + "?watch=true&resourceVersion=0")) {
      assertThat(w.nextChange().path("type").asString()).isEqualTo("ADDED");
      Thread.sleep(HEADER.plus(BODY).plus(IDLE).toMillis() + 1000);
      rig.cloud.put("a", "c1", "k", "2");
      JsonNode m = w.nextChange();
      assertThat(m.path("type").asString()).isEqualTo("MODIFIED");
      assertThat(w.ended).isFalse();
    }
  }

  @Test
  void aBodyOverTheLimitIsAnswered413AndTheClientGetsToReadIt() throws Exception {
    byte[] body = new byte[8 << 20];
    java.util.Arrays.fill(body, (byte) 'x');
    try (RawHttp.Connection c = raw.open()) {
      c.send(
          "POST "
              + CMS
              + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
              + body.length
              + "\r\n\r\n");
      c.sendInBackground(body);
      // the client is busy sending for a while before it reads: the answer must still be there
      Thread.sleep(500);
      RawHttp.Answer a = c.answer(WAIT);
      assertThat(status(a, 413, "RequestEntityTooLarge").path("message").asString())
          .isEqualTo("Request entity too large: limit is " + LIMIT);
      assertThat(a.closed()).isTrue();
      assertThat(c.closedWithin(WAIT)).isTrue();
    }
  }

  @Test
  void aChunkedBodyOverTheLimitIsAnswered413() throws Exception {
    StringBuilder chunks = new StringBuilder();
    String chunk = "x".repeat(8192);
    for (int i = 0; i < 3 * LIMIT / chunk.length(); i++) {
      chunks
          .append(Integer.toHexString(chunk.length()))
          .append("\r\n")
          .append(chunk)
          .append("\r\n");
    }
    chunks.append("0\r\n\r\n");
    RawHttp.Answer a =
        raw.exchange(
            "POST "
                + CMS
                + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n",
            chunks.toString().getBytes(StandardCharsets.US_ASCII));
    status(a, 413, "RequestEntityTooLarge");
  }

  /**
   * A client that writes its whole body before it reads (as most do) over HTTPS, where a write that
   * fails closes the TLS connection: it reads the 413 only if MetaServer keeps reading while the
   * body still arrives.
   */
  @Test
  void anHttpsClientThatSendsItsWholeBodyFirstStillReadsThe413() throws Exception {
    CertificateAuthority ca =
        CertificateAuthority.create("test-ca", KeyPairs.ecP256(), Duration.ofDays(1));
    KeyPair key = KeyPairs.ecP256();
    X509Certificate cert =
        ca.issue(
            CertSpec.server("metaserver", List.of("127.0.0.1"), List.of(), Duration.ofDays(1)),
            key.getPublic());
    SslContext ssl = SslContextBuilder.forServer(key.getPrivate(), cert).build();
    SqliteStore store =
        SqliteStore.open(StoreSettings.defaults(dir.resolve("tls.db")).withFsync(false));
    ScriptedCloudLink link =
        new ScriptedCloudLink(m -> CompletableFuture.failedFuture(new IllegalStateException()));
    link.setConnected(false);
    MetaServer server =
        new MetaServer(
            MetaServerSettings.defaults("edge-1").withPort(0).withMaxRequestBytes(LIMIT),
            store,
            new ResourceCatalog(store),
            link,
            header -> Authenticator.Authentication.anonymous(),
            attributes -> Authorizer.Decision.ALLOW,
            () -> ssl);
    server.start();
    try {
      RawHttp https =
          new RawHttp(
              "127.0.0.1",
              server.address().getPort(),
              TlsContexts.client(List.of(ca.certificate()), null, null).getSocketFactory());
      byte[] body = new byte[4 << 20];
      java.util.Arrays.fill(body, (byte) 'x');
      try (RawHttp.Connection c = https.open()) {
        c.send(
            "POST "
                + CMS
                + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length
                + "\r\n\r\n");
        c.send(body);
        RawHttp.Answer a = c.answer(WAIT);
        status(a, 413, "RequestEntityTooLarge");
      }
    } finally {
      server.close();
      store.close();
    }
  }
}
