package io.kedge.edge.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.kedge.pki.TlsContexts;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * CloudHub's certificate server (:10002) for tests: {@code /ca.crt} (DER) and {@code /edge.crt}
 * (DER CSR in a GET body; JWT or client certificate), issuing certificates valid for {@link
 * #validity}.
 */
public final class TestBootstrapServer implements AutoCloseable {
  public static final String JWT = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjR9.c2ln";

  /** What one {@code /edge.crt} call carried. */
  public record CertRequest(
      String method,
      String nodeName,
      String authorization,
      String clientCn,
      String subject,
      int bodyBytes) {}

  private final TestPki pki;
  private final HttpsServer server;
  public final List<CertRequest> requests = new CopyOnWriteArrayList<>();
  public final Map<String, Integer> hits = new ConcurrentHashMap<>();
  public volatile Duration validity = Duration.ofDays(365);
  public volatile byte[] servedCa;

  public TestBootstrapServer(TestPki pki) throws IOException {
    this.pki = pki;
    this.servedCa = der(pki.ca.certificate());
    server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    SSLContext tls = serverContext(pki);
    server.setHttpsConfigurator(
        new HttpsConfigurator(tls) {
          @Override
          public void configure(HttpsParameters params) {
            SSLParameters p = tls.getDefaultSSLParameters();
            p.setWantClientAuth(true);
            params.setSSLParameters(p);
          }
        });
    server.setExecutor(Executors.newFixedThreadPool(2));
    server.createContext("/ca.crt", this::ca);
    server.createContext("/edge.crt", this::edgeCert);
    server.start();
  }

  public static SSLContext serverContext(TestPki pki) {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(
          TlsContexts.keyManagers(pki.serverKey, List.of(pki.serverCert, pki.ca.certificate()))
              .getKeyManagers(),
          TlsContexts.trustManagers(List.of(pki.ca.certificate())).getTrustManagers(),
          null);
      return ctx;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static byte[] der(X509Certificate c) {
    try {
      return c.getEncoded();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public URI uri() {
    return URI.create("https://127.0.0.1:" + server.getAddress().getPort());
  }

  public String token() {
    return CertificateBootstrap.sha256Hex(der(pki.ca.certificate())) + "." + JWT;
  }

  private void ca(HttpExchange ex) throws IOException {
    hits.merge("/ca.crt", 1, Integer::sum);
    reply(ex, 200, servedCa);
  }

  private void edgeCert(HttpExchange ex) throws IOException {
    hits.merge("/edge.crt", 1, Integer::sum);
    byte[] body = ex.getRequestBody().readAllBytes();
    String clientCn = null;
    try {
      Certificate[] peer = ((HttpsExchange) ex).getSSLSession().getPeerCertificates();
      clientCn = EdgeCredentials.commonName((X509Certificate) peer[0]);
    } catch (SSLPeerUnverifiedException e) {
      // no client certificate: must be a token request
    }
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    String nodeName = ex.getRequestHeaders().getFirst("NodeName");
    PKCS10CertificationRequest csr;
    try {
      csr = new PKCS10CertificationRequest(body);
    } catch (Exception e) {
      reply(ex, 400, "bad csr".getBytes(StandardCharsets.UTF_8));
      return;
    }
    requests.add(
        new CertRequest(
            ex.getRequestMethod(),
            nodeName,
            auth,
            clientCn,
            csr.getSubject().toString(),
            body.length));
    boolean tokenOk = ("Bearer " + JWT).equals(auth);
    boolean certOk = clientCn != null && clientCn.equals("system:node:" + nodeName);
    if (!tokenOk && !certOk) {
      reply(ex, 401, "invalid token\n".getBytes(StandardCharsets.UTF_8));
      return;
    }
    try {
      X509Certificate cert =
          pki.issueClient(
              csr.getSubject(), new JcaPKCS10CertificationRequest(csr).getPublicKey(), validity);
      reply(ex, 200, der(cert));
    } catch (Exception e) {
      reply(ex, 500, e.toString().getBytes(StandardCharsets.UTF_8));
    }
  }

  private static void reply(HttpExchange ex, int code, byte[] body) throws IOException {
    ex.sendResponseHeaders(code, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
