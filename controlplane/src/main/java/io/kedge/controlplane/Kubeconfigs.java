package io.kedge.controlplane;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;

/** Writes kubeconfig files (one cluster, one user, one context). */
public final class Kubeconfigs {
  private Kubeconfigs() {}

  /** A kubeconfig authenticating with a client certificate. */
  public static void writeWithClientCert(
      Path file, String server, String caPem, String certPem, String keyPem, String user) {
    write(
        file,
        server,
        caPem,
        user,
        "    client-certificate-data: "
            + b64(certPem)
            + "\n    client-key-data: "
            + b64(keyPem)
            + "\n",
        null);
  }

  /** A kubeconfig authenticating with a bearer token. */
  public static void writeWithToken(
      Path file, String server, String caPem, String token, String user, String namespace) {
    write(file, server, caPem, user, "    token: " + token + "\n", namespace);
  }

  private static void write(
      Path file, String server, String caPem, String user, String userBody, String namespace) {
    String yaml =
        "apiVersion: v1\n"
            + "kind: Config\n"
            + "clusters:\n"
            + "- name: kedge\n"
            + "  cluster:\n"
            + "    server: "
            + server
            + "\n"
            + "    certificate-authority-data: "
            + b64(caPem)
            + "\n"
            + "users:\n"
            + "- name: "
            + user
            + "\n"
            + "  user:\n"
            + userBody
            + "contexts:\n"
            + "- name: kedge\n"
            + "  context:\n"
            + "    cluster: kedge\n"
            + "    user: "
            + user
            + "\n"
            + (namespace == null ? "" : "    namespace: " + namespace + "\n")
            + "current-context: kedge\n";
    try {
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      Files.writeString(tmp, yaml, StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write kubeconfig " + file, e);
    }
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
