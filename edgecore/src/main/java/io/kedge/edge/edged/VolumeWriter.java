package io.kedge.edge.edged;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Writes the files of a ConfigMap, Secret, downward-API or projected volume so that a running
 * container sees either the old or the new set, never a mix: files live in a timestamped directory,
 * {@code ..data} points at it, and each top-level name is a symlink through {@code ..data} (the
 * layout the kubelet uses, which some programs watch for). The volume directory itself never
 * changes, so a bind mount of it keeps showing the current content.
 */
final class VolumeWriter {
  private VolumeWriter() {}

  /** A file's content and mode. */
  record FileContent(byte[] data, int mode) {
    @Override
    public boolean equals(Object o) {
      return o instanceof FileContent f && f.mode == mode && Arrays.equals(f.data, data);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(data) * 31 + mode;
    }
  }

  /**
   * Makes {@code dir} hold exactly {@code files} (relative paths). Returns whether anything
   * changed.
   *
   * @param gid group of the files, or -1 to leave root's
   */
  static boolean write(Path dir, Map<String, FileContent> files, long gid) throws IOException {
    Files.createDirectories(dir);
    Path data = dir.resolve("..data");
    if (Files.isSymbolicLink(data)
        && files.equals(read(dir.resolve(Files.readSymbolicLink(data)), files))) {
      return false;
    }
    String stamp = "..%d_%d".formatted(System.currentTimeMillis(), System.nanoTime() % 1_000_000);
    Path fresh = dir.resolve(stamp);
    Files.createDirectory(fresh);
    Files.setPosixFilePermissions(fresh, perms(0755));
    Set<String> top = new HashSet<>();
    for (Map.Entry<String, FileContent> e : files.entrySet()) {
      Path rel = Path.of(e.getKey()).normalize();
      if (rel.isAbsolute() || rel.startsWith("..") || rel.toString().isEmpty()) {
        throw new IOException("invalid path " + e.getKey() + " in volume " + dir.getFileName());
      }
      Path f = fresh.resolve(rel);
      Files.createDirectories(f.getParent());
      Files.write(f, e.getValue().data());
      Files.setPosixFilePermissions(f, perms(e.getValue().mode()));
      if (gid >= 0) {
        PodDirectories.chown(f, -1, gid);
      }
      top.add(rel.getName(0).toString());
    }
    Path tmpLink = dir.resolve("..data_tmp");
    Files.deleteIfExists(tmpLink);
    Files.createSymbolicLink(tmpLink, Path.of(stamp));
    Path old = Files.isSymbolicLink(data) ? dir.resolve(Files.readSymbolicLink(data)) : null;
    Files.move(tmpLink, data, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    for (String name : top) {
      Path link = dir.resolve(name);
      if (!Files.isSymbolicLink(link)) {
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, Path.of("..data").resolve(name));
      }
    }
    try (var entries = Files.list(dir)) {
      for (Path p : (Iterable<Path>) entries::iterator) {
        String n = p.getFileName().toString();
        if (n.startsWith("..")) {
          if (n.startsWith("..")
              && !n.equals("..data")
              && !p.equals(fresh)
              && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            PodDirectories.deleteRecursively(p);
          }
        } else if (!top.contains(n)) {
          Files.deleteIfExists(p);
        }
      }
    }
    if (old != null && !old.equals(fresh)) {
      PodDirectories.deleteRecursively(old);
    }
    return true;
  }

  private static Map<String, FileContent> read(Path dataDir, Map<String, FileContent> like) {
    Map<String, FileContent> out = new LinkedHashMap<>();
    try {
      try (var walk = Files.walk(dataDir)) {
        for (Path p : (Iterable<Path>) walk::iterator) {
          if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            int mode = 0;
            for (PosixFilePermission perm : Files.getPosixFilePermissions(p)) {
              mode |= 1 << (8 - perm.ordinal());
            }
            out.put(dataDir.relativize(p).toString(), new FileContent(Files.readAllBytes(p), mode));
          }
        }
      }
    } catch (IOException e) {
      return Map.of();
    }
    return out;
  }

  static Set<PosixFilePermission> perms(int mode) {
    Set<PosixFilePermission> s = new HashSet<>();
    PosixFilePermission[] all = PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE
    for (int i = 0; i < 9; i++) {
      if ((mode & (1 << (8 - i))) != 0) {
        s.add(all[i]);
      }
    }
    return s;
  }
}
