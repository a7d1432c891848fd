package io.kedge.cloud.hub;

import io.fabric8.kubernetes.client.Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/**
 * The kube-apiserver CA that edges ask for ({@code k8s/ca.crt}): from the kubeconfig's embedded
 * {@code certificate-authority-data} or its CA file (in-cluster: the service-account CA). KubeEdge
 * answers an empty string when the data is embedded; Kedge answers the CA in both cases.
 */
public final class KubeApiCa {
  private KubeApiCa() {}

  public static String pem(Config config) {
    String data = config.getCaCertData();
    if (data != null && !data.isBlank()) {
      String d = data.strip();
      if (d.startsWith("-----BEGIN")) {
        return d.endsWith("\n") ? d : d + "\n";
      }
      return new String(Base64.getMimeDecoder().decode(d), StandardCharsets.US_ASCII);
    }
    String file = config.getCaCertFile();
    if (file != null && !file.isBlank()) {
      try {
        return Files.readString(Path.of(file), StandardCharsets.US_ASCII);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the kube-apiserver CA " + file, e);
      }
    }
    return "";
  }
}
