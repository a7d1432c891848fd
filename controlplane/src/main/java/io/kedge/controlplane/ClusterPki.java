package io.kedge.controlplane;

import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.pki.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

/**
 * The local cluster's PKI, kept as PEM files under {@code DIR/pki}: the cluster CA (which also
 * signs kubelet-serving CSRs), the apiserver serving certificate, client certificates for admin,
 * controller-manager and scheduler, and the service-account signing key pair.
 */
public final class ClusterPki {
  private static final Duration TEN_YEARS = Duration.ofDays(3650);

  private final Path dir;

  private ClusterPki(Path dir) {
    this.dir = dir;
  }

  public static ClusterPki at(Path dir) {
    return new ClusterPki(dir);
  }

  /** Generates every file. */
  public static ClusterPki generate(Path dir) {
    ClusterPki p = new ClusterPki(dir);
    CertificateAuthority ca =
        CertificateAuthority.create("kedge-local-ca", KeyPairs.rsa2048(), TEN_YEARS);
    Pem.write(p.caCert(), Pem.encode(ca.certificate()), false);
    Pem.write(p.caKey(), Pem.encode(ca.privateKey()), true);
    p.issue(
        ca,
        "apiserver",
        CertSpec.server(
            "kube-apiserver",
            List.of("127.0.0.1", "10.96.0.1"),
            List.of(
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local"),
            TEN_YEARS));
    p.issue(ca, "admin", CertSpec.client("kedge-admin", List.of("system:masters"), TEN_YEARS));
    p.issue(
        ca,
        "controller-manager",
        CertSpec.client("system:kube-controller-manager", List.of(), TEN_YEARS));
    p.issue(ca, "scheduler", CertSpec.client("system:kube-scheduler", List.of(), TEN_YEARS));
    p.ensureKubeletClient();
    KeyPair sa = KeyPairs.rsa2048();
    Pem.write(p.serviceAccountKey(), Pem.encode(sa.getPrivate()), true);
    Pem.write(p.serviceAccountPublicKey(), Pem.encode(sa.getPublic()), false);
    return p;
  }

  /** The certificate name of the apiserver's kubelet client ({@code --kubelet-client-*}). */
  public static final String KUBELET_CLIENT = "apiserver-kubelet-client";

  /**
   * Issues the apiserver's kubelet-client certificate (as kubeadm names it) when it is missing, so
   * that PKI directories made before it existed get one too.
   */
  public void ensureKubeletClient() {
    if (!Files.exists(cert(KUBELET_CLIENT))) {
      issue(
          caWithKey(),
          KUBELET_CLIENT,
          CertSpec.client("kube-apiserver-kubelet-client", List.of("system:masters"), TEN_YEARS));
    }
  }

  private void issue(CertificateAuthority ca, String name, CertSpec spec) {
    KeyPair key = KeyPairs.ecP256();
    X509Certificate cert = ca.issue(spec, key.getPublic());
    Pem.write(cert(name), Pem.encode(cert), false);
    Pem.write(key(name), Pem.encode(key.getPrivate()), true);
  }

  public boolean exists() {
    return Files.exists(caCert()) && Files.exists(caKey());
  }

  public Path dir() {
    return dir;
  }

  public Path caCert() {
    return dir.resolve("ca.crt");
  }

  public Path caKey() {
    return dir.resolve("ca.key");
  }

  public Path cert(String name) {
    return dir.resolve(name + ".crt");
  }

  public Path key(String name) {
    return dir.resolve(name + ".key");
  }

  public Path serviceAccountKey() {
    return dir.resolve("sa.key");
  }

  public Path serviceAccountPublicKey() {
    return dir.resolve("sa.pub");
  }

  public X509Certificate ca() {
    return Pem.certificate(Pem.read(caCert()));
  }

  public CertificateAuthority caWithKey() {
    return new CertificateAuthority(ca(), Pem.privateKey(Pem.read(caKey())));
  }

  public String caPem() {
    return Pem.read(caCert());
  }

  public PrivateKey adminKey() {
    return Pem.privateKey(Pem.read(key("admin")));
  }

  public X509Certificate adminCert() {
    return Pem.certificate(Pem.read(cert("admin")));
  }

  public PublicKey serviceAccountVerificationKey() {
    return Pem.publicKey(Pem.read(serviceAccountPublicKey()));
  }
}
