package io.kedge.edge.edged;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The host's cgroup file system as Edged writes it directly (the kubelet's {@code cgroupfs}
 * driver): version 1 (one hierarchy per controller, as on this kind of host with a hybrid layout)
 * or version 2 (the unified hierarchy). Paths are absolute cgroup paths such as {@code
 * /kedge/edge-1/pod<uid>}, the same in every hierarchy; they are also what containerd takes as a
 * sandbox's {@code cgroup_parent}.
 */
public final class Cgroups {

  /** CPU and memory limits of one cgroup; 0 leaves a value unlimited (or at its default). */
  public record Limits(long memoryBytes, long cpuQuotaMicros, long cpuShares) {
    public static final Limits NONE = new Limits(0, 0, 0);

    static Limits of(ContainerResources r) {
      return new Limits(r.memoryLimitBytes(), r.cpuQuotaMicros(), r.cpuShares());
    }
  }

  /** Hierarchies Edged creates its cgroups in (v1): limits go to memory and cpu only. */
  private static final List<String> V1_CONTROLLERS = List.of("memory", "cpu", "cpuacct", "pids");

  private final boolean unified;

  /** v1: controller → mount point (co-mounted controllers share one). v2: "" → the mount. */
  private final Map<String, Path> roots;

  private Cgroups(boolean unified, Map<String, Path> roots) {
    this.unified = unified;
    this.roots = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(roots));
  }

  /** The cgroup file systems mounted here, when Edged can use them (root, memory controller). */
  public static Optional<Cgroups> detect() {
    try {
      Optional<Cgroups> c = parse(Files.readAllLines(Path.of("/proc/self/mountinfo")));
      return c.filter(Cgroups::writable);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** From {@code /proc/self/mountinfo}: v1 when it has a memory hierarchy, else v2. */
  static Optional<Cgroups> parse(List<String> mountinfo) {
    Map<String, Path> v1 = new LinkedHashMap<>();
    Path v2 = null;
    for (String line : mountinfo) {
      int dash = line.indexOf(" - ");
      if (dash < 0) {
        continue;
      }
      String[] left = line.substring(0, dash).split(" ");
      String[] right = line.substring(dash + 3).split(" ");
      if (left.length < 5 || right.length < 3) {
        continue;
      }
      Path mount = Path.of(left[4].replace("\\040", " "));
      if (right[0].equals("cgroup")) {
        for (String opt : right[2].split(",")) {
          if (V1_CONTROLLERS.contains(opt)) {
            v1.putIfAbsent(opt, mount);
          }
        }
      } else if (right[0].equals("cgroup2") && v2 == null) {
        v2 = mount;
      }
    }
    if (v1.containsKey("memory")) {
      return Optional.of(new Cgroups(false, v1));
    }
    if (v2 != null && Files.isRegularFile(v2.resolve("cgroup.controllers"))) {
      try {
        if (Files.readString(v2.resolve("cgroup.controllers")).contains("memory")) {
          return Optional.of(new Cgroups(true, Map.of("", v2)));
        }
      } catch (IOException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  private boolean writable() {
    return roots.values().stream().allMatch(Files::isWritable);
  }

  /** {@code 1} or {@code 2}, for the log. */
  public int version() {
    return unified ? 2 : 1;
  }

  /** The distinct hierarchy roots. */
  private Set<Path> hierarchies() {
    return new LinkedHashSet<>(roots.values());
  }

  private Path dir(Path root, String cgroup) {
    String rel = cgroup.startsWith("/") ? cgroup.substring(1) : cgroup;
    return rel.isEmpty() ? root : root.resolve(rel);
  }

  /**
   * Creates {@code cgroup} (and its parents) in every hierarchy and sets its limits; an existing
   * one gets the limits anew.
   */
  public void create(String cgroup, Limits limits) throws IOException {
    for (Path root : hierarchies()) {
      Path d = dir(root, cgroup);
      if (unified) {
        enableControllers(root, d);
      }
      Files.createDirectories(d);
    }
    if (unified) {
      Path d = dir(roots.get(""), cgroup);
      write(d.resolve("memory.max"), limits.memoryBytes() > 0 ? "" + limits.memoryBytes() : "max");
      String period = Long.toString(ContainerResources.CPU_PERIOD_US);
      write(
          d.resolve("cpu.max"),
          (limits.cpuQuotaMicros() > 0 ? "" + limits.cpuQuotaMicros() : "max") + " " + period);
      if (limits.cpuShares() > 0) {
        long weight = 1 + ((Math.max(2, limits.cpuShares()) - 2) * 9999) / 262_142;
        write(d.resolve("cpu.weight"), Long.toString(weight));
      }
      return;
    }
    Path mem = dir(roots.get("memory"), cgroup);
    write(
        mem.resolve("memory.limit_in_bytes"),
        limits.memoryBytes() > 0 ? "" + limits.memoryBytes() : "-1");
    Path cpu = roots.get("cpu");
    if (cpu != null) {
      Path c = dir(cpu, cgroup);
      write(c.resolve("cpu.cfs_period_us"), Long.toString(ContainerResources.CPU_PERIOD_US));
      write(
          c.resolve("cpu.cfs_quota_us"),
          limits.cpuQuotaMicros() > 0 ? "" + limits.cpuQuotaMicros() : "-1");
      if (limits.cpuShares() > 0) {
        write(c.resolve("cpu.shares"), Long.toString(limits.cpuShares()));
      }
    }
  }

  /** v2: a cgroup's controllers must be enabled in every ancestor's {@code subtree_control}. */
  private static void enableControllers(Path root, Path target) throws IOException {
    List<Path> chain = new ArrayList<>();
    for (Path p = target.getParent(); p != null && p.startsWith(root); p = p.getParent()) {
      chain.add(0, p);
    }
    for (Path p : chain) {
      Files.createDirectories(p);
      String have = Files.readString(p.resolve("cgroup.subtree_control"));
      for (String ctl : List.of("memory", "cpu", "pids")) {
        if (!have.contains(ctl)) {
          try {
            Files.writeString(p.resolve("cgroup.subtree_control"), "+" + ctl);
          } catch (IOException e) {
            if (!ctl.equals("pids")) {
              throw new IOException("cannot enable " + ctl + " in " + p + ": " + e.getMessage(), e);
            }
          }
        }
      }
    }
  }

  /**
   * The {@code cgroup.procs} files of {@code cgroup}, one per hierarchy: a process that writes
   * {@code 0} to each joins the cgroup (and its children are born there).
   */
  public List<Path> procsFiles(String cgroup) {
    List<Path> out = new ArrayList<>();
    for (Path root : hierarchies()) {
      out.add(dir(root, cgroup).resolve("cgroup.procs"));
    }
    return out;
  }

  /** How many times the kernel's OOM killer killed a process of {@code cgroup}. */
  public long oomKills(String cgroup) {
    Path f =
        unified
            ? dir(roots.get(""), cgroup).resolve("memory.events")
            : dir(roots.get("memory"), cgroup).resolve("memory.oom_control");
    try {
      for (String l : Files.readAllLines(f)) {
        if (l.startsWith("oom_kill ")) {
          return Long.parseLong(l.substring("oom_kill ".length()).strip());
        }
      }
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
    return 0;
  }

  /** The memory limit in force for {@code cgroup}, bytes; empty when unlimited or unknown. */
  public Optional<Long> memoryLimit(String cgroup) {
    Path f =
        unified
            ? dir(roots.get(""), cgroup).resolve("memory.max")
            : dir(roots.get("memory"), cgroup).resolve("memory.limit_in_bytes");
    try {
      String v = Files.readString(f).strip();
      if (v.equals("max")) {
        return Optional.empty();
      }
      long n = Long.parseLong(v);
      return n >= Long.MAX_VALUE / 2 ? Optional.empty() : Optional.of(n);
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** The names of {@code cgroup}'s child cgroups (memory hierarchy, or the unified one). */
  public List<String> children(String cgroup) {
    Path d = dir(unified ? roots.get("") : roots.get("memory"), cgroup);
    List<String> out = new ArrayList<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(d, Files::isDirectory)) {
      for (Path p : s) {
        out.add(p.getFileName().toString());
      }
    } catch (IOException e) {
      return List.of();
    }
    return out;
  }

  /**
   * Removes {@code cgroup} and its children in every hierarchy (the kernel refuses while processes
   * are left in them); returns what could not be removed.
   */
  public List<String> remove(String cgroup) {
    List<String> left = new ArrayList<>();
    for (Path root : hierarchies()) {
      removeTree(dir(root, cgroup), left);
    }
    return left;
  }

  private static void removeTree(Path d, List<String> left) {
    if (!Files.isDirectory(d)) {
      return;
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(d, Files::isDirectory)) {
      for (Path child : s) {
        removeTree(child, left);
      }
    } catch (IOException e) {
      // removing d below says what is wrong
    }
    try {
      Files.delete(d); // rmdir: the control files go with it
    } catch (NoSuchFileException e) {
      // gone already
    } catch (IOException e) {
      left.add(d + ": " + e.getMessage());
    }
  }

  private static void write(Path file, String value) throws IOException {
    try {
      Files.writeString(file, value);
    } catch (IOException e) {
      throw new IOException("cannot write " + value + " to " + file + ": " + e.getMessage(), e);
    }
  }
}
