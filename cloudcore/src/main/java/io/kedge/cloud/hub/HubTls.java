package io.kedge.cloud.hub;

import io.kedge.pki.CertificateAuthority;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLException;

/**
 * CloudHub's TLS material: the hub CA (which signs edge certificates and is the only CA edge client
 * certificates are verified against) and the hub's ECDSA server certificate.
 */
public record HubTls(CertificateAuthority ca, X509Certificate serverCert, PrivateKey serverKey) {

  /** TLS 1.3 suites plus the three ECDSA AEAD suites KubeEdge's hub allows for TLS 1.2. */
  static final List<String> CIPHERS =
      List.of(
          "TLS_AES_128_GCM_SHA256",
          "TLS_AES_256_GCM_SHA384",
          "TLS_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");

  public HubTls {
    Objects.requireNonNull(ca, "ca");
    Objects.requireNonNull(serverCert, "serverCert");
    Objects.requireNonNull(serverKey, "serverKey");
  }

  /** The WebSocket server's context: a client certificate from the hub CA is required. */
  public SslContext webSocketServerContext() {
    return serverContext(ClientAuth.REQUIRE);
  }

  /**
   * The bootstrap server's context: a client certificate is optional (first issue uses a token,
   * rotation a certificate), checked per request.
   */
  public SslContext bootstrapServerContext() {
    return serverContext(ClientAuth.OPTIONAL);
  }

  private SslContext serverContext(ClientAuth auth) {
    try {
      return SslContextBuilder.forServer(serverKey, serverCert)
          .sslProvider(SslProvider.JDK)
          .trustManager(ca.certificate())
          .clientAuth(auth)
          .protocols("TLSv1.3", "TLSv1.2")
          .ciphers(CIPHERS)
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build the hub's TLS context: " + e.getMessage(), e);
    }
  }
}
