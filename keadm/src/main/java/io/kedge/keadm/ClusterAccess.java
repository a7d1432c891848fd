package io.kedge.keadm;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/**
 * The cluster keadm works on: {@code --kube-config FILE}, else {@code $KUBECONFIG}, else {@code
 * ~/.kube/config} (KubeEdge's default is {@code /root/.kube/config}). These credentials are used by
 * keadm only; cloudcore gets its own ServiceAccount.
 */
public record ClusterAccess(Path kubeconfig, Config config) {

  public static ClusterAccess resolve(Path flag, KeadmEnvironment env) {
    Path file = flag;
    if (file == null) {
      String k = env.env().get("KUBECONFIG");
      if (k != null && !k.isBlank()) {
        file = Path.of(k.split(File.pathSeparator)[0]);
      }
    }
    if (file == null) {
      file = Path.of(System.getProperty("user.home"), ".kube", "config");
    }
    file = file.toAbsolutePath().normalize();
    if (!Files.isRegularFile(file)) {
      throw new KeadmException(
          "kubeconfig "
              + file
              + " does not exist; pass --kube-config FILE (or set KUBECONFIG) with the cluster's"
              + " admin credentials");
    }
    try {
      Config cfg =
          Config.fromKubeconfig(
              null, Files.readString(file, StandardCharsets.UTF_8), file.toString());
      cfg.setRequestTimeout(30_000);
      cfg.setConnectionTimeout(10_000);
      return new ClusterAccess(file, cfg);
    } catch (IOException | RuntimeException e) {
      throw new KeadmException("cannot read kubeconfig " + file + ": " + e.getMessage(), e);
    }
  }

  public KubernetesClient client() {
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  public String server() {
    return config.getMasterUrl().replaceAll("/+$", "");
  }

  /** The cluster CA in PEM, for kubeconfigs keadm writes. */
  public String caPem() {
    try {
      if (config.getCaCertData() != null && !config.getCaCertData().isBlank()) {
        return new String(
            Base64.getDecoder().decode(config.getCaCertData().strip()), StandardCharsets.US_ASCII);
      }
      if (config.getCaCertFile() != null) {
        return Files.readString(Path.of(config.getCaCertFile()), StandardCharsets.US_ASCII);
      }
    } catch (IOException | IllegalArgumentException e) {
      throw new KeadmException(
          "cannot read the cluster CA of " + kubeconfig + ": " + e.getMessage());
    }
    throw new KeadmException(
        kubeconfig + " names no certificate authority for " + server() + "; keadm needs one");
  }

  /** The apiserver's version, proving the cluster is reachable with these credentials. */
  public String serverVersion(KubernetesClient c) {
    try {
      return c.getKubernetesVersion().getGitVersion();
    } catch (KubernetesClientException e) {
      throw new KeadmException(
          "cannot reach the cluster at " + server() + " (" + kubeconfig + "): " + reason(e), e);
    }
  }

  static String reason(KubernetesClientException e) {
    if (e.getStatus() != null && e.getStatus().getMessage() != null) {
      return e.getStatus().getMessage();
    }
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }
}
