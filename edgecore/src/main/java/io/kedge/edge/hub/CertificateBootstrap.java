package io.kedge.edge.hub;

import io.kedge.pki.KeyPairs;
import io.kedge.pki.Pem;
import io.kedge.pki.TlsContexts;
import io.kedge.protocol.config.CloudAddresses;
import io.kedge.protocol.config.ConfigException;
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
 * With several cloudcores (Kedge) each server is asked in turn, starting with the one the node's
 * name picks, until one answers. Blocking; called from EdgeHub's connect thread.
 */
public final class CertificateBootstrap {
  static final int DEFAULT_PORT = 10002;
  private static final int MAX_BODY = 1 << 20;

  private final List<URI> servers;
  private final String node;
  private final Duration timeout;
  private volatile URI server;

  public CertificateBootstrap(URI server, String node, Duration timeout) {
    this(List.of(server), node, timeout);
  }

  /**
   * @param servers the certificate servers of the cloudcores, tried in turn
   */
  public CertificateBootstrap(List<URI> servers, String node, Duration timeout) {
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("no certificate server");
    }
    this.servers = List.copyOf(servers);
    this.node = node;
    this.timeout = timeout;
    this.server = this.servers.get(Math.floorMod(node.hashCode(), this.servers.size()));
  }

  /**
   * {@code httpServer} from the config; when empty, the WebSocket server's host on port 10002 (the
   * only place KubeEdge's cloud serves certificates). With several (Kedge), the first.
   */
  public static URI serverUri(EdgeHubConfig config) {
    return serverUris(config).get(0);
  }

  /**
   * Every certificate server: those of {@code httpServer} (comma separated), or, when it is empty,
   * each WebSocket server's host on port 10002.
   */
  public static List<URI> serverUris(EdgeHubConfig config) {
    try {
      List<URI> https =
          CloudAddresses.httpsServers(config.httpServer(), "modules.edgeHub.httpServer");
      if (!https.isEmpty()) {
        return https;
      }
      List<URI> derived = new java.util.ArrayList<>();
      for (CloudAddresses.HostPort hp :
          CloudAddresses.servers(config.websocket().server(), "modules.edgeHub.websocket.server")) {
        URI u = URI.create("https://" + hostForUri(hp.host()) + ":" + DEFAULT_PORT);
        if (!derived.contains(u)) {
          derived.add(u);
        }
      }
      if (derived.isEmpty()) {
        throw new BootstrapException(
            "neither modules.edgeHub.httpServer nor modules.edgeHub.websocket.server is set");
      }
      return derived;
    } catch (ConfigException e) {
      throw new BootstrapException(e.getMessage(), e);
    }
  }

  private static String hostForUri(String host) {
    return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
  }

  /** The certificate server that answered last (the first to ask, before any did). */
  public URI server() {
    return server;
  }

  /** Asks each server in turn, from the one last used, until one answers. */
  private EdgeCredentials anyServer(java.util.function.Function<URI, EdgeCredentials> ask) {
    int start = servers.indexOf(server);
    BootstrapException last = null;
    for (int i = 0; i < servers.size(); i++) {
      URI s = servers.get(Math.floorMod(start + i, servers.size()));
      try {
        EdgeCredentials c = ask.apply(s);
        server = s;
        return c;
      } catch (BootstrapException e) {
        last = e;
      }
    }
    throw last;
  }

  /** First certificate, authorized by the join token. */
  public EdgeCredentials join(JoinToken token) {
    return anyServer(s -> join(s, token));
  }

  private EdgeCredentials join(URI server, JoinToken token) {
    byte[] caDer = fetchCa(server);
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
    X509Certificate cert = requestCertificate(server, tls, key, "Bearer " + token.jwt());
    return checked(server, new EdgeCredentials(ca, cert, key.getPrivate()));
  }

  /** A new key and certificate, authenticated by the current certificate (mutual TLS). */
  public EdgeCredentials rotate(EdgeCredentials current) {
    return anyServer(s -> rotate(s, current));
  }

  private EdgeCredentials rotate(URI server, EdgeCredentials current) {
    KeyPair key = KeyPairs.ecP256();
    SSLContext tls =
        TlsContexts.client(List.of(current.ca()), current.key(), List.of(current.certificate()));
    X509Certificate cert = requestCertificate(server, tls, key, null);
    return checked(server, new EdgeCredentials(current.ca(), cert, key.getPrivate()));
  }

  private EdgeCredentials checked(URI server, EdgeCredentials c) {
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

  private byte[] fetchCa(URI server) {
    HttpsExchange.Response resp = send(server, insecureContext(), "/ca.crt", Map.of(), null);
    if (resp.status() != 200) {
      throw new BootstrapException(
          "GET " + server + "/ca.crt answered HTTP " + resp.status() + summary(resp.body()));
    }
    return resp.body();
  }

  private X509Certificate requestCertificate(
      URI server, SSLContext tls, KeyPair key, String authorization) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("NodeName", node);
    headers.put("Content-Type", "application/octet-stream");
    if (authorization != null) {
      headers.put("Authorization", authorization);
    }
    // GET with a body, as KubeEdge's edge sends it and its cloud expects.
    HttpsExchange.Response resp = send(server, tls, "/edge.crt", headers, csr(key));
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
      URI server, SSLContext tls, String what, Map<String, String> headers, byte[] body) {
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
