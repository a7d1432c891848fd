package io.kedge.cloud.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.pki.TlsContexts;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.http.RequestDeadlines;
import io.kedge.testkit.RawHttp;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The certificate bootstrap port (:10002) over real TLS sockets times out requests that do not
 * arrive — headers, a body shorter than announced, nothing at all — and answers a body over its
 * limit with a 413 the client gets to read. Timeouts shortened to a second; waits are upper bounds.
 */
class BootstrapServerTimeoutsTest {
  static final Duration WAIT = Duration.ofSeconds(20);

  private final CertificateAuthority ca =
      CertificateAuthority.create("KubeEdge", KeyPairs.ecP256(), Duration.ofDays(100));
  private final ExecutorService blocking = Executors.newSingleThreadExecutor();
  private BootstrapServer server;
  private RawHttp raw;

  @BeforeEach
  void start() {
    var cfg =
        CloudCoreConfig.load(
                null,
                List.of(
                    "modules.cloudHub.https.address=127.0.0.1", "modules.cloudHub.https.port=0"))
            .config()
            .modules()
            .cloudHub();
    KeyPair k = KeyPairs.ecP256();
    X509Certificate cert =
        ca.issue(
            CertSpec.server("KubeEdge", List.of("127.0.0.1"), List.of(), Duration.ofDays(10)),
            k.getPublic());
    server =
        new BootstrapServer(
            cfg,
            new HubTls(ca, cert, k.getPrivate()),
            node -> Optional.of(true),
            blocking,
            Clock.systemUTC(),
            new RequestDeadlines.Timeouts(
                Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(2)));
    server.start();
    raw =
        new RawHttp(
            "127.0.0.1",
            server.address().getPort(),
            TlsContexts.client(List.of(ca.certificate()), null, null).getSocketFactory());
  }

  @AfterEach
  void stop() {
    server.close();
    blocking.shutdownNow();
  }

  @Test
  void headersThatNeverEndGetA408() throws Exception {
    try (RawHttp.Connection c = raw.open()) {
      c.send("GET /ca.crt HTTP/1.1\r\nHost: x\r\n");
      RawHttp.Answer a = c.answer(WAIT);
      assertThat(a.code()).isEqualTo(408);
      assertThat(a.text()).isEqualTo("the request's headers did not arrive within 1s\n");
      assertThat(c.closedWithin(WAIT)).isTrue();
    }
  }

  @Test
  void headersTrickledInAreTimedFromTheirFirstByte() throws Exception {
    try (RawHttp.Connection c = raw.open()) {
      c.send("GET /ca.crt HTTP/1.1\r\n");
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
      assertThat(a.code()).isEqualTo(408);
    }
  }

  @Test
  void aBodyShorterThanItsContentLengthGetsA408() throws Exception {
    try (RawHttp.Connection c = raw.open()) {
      c.send("GET /edge.crt HTTP/1.1\r\nHost: x\r\nNodeName: n1\r\nContent-Length: 500\r\n\r\nab");
      RawHttp.Answer a = c.answer(WAIT);
      assertThat(a.code()).isEqualTo(408);
      assertThat(a.text()).isEqualTo("the request's body did not arrive within 1s\n");
      assertThat(c.closedWithin(WAIT)).isTrue();
    }
  }

  @Test
  void aConnectionThatSendsNothingIsClosed() throws Exception {
    try (RawHttp.Connection c = raw.open()) {
      assertThat(c.closedWithin(WAIT)).isTrue();
    }
  }

  @Test
  void aKeptAliveConnectionIsClosedWhenIdle() throws Exception {
    try (RawHttp.Connection c = raw.open()) {
      for (int i = 0; i < 3; i++) {
        c.send("GET /ca.crt HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(c.answer(WAIT).code()).isEqualTo(200);
        Thread.sleep(500);
      }
      assertThat(c.closedWithin(WAIT)).isTrue();
    }
  }

  @Test
  void aBodyOverTheLimitIsAnswered413AndTheClientGetsToReadIt() throws Exception {
    byte[] body = new byte[4 << 20];
    Arrays.fill(body, (byte) 'x');
    try (RawHttp.Connection c = raw.open()) {
      c.send(
          "GET /edge.crt HTTP/1.1\r\nHost: x\r\nNodeName: n1\r\nContent-Length: "
              + body.length
              + "\r\n\r\n");
      c.send(body); // all of it before reading, as most clients do
      RawHttp.Answer a = c.answer(WAIT);
      assertThat(a.code()).isEqualTo(413);
      assertThat(a.text())
          .isEqualTo("Request entity too large: limit is " + BootstrapServer.MAX_CSR_BYTES + "\n");
      assertThat(a.closed()).isTrue();
    }
  }
}
