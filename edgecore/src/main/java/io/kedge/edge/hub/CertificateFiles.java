package io.kedge.edge.hub;

import io.kedge.pki.Pem;
import io.kedge.protocol.config.EdgeCoreConfig.EdgeHubConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Optional;

/**
 * Where the edge keeps its credentials ({@code tlsCaFile}, {@code tlsCertFile}, {@code
 * tlsPrivateKeyFile}): PEM {@code CERTIFICATE}s and an {@code EC PRIVATE KEY}, as KubeEdge writes
 * them, each file replaced atomically and the key readable by its owner only.
 */
public record CertificateFiles(Path caFile, Path certFile, Path keyFile) {

  public static CertificateFiles of(EdgeHubConfig config) {
    return new CertificateFiles(
        Path.of(config.tlsCaFile()),
        Path.of(config.tlsCertFile()),
        Path.of(config.tlsPrivateKeyFile()));
  }

  /**
   * The stored credentials; empty when a file is missing, unreadable, or the three do not belong
   * together (a crash between writes, a CA changed by hand) — the edge then bootstraps again.
   */
  public Optional<EdgeCredentials> load() {
    if (!Files.isRegularFile(caFile)
        || !Files.isRegularFile(certFile)
        || !Files.isRegularFile(keyFile)) {
      return Optional.empty();
    }
    try {
      X509Certificate ca = Pem.certificate(Pem.read(caFile));
      X509Certificate cert = Pem.certificate(Pem.read(certFile));
      PrivateKey key = Pem.privateKey(Pem.read(keyFile));
      EdgeCredentials c = new EdgeCredentials(ca, cert, key);
      return c.consistent() ? Optional.of(c) : Optional.empty();
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Whether any of the three files exists (to tell "never joined" from "damaged"). */
  public boolean anyExists() {
    return Files.exists(caFile) || Files.exists(certFile) || Files.exists(keyFile);
  }

  /** Writes CA, then key, then certificate; each write is atomic. */
  public void store(EdgeCredentials c) {
    Pem.write(caFile, Pem.encode(c.ca()), false);
    Pem.write(keyFile, Pem.encode(c.key()), true);
    Pem.write(certFile, Pem.encode(c.certificate()), false);
  }
}
