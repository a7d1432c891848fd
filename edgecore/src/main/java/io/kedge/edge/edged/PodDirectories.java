package io.kedge.edge.edged;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;

/** Directories Edged keeps per pod, with the owners and modes pods need. */
final class PodDirectories {
  private PodDirectories() {}

  /** Creates {@code dir} (and parents) with {@code mode} (e.g. {@code rwx------}) and owner. */
  static Path ensure(Path dir, String mode, long uid, long gid) {
    try {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
      chown(dir, uid, gid);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare " + dir, e);
    }
  }

  static void chown(Path p, long uid, long gid) throws IOException {
    if (uid >= 0) {
      Files.setAttribute(p, "unix:uid", (int) uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }
    if (gid >= 0) {
      Files.setAttribute(p, "unix:gid", (int) gid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }
  }

  /** Deletes a tree without following symbolic links; missing is fine. */
  static void deleteRecursively(Path root) {
    if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try {
      Files.walkFileTree(
          root,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
              if (exc instanceof NoSuchFileException) {
                return FileVisitResult.CONTINUE;
              }
              throw exc;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc)
                throws IOException {
              Files.deleteIfExists(dir);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove " + root, e);
    }
  }
}
