package io.kedge.edge.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateBootstrapTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @TempDir Path dir;
  TestPki pki;
  TestBootstrapServer server;

  @BeforeEach
  void start() throws Exception {
    pki = new TestPki();
    server = new TestBootstrapServer(pki);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void joinsWithTheTokenAndStoresPemFiles() throws Exception {
    CertificateBootstrap b = new CertificateBootstrap(server.uri(), "edge-1", TIMEOUT);
    EdgeCredentials c = b.join(JoinToken.parse(server.token()));

    assertThat(c.ca()).isEqualTo(pki.ca.certificate());
    assertThat(c.commonName()).isEqualTo("system:node:edge-1");
    assertThat(c.consistent()).isTrue();
    TestBootstrapServer.CertRequest r = server.requests.get(0);
    assertThat(r.method()).isEqualTo("GET");
    assertThat(r.nodeName()).isEqualTo("edge-1");
    assertThat(r.authorization()).isEqualTo("Bearer " + TestBootstrapServer.JWT);
    assertThat(r.clientCn()).isNull();
    assertThat(r.subject()).isEqualTo("O=system:nodes,CN=system:node:edge-1");

    CertificateFiles files =
        new CertificateFiles(
            dir.resolve("ca/rootCA.crt"),
            dir.resolve("certs/server.crt"),
            dir.resolve("certs/server.key"));
    files.store(c);
    assertThat(Files.readString(files.caFile())).startsWith("-----BEGIN CERTIFICATE-----");
    assertThat(Files.readString(files.certFile())).startsWith("-----BEGIN CERTIFICATE-----");
    assertThat(Files.readString(files.keyFile())).startsWith("-----BEGIN EC PRIVATE KEY-----");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(files.keyFile())))
        .isEqualTo("rw-------");
    EdgeCredentials back = files.load().orElseThrow();
    assertThat(back.certificate()).isEqualTo(c.certificate());
    assertThat(back.consistent()).isTrue();
    try (var s = Files.list(dir.resolve("certs"))) {
      assertThat(s.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("server.crt", "server.key");
    }
  }

  @Test
  void refusesACaThatDoesNotMatchTheTokenHash() {
    server.servedCa = TestBootstrapServer.der(new TestPki().ca.certificate());
    CertificateBootstrap b = new CertificateBootstrap(server.uri(), "edge-1", TIMEOUT);
    assertThatThrownBy(() -> b.join(JoinToken.parse(server.token())))
        .isInstanceOf(BootstrapException.class)
        .hasMessageContaining("refusing to join")
        .hasMessageContaining("join token expects");
    assertThat(server.hits).doesNotContainKey("/edge.crt");
  }

  @Test
  void reportsARejectedTokenClearly() {
    CertificateBootstrap b = new CertificateBootstrap(server.uri(), "edge-1", TIMEOUT);
    String caHash = server.token().substring(0, 64);
    assertThatThrownBy(() -> b.join(JoinToken.parse(caHash + ".aaa.bbb.ccc")))
        .isInstanceOf(BootstrapException.class)
        .hasMessageContaining("HTTP 401")
        .hasMessageContaining("invalid token");
  }

  @Test
  void verifiesTheServerAgainstTheCaIncludingItsAddress() throws Exception {
    // The same CA, but a server certificate for another IP: the edge must not send its CSR there.
    TestPki other = new TestPki("10.9.9.9");
    try (TestBootstrapServer wrongHost = new TestBootstrapServer(other)) {
      CertificateBootstrap b = new CertificateBootstrap(wrongHost.uri(), "edge-1", TIMEOUT);
      assertThatThrownBy(() -> b.join(JoinToken.parse(wrongHost.token())))
          .isInstanceOf(BootstrapException.class)
          .hasMessageContaining("TLS with");
      assertThat(wrongHost.requests).isEmpty();
    }
  }

  @Test
  void rotatesOverMutualTlsWithoutToken() {
    CertificateBootstrap b = new CertificateBootstrap(server.uri(), "edge-1", TIMEOUT);
    EdgeCredentials first = b.join(JoinToken.parse(server.token()));
    EdgeCredentials second = b.rotate(first);

    assertThat(second.certificate().getSerialNumber())
        .isNotEqualTo(first.certificate().getSerialNumber());
    assertThat(second.key()).isNotEqualTo(first.key());
    assertThat(second.isFor("edge-1")).isTrue();
    TestBootstrapServer.CertRequest r = server.requests.get(1);
    assertThat(r.authorization()).isNull();
    assertThat(r.clientCn()).isEqualTo("system:node:edge-1");
  }

  @Test
  void refusesACertificateForAnotherNode() {
    CertificateBootstrap edge1 = new CertificateBootstrap(server.uri(), "edge-1", TIMEOUT);
    EdgeCredentials c = edge1.join(JoinToken.parse(server.token()));
    // The server issues what the CSR asks; a client asking as edge-2 with edge-1's cert is refused
    // by the server (401), and nothing is stored.
    CertificateBootstrap edge2 = new CertificateBootstrap(server.uri(), "edge-2", TIMEOUT);
    assertThatThrownBy(() -> edge2.rotate(c)).hasMessageContaining("HTTP 401");
  }

  @Test
  void unreachableServerIsOneClearError() {
    CertificateBootstrap b =
        new CertificateBootstrap(java.net.URI.create("https://127.0.0.1:1"), "edge-1", TIMEOUT);
    assertThatThrownBy(() -> b.join(JoinToken.parse(server.token())))
        .isInstanceOf(BootstrapException.class)
        .hasMessageContaining("cannot reach https://127.0.0.1:1");
  }
}
