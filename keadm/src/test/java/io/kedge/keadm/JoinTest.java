package io.kedge.keadm;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.pki.TlsContexts;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code keadm join} against a stand-in certificate server: a token for another CA, or one the
 * cloud rejects, is reported in one line and leaves nothing behind.
 */
class JoinTest {
  static final String JWT = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln";

  HttpsServer server;
  String caHash;

  @BeforeEach
  void startServer() throws Exception {
    CertificateAuthority ca =
        CertificateAuthority.create("KubeEdge", KeyPairs.ecP256(), Duration.ofDays(1));
    KeyPair serverKey = KeyPairs.ecP256();
    var cert =
        ca.issue(
            CertSpec.server("cloudcore", List.of("127.0.0.1"), List.of(), Duration.ofDays(1)),
            serverKey.getPublic());
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(
        TlsContexts.keyManagers(serverKey.getPrivate(), List.of(cert, ca.certificate()))
            .getKeyManagers(),
        null,
        null);
    byte[] caDer = ca.certificate().getEncoded();
    caHash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(caDer));
    server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    server.createContext(
        "/ca.crt",
        ex -> {
          ex.sendResponseHeaders(200, caDer.length);
          ex.getResponseBody().write(caDer);
          ex.close();
        });
    server.createContext(
        "/edge.crt",
        ex -> {
          ex.getRequestBody().readAllBytes();
          byte[] body = "token is invalid or expired".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(401, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    server.start();
  }

  @AfterEach
  void stopServer() {
    server.stop(0);
  }

  KeadmRun join(Path root, String token) {
    int port = server.getAddress().getPort();
    return KeadmRun.run(
        "join",
        "--cloudcore-ipport=127.0.0.1:" + port,
        "--certport=" + port,
        "--token=" + token,
        "--edgenode-name=edge-1",
        "--root-dir",
        root.toString());
  }

  @Test
  void aTokenForAnotherCaIsRefused(@TempDir Path root) {
    KeadmRun r = join(root, "0".repeat(64) + "." + JWT);
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip().lines()).hasSize(1);
    assertThat(r.err())
        .contains("cannot obtain the node's certificate")
        .contains("wrong token or wrong server");
    assertThat(root.resolve("etc/kubeedge/config/edgecore.yaml")).doesNotExist();
  }

  @Test
  void aTokenTheCloudRejectsIsReported(@TempDir Path root) throws Exception {
    KeadmRun r = join(root, caHash + "." + JWT);
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("HTTP 401").contains("token is invalid or expired");
    assertThat(root.resolve("etc/kubeedge/config/edgecore.yaml")).doesNotExist();
    assertThat(Files.exists(root.resolve("etc/kubeedge/ca/rootCA.crt"))).isFalse();
    // Nothing left behind: join can run again.
    assertThat(join(root, caHash + "." + JWT).err()).doesNotContain("not clean");
  }
}
