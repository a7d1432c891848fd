package io.kedge.edge.hub;

import io.kedge.pki.TlsContexts;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolNegotiator;
import io.netty.handler.ssl.SslContext;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSessionContext;

/**
 * A Netty {@link SslContext} over a JDK {@link SSLContext} built from in-memory keys. Netty's own
 * JDK contexts ({@code SslContextBuilder}) cost the edge about 3 MB for nothing it uses: their
 * class initialisation loads the JDK's default trust store (~140 CA certificates) and, with
 * BouncyCastle on the class path, registers a BouncyCastle JCA provider (~1.4 MB of heap, hundreds
 * of classes) to parse a built-in test key.
 */
public final class JdkTlsContext extends SslContext {
  private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  private final SSLContext context;
  private final boolean client;
  private final List<String> cipherSuites;

  private JdkTlsContext(SSLContext context, boolean client) {
    this.context = context;
    this.client = client;
    this.cipherSuites = List.of(context.getDefaultSSLParameters().getCipherSuites());
  }

  /** A server presenting {@code key} with {@code chain}; no client certificates asked for. */
  public static JdkTlsContext server(PrivateKey key, List<X509Certificate> chain) {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      // An empty trust store, not null: null would make the JDK load its default CA certificates.
      ctx.init(
          TlsContexts.keyManagers(key, chain).getKeyManagers(),
          TlsContexts.trustManagers(List.of()).getTrustManagers(),
          null);
      return new JdkTlsContext(ctx, false);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot build a TLS server context: " + e.getMessage(), e);
    }
  }

  /**
   * A client trusting only {@code ca}, presenting {@code key}/{@code certificate}, checking the
   * server's name against the address it connects to (as HTTPS does).
   */
  public static JdkTlsContext client(
      X509Certificate ca, PrivateKey key, X509Certificate certificate) {
    return new JdkTlsContext(TlsContexts.client(List.of(ca), key, List.of(certificate)), true);
  }

  @Override
  public boolean isClient() {
    return client;
  }

  @Override
  public List<String> cipherSuites() {
    return cipherSuites;
  }

  @Override
  @SuppressWarnings("deprecation")
  public ApplicationProtocolNegotiator applicationProtocolNegotiator() {
    return List::of; // no ALPN
  }

  @Override
  public SSLEngine newEngine(ByteBufAllocator alloc) {
    return configure(context.createSSLEngine());
  }

  @Override
  public SSLEngine newEngine(ByteBufAllocator alloc, String peerHost, int peerPort) {
    return configure(context.createSSLEngine(peerHost, peerPort));
  }

  @Override
  public SSLSessionContext sessionContext() {
    return client ? context.getClientSessionContext() : context.getServerSessionContext();
  }

  private SSLEngine configure(SSLEngine engine) {
    engine.setUseClientMode(client);
    SSLParameters p = engine.getSSLParameters();
    p.setProtocols(PROTOCOLS);
    if (client) {
      p.setEndpointIdentificationAlgorithm("HTTPS");
    }
    engine.setSSLParameters(p);
    return engine;
  }
}
