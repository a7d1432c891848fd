package io.kedge.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** Where an end-to-end run keeps its files, and the tools it finds on the PATH. */
final class RunFiles {
  private RunFiles() {}

  /**
   * A new directory under {@code target/}, kept after the run for its logs. Pods run as an
   * unprivileged user, so the path to their directories is made traversable.
   */
  static Path runDir(String prefix) {
    try {
      Path target = Path.of("target").toAbsolutePath();
      Files.createDirectories(target);
      Path dir = Files.createTempDirectory(target, prefix);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
