package io.kedge.edge.auth;

import io.kedge.edge.hub.CloudLink;
import io.kedge.edge.hub.CloudLinkListener;
import io.kedge.pki.Pem;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kube-apiserver's CA, which signs MetaServer's serving certificate and which pods trust: asked
 * from the cloud ({@code k8s/ca.crt}) on every connection and kept in {@code <pkiDir>/ca.crt} for
 * offline starts.
 */
public final class ClusterCa implements CloudLinkListener {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterCa.class);
  public static final String RESOURCE = "k8s/ca.crt";

  private final CloudDocument doc;

  public ClusterCa(CloudLink link, Path pkiDir, Duration timeout) {
    this.doc =
        new CloudDocument(
            link, RESOURCE, pkiDir.resolve("ca.crt"), timeout, ClusterCa::containsCertificate);
    link.addListener(this);
  }

  public Path file() {
    return doc.file();
  }

  /** The CA certificates, if known (fetched now or earlier). */
  public Optional<List<X509Certificate>> certificates() {
    return doc.cached().map(Pem::certificates).filter(l -> !l.isEmpty());
  }

  @Override
  public void connected() {
    doc.refresh()
        .whenComplete(
            (pem, err) -> {
              if (err != null) {
                LOG.warn("cannot fetch the Kubernetes CA from the cloud: {}", err.toString());
              } else {
                LOG.info("Kubernetes CA kept in {}", doc.file());
              }
            });
  }

  private static boolean containsCertificate(String pem) {
    try {
      return !Pem.certificates(pem).isEmpty();
    } catch (RuntimeException e) {
      return false;
    }
  }
}
