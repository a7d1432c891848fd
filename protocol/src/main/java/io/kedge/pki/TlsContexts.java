package io.kedge.pki;

import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** JDK {@link SSLContext}s built from in-memory keys and certificates. */
public final class TlsContexts {
  private TlsContexts() {}

  private static final char[] NO_PASSWORD = new char[0];

  public static KeyStore trustStore(List<X509Certificate> cas) {
    try {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      int i = 0;
      for (X509Certificate ca : cas) {
        ks.setCertificateEntry("ca-" + i++, ca);
      }
      return ks;
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static TrustManagerFactory trustManagers(List<X509Certificate> cas) {
    try {
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trustStore(cas));
      return tmf;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Key managers presenting {@code key} with {@code chain}. The key passes through an in-memory
   * {@code JKS} store: the default type, PKCS12, encrypts a key entry when it is set and decrypts
   * it when the factory reads it, each with 10,000 rounds of PBKDF2 — about 0.3 s of interpreted
   * code per context, on every edgecore start for MetaServer's and for the link's, ahead of
   * MetaServer's first answer. {@code JKS}'s key protection is a single digest pass; nothing here
   * is ever written out, so its protection does not matter.
   */
  public static KeyManagerFactory keyManagers(PrivateKey key, List<X509Certificate> chain) {
    try {
      KeyStore ks = KeyStore.getInstance("JKS");
      ks.load(null, null);
      ks.setKeyEntry("key", key, NO_PASSWORD, chain.toArray(X509Certificate[]::new));
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, NO_PASSWORD);
      return kmf;
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A client context trusting {@code cas}, presenting {@code key}/{@code cert} when non-null. */
  public static SSLContext client(
      List<X509Certificate> cas, PrivateKey key, List<X509Certificate> chain) {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(
          key == null ? null : keyManagers(key, chain).getKeyManagers(),
          trustManagers(cas).getTrustManagers(),
          null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
