package io.kedge.edge.hub;

import io.kedge.pki.KeyPairs;
import io.kedge.pki.Pem;
import io.kedge.pki.TlsContexts;
import io.kedge.protocol.config.EdgeCoreConfig.EdgeHubConfig;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Obtains the edge's client certificate from the cloud's HTTPS server ({@code httpServer}, :10002)
 * as KubeEdge does: {@code GET /ca.crt} without verification, pinned by the join token's hash; then
 * {@code GET /edge.crt} with a DER CSR body, {@code NodeName} and the token's JWT, verifying the
 * server against that CA. Rotation uses the same endpoint authenticated by the current certificate.
 * Blocking; called from EdgeHub's connect thread.
 */
public final class CertificateBootstrap {
  static final int DEFAULT_PORT = 10002;
  private static final int MAX_BODY = 1 << 20;

  private final URI server;
  private final String node;
  private final Duration timeout;

  public CertificateBootstrap(URI server, String node, Duration timeout) {
    this.server = server;
    this.node = node;
    this.timeout = timeout;
  }

  /**
   * {@code httpServer} from the config; when empty, the WebSocket server's host on port 10002 (the
   * only place KubeEdge's cloud serves certificates).
   */
  public static URI serverUri(EdgeHubConfig config) {
    String s = config.httpServer() == null ? "" : config.httpServer().strip();
    if (s.isEmpty()) {
      URI ws = URI.create("wss://" + config.websocket().server());
      if (ws.getHost() == null) {
        throw new BootstrapException(
            "neither modules.edgeHub.httpServer nor modules.edgeHub.websocket.server is set");
      }
      return URI.create("https://" + hostForUri(ws.getHost()) + ":" + DEFAULT_PORT);
    }
    if (!s.contains("://")) {
      s = "https://" + s;
    }
    URI u = URI.create(s);
    if (!"https".equals(u.getScheme()) || u.getHost() == null) {
      throw new BootstrapException(
          "modules.edgeHub.httpServer must be https://HOST:PORT, not " + s);
    }
    return u;
  }

  private static String hostForUri(String host) {
    return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
  }

  public URI server() {
    return server;
  }

  /** First certificate, authorized by the join token. */
  public EdgeCredentials join(JoinToken token) {
    byte[] caDer = fetchCa();
    String hash = sha256Hex(caDer);
    if (!hash.equals(token.caHash())) {
      throw new BootstrapException(
          "refusing to join: the CA certificate served by "
              + server
              + " has sha256 "
              + hash
              + " but the join token expects "
              + token.caHash()
              + " (wrong token or wrong server)");
    }
    X509Certificate ca;
    try {
      ca = Pem.certificateFromDer(caDer);
    } catch (IllegalArgumentException e) {
      throw new BootstrapException(server + "/ca.crt is not a DER certificate", e);
    }
    KeyPair key = KeyPairs.ecP256();
    SSLContext tls = TlsContexts.client(List.of(ca), null, null);
    X509Certificate cert = requestCertificate(tls, key, "Bearer " + token.jwt());
    return checked(new EdgeCredentials(ca, cert, key.getPrivate()));
  }

  /** A new key and certificate, authenticated by the current certificate (mutual TLS). */
  public EdgeCredentials rotate(EdgeCredentials current) {
    KeyPair key = KeyPairs.ecP256();
    SSLContext tls =
        TlsContexts.client(List.of(current.ca()), current.key(), List.of(current.certificate()));
    X509Certificate cert = requestCertificate(tls, key, null);
    return checked(new EdgeCredentials(current.ca(), cert, key.getPrivate()));
  }

  private EdgeCredentials checked(EdgeCredentials c) {
    if (!c.consistent()) {
      throw new BootstrapException(
          server + " returned a certificate that is not for this key or not issued by its CA");
    }
    if (!c.isFor(node)) {
      throw new BootstrapException(
          server
              + " returned a certificate for '"
              + c.commonName()
              + "', expected '"
              + EdgeCredentials.commonNameFor(node)
              + "'");
    }
    return c;
  }

  byte[] fetchCa() {
    HttpsExchange.Response resp = send(insecureContext(), "/ca.crt", Map.of(), null);
    if (resp.status() != 200) {
      throw new BootstrapException(
          "GET " + server + "/ca.crt answered HTTP " + resp.status() + summary(resp.body()));
    }
    return resp.body();
  }

  private X509Certificate requestCertificate(SSLContext tls, KeyPair key, String authorization) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("NodeName", node);
    headers.put("Content-Type", "application/octet-stream");
    if (authorization != null) {
      headers.put("Authorization", authorization);
    }
    // GET with a body, as KubeEdge's edge sends it and its cloud expects.
    HttpsExchange.Response resp = send(tls, "/edge.crt", headers, csr(key));
    if (resp.status() != 200) {
      throw new BootstrapException(
          "the cloud refused a certificate for node "
              + node
              + ": GET "
              + server
              + "/edge.crt answered HTTP "
              + resp.status()
              + summary(resp.body()));
    }
    try {
      return Pem.certificateFromDer(resp.body());
    } catch (IllegalArgumentException e) {
      throw new BootstrapException(server + "/edge.crt did not return a DER certificate", e);
    }
  }

  /** DER PKCS#10 request: {@code O=system:nodes, CN=system:node:<node>}, ECDSA P-256. */
  byte[] csr(KeyPair key) {
    X500NameBuilder subject = new X500NameBuilder(BCStyle.INSTANCE);
    subject.addRDN(BCStyle.O, "system:nodes");
    subject.addRDN(BCStyle.CN, EdgeCredentials.commonNameFor(node));
    try {
      return new JcaPKCS10CertificationRequestBuilder(subject.build(), key.getPublic())
          .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate()))
          .getEncoded();
    } catch (OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot build a certificate request", e);
    }
  }

  private HttpsExchange.Response send(
      SSLContext tls, String what, Map<String, String> headers, byte[] body) {
    try {
      return HttpsExchange.send(tls, server.resolve(what), "GET", headers, body, timeout, MAX_BODY);
    } catch (HttpsExchange.ConnectTimeoutException e) {
      throw new BootstrapException("cannot reach " + server + ": connect timed out", e);
    } catch (SocketTimeoutException e) {
      throw new BootstrapException(server + what + " did not answer within " + timeout, e);
    } catch (HttpsExchange.OversizedException e) {
      throw new BootstrapException(server + what + " answered with an oversized body", e);
    } catch (ConnectException e) {
      throw new BootstrapException("cannot reach " + server + ": connection refused", e);
    } catch (SSLException e) {
      throw new BootstrapException(
          "TLS with " + server + " failed: " + rootMessage(e) + " (is the join token current?)", e);
    } catch (IOException e) {
      throw new BootstrapException("cannot reach " + server + ": " + rootMessage(e), e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  private static String summary(byte[] body) {
    if (body == null || body.length == 0) {
      return "";
    }
    String s = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8).strip();
    s = s.lines().findFirst().orElse("");
    return s.isEmpty() ? "" : ": " + s;
  }

  static String sha256Hex(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Accepts any server: only for {@code /ca.crt}, whose content the token's hash then pins. */
  private static SSLContext insecureContext() {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new javax.net.ssl.TrustManager[] {new TrustAnyServer()}, new SecureRandom());
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Extended, so that the JDK does not add its own host name check on top (the CA is pinned by hash
   * instead).
   */
  private static final class TrustAnyServer extends javax.net.ssl.X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(
        X509Certificate[] chain, String authType, java.net.Socket socket) {}

    @Override
    public void checkServerTrusted(
        X509Certificate[] chain, String authType, java.net.Socket socket) {}

    @Override
    public void checkClientTrusted(
        X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine) {}

    @Override
    public void checkServerTrusted(
        X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
