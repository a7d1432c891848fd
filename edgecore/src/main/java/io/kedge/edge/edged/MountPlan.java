package io.kedge.edge.edged;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The steps that give a host process its container view: a mirror of the host's root in which the
 * pod's volumes are bind-mounted at their mount paths and Edged's pod directories are hidden except
 * the pod's own. Mount points that do not exist on the host are made on tmpfs copies of their
 * parent directory ("mimics"), never on the host itself. The steps are the plan format of {@code
 * process-launcher.sh}.
 */
final class MountPlan {
  private final List<String> lines = new ArrayList<>();
  private final Set<Path> mimicked = new HashSet<>();
  private final Set<Path> created = new HashSet<>();

  /** Mount targets already placed in the view, with their host sources. */
  private final List<ContainerConfig.Mount> placed = new ArrayList<>();

  private MountPlan() {}

  /**
   * @param root where the view is assembled (an empty directory)
   * @param podsDirectory Edged's root directory: hidden except {@code podDirectory}
   * @param podDirectory the pod's own directory (home, working directories, volumes)
   */
  static MountPlan build(
      Path root, Path podsDirectory, Path podDirectory, List<ContainerConfig.Mount> mounts)
      throws PodRuntime.RuntimeFailure {
    MountPlan p = new MountPlan();
    p.step("root", root.toString());
    p.mimic(Path.of("/"), null);
    Path pods = realOrSelf(podsDirectory);
    p.openPathTo(pods);
    p.mimic(pods, podDirectory.getFileName().toString());
    List<ContainerConfig.Mount> sorted = new ArrayList<>(mounts);
    sorted.sort(Comparator.comparingInt(m -> Path.of(m.containerPath()).getNameCount()));
    for (ContainerConfig.Mount m : sorted) {
      p.mount(m);
    }
    return p;
  }

  /**
   * Edged's directory may lie under a directory others cannot traverse (a home directory such as
   * /root, a private temporary directory), which would keep a pod running as an unprivileged user
   * out of its own working directory and volumes. Such ancestors are replaced in the view by a
   * filtered mimic that shows only the one entry on the way, so the path opens without revealing
   * anything else of the host.
   */
  private void openPathTo(Path pods) {
    Path walked = pods.getRoot();
    for (Path name : pods) {
      if (walked.getNameCount() > 0 && !traversableByOthers(walked)) {
        mimic(walked, name.toString());
      }
      walked = walked.resolve(name);
    }
  }

  private static boolean traversableByOthers(Path dir) {
    try {
      return Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS)
          .contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
    } catch (IOException | UnsupportedOperationException e) {
      return true; // cannot tell: leave the host's view as it is
    }
  }

  List<String> lines() {
    return lines;
  }

  /** Adds the command check: CMD must resolve for UID:GID in DIR with PATH. */
  void check(long uid, long gid, String workingDir, String path, String command) {
    for (String s : List.of(workingDir, path, command)) {
      if (s.isEmpty() || s.indexOf('\t') >= 0 || s.indexOf('\n') >= 0) {
        return; // cannot be expressed in the plan; the exec itself will report
      }
    }
    step("check", Long.toString(uid), Long.toString(gid), workingDir, path, command);
  }

  String text() {
    return String.join("\n", lines) + "\n";
  }

  private void mount(ContainerConfig.Mount m) throws PodRuntime.RuntimeFailure {
    String cp = m.containerPath();
    if (!cp.startsWith("/")) {
      throw new PodRuntime.RuntimeFailure(
          "CreateContainerConfigError", "mount path " + cp + " is not absolute");
    }
    for (int i = 0; i < cp.length(); i++) {
      if (cp.charAt(i) < 0x20) {
        throw new PodRuntime.RuntimeFailure(
            "CreateContainerConfigError", "mount path " + cp + " contains control characters");
      }
    }
    Path target = Path.of(cp).normalize();
    if (target.getNameCount() == 0) {
      throw new PodRuntime.RuntimeFailure(
          "CreateContainerConfigError", "a volume cannot be mounted at /");
    }
    ContainerConfig.Mount under = enclosingPlaced(target);
    if (under == null) {
      target = canonical(target);
      prepareOnHost(target);
    }
    // Inside an earlier mount (a volume of this pod), the launcher creates the mount point in the
    // volume itself, as container runtimes do.
    placed.add(new ContainerConfig.Mount(m.hostPath(), target.toString(), m.readOnly()));
    step("bind", m.hostPath().toString(), target.toString(), m.readOnly() ? "ro" : "rw");
  }

  /** Makes sure {@code target} can be a mount point without writing to the host. */
  private void prepareOnHost(Path target) {
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) || created.contains(target)) {
      return;
    }
    Path existing = target.getParent();
    while (existing != null
        && !created.contains(existing)
        && !Files.isDirectory(existing, LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      existing = Path.of("/");
    }
    if (!created.contains(existing) && !mimicked.contains(existing)) {
      mimic(existing, null);
    }
    Path parent = target.getParent();
    if (parent != null && !parent.equals(existing)) {
      step("mkdir", parent.toString());
    }
    for (Path p = target; p != null && !p.equals(existing); p = p.getParent()) {
      created.add(p);
    }
  }

  private ContainerConfig.Mount enclosingPlaced(Path target) {
    ContainerConfig.Mount best = null;
    for (ContainerConfig.Mount m : placed) {
      Path t = Path.of(m.containerPath());
      if (target.startsWith(t)
          && (best == null || t.getNameCount() > Path.of(best.containerPath()).getNameCount())) {
        best = m;
      }
    }
    return best;
  }

  /** Resolves symlinks of the part that exists on the host (e.g. /var/run → /run). */
  static Path canonical(Path p) {
    Path existing = p;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return p;
    }
    try {
      Path real = existing.toRealPath();
      return real.resolve(existing.relativize(p));
    } catch (IOException e) {
      return p;
    }
  }

  private static Path realOrSelf(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      return p.toAbsolutePath().normalize();
    }
  }

  private void mimic(Path dir, String only) {
    mimicked.add(dir);
    if (only == null) {
      step("mimic", dir.toString());
    } else {
      step("mimic", dir.toString(), only);
    }
  }

  private void step(String... fields) {
    lines.add(String.join("\t", fields));
  }
}
