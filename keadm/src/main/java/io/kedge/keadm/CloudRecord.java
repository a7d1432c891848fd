package io.kedge.keadm;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;

/**
 * What {@code keadm init} did on this machine, so that {@code keadm reset} finds the cluster again
 * and {@code keadm start cloudcore} knows there is something to start.
 *
 * @param kubeconfig the admin kubeconfig init was given (keadm's, never cloudcore's)
 */
public record CloudRecord(Path kubeconfig, String kubeedgeVersion, Instant installed) {

  static void write(InstallLayout layout, Path kubeconfig, KubeEdgeVersion version) {
    Properties p = new Properties();
    p.setProperty("kubeconfig", kubeconfig.toString());
    p.setProperty("kubeedgeVersion", version.toString());
    p.setProperty("installed", Instant.now().toString());
    Path f = layout.cloudInstallRecord();
    try {
      Files.createDirectories(f.getParent());
      try (OutputStream out = Files.newOutputStream(f)) {
        p.store(out, "keadm init");
      }
    } catch (IOException e) {
      throw new KeadmException("cannot write " + f + ": " + e.getMessage(), e);
    }
  }

  static Optional<CloudRecord> read(InstallLayout layout) {
    Path f = layout.cloudInstallRecord();
    if (!Files.isRegularFile(f)) {
      return Optional.empty();
    }
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(f)) {
      p.load(in);
    } catch (IOException e) {
      return Optional.empty();
    }
    String kc = p.getProperty("kubeconfig");
    return Optional.of(
        new CloudRecord(
            kc == null ? null : Path.of(kc),
            p.getProperty("kubeedgeVersion", ""),
            Instant.parse(p.getProperty("installed", Instant.EPOCH.toString()))));
  }
}
