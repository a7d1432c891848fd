package io.kedge.edge.edged;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's pod cgroups, as the kubelet keeps them: one cgroup for all pods of the node, limited
 * to the node's allocatable memory (so that pods together cannot take what edgecore reserves), and
 * below it one per pod with the pod's limits (the sum of its containers' when every container has
 * one). The CRI runtime places containers below the pod's cgroup ({@code cgroup_parent}); the
 * process runtime makes one per container there.
 */
final class PodCgroups {
  private static final Logger log = LoggerFactory.getLogger(PodCgroups.class);

  /** Parent of every edge node's pod cgroups on this host. */
  static final String ROOT = "/kedge";

  private final Optional<Cgroups> cgroups;
  private final String nodeCgroup;
  private final long allocatableMemory;
  private volatile boolean nodeReady;

  PodCgroups(Optional<Cgroups> cgroups, String nodeName, long allocatableMemory) {
    this.cgroups = cgroups;
    this.nodeCgroup = ROOT + "/" + nodeName;
    this.allocatableMemory = allocatableMemory;
  }

  boolean available() {
    return cgroups.isPresent();
  }

  Optional<Cgroups> cgroups() {
    return cgroups;
  }

  String nodeCgroup() {
    return nodeCgroup;
  }

  /** Creates the node's cgroup; returns a line for the log. */
  String start() {
    if (cgroups.isEmpty()) {
      return "no writable cgroup file system: resource limits cannot be applied";
    }
    try {
      cgroups.get().create(nodeCgroup, new Cgroups.Limits(allocatableMemory, 0, 0));
      nodeReady = true;
      return "pods run in cgroup "
          + nodeCgroup
          + " (cgroup v"
          + cgroups.get().version()
          + ", memory limited to the node's allocatable "
          + allocatableMemory / (1024 * 1024)
          + " Mi)";
    } catch (IOException e) {
      return "cannot create the pods' cgroup " + nodeCgroup + ": " + e.getMessage();
    }
  }

  /** The pod's cgroup path. */
  String podCgroup(String uid) {
    return nodeCgroup + "/pod" + uid;
  }

  /**
   * Creates (or updates) the pod's cgroup with its limits; returns its path, or empty when cgroups
   * are not available here.
   */
  Optional<String> ensurePod(
      String uid, List<ContainerResources> app, List<ContainerResources> init) throws IOException {
    if (cgroups.isEmpty() || !nodeReady) {
      return Optional.empty();
    }
    String path = podCgroup(uid);
    cgroups.get().create(path, podLimits(app, init));
    return Optional.of(path);
  }

  /**
   * The kubelet's pod-level limits: memory and CPU limits only when every container has one (the
   * larger of the app containers' sum and any init container's own), CPU shares from the sum of the
   * requests.
   */
  static Cgroups.Limits podLimits(List<ContainerResources> app, List<ContainerResources> init) {
    long mem = 0;
    long cpu = 0;
    long request = 0;
    boolean allMem = !app.isEmpty();
    boolean allCpu = !app.isEmpty();
    for (ContainerResources r : app) {
      allMem &= r.memoryLimitBytes() > 0;
      allCpu &= r.cpuLimitMillis() > 0;
      mem += r.memoryLimitBytes();
      cpu += r.cpuLimitMillis();
      request += r.cpuRequestMillis();
    }
    for (ContainerResources r : init) {
      allMem &= r.memoryLimitBytes() > 0;
      allCpu &= r.cpuLimitMillis() > 0;
      mem = Math.max(mem, r.memoryLimitBytes());
      cpu = Math.max(cpu, r.cpuLimitMillis());
      request = Math.max(request, r.cpuRequestMillis());
    }
    ContainerResources sum = new ContainerResources(request, allCpu ? cpu : 0, 0, allMem ? mem : 0);
    return new Cgroups.Limits(sum.memoryLimitBytes(), sum.cpuQuotaMicros(), sum.cpuShares());
  }

  void removePod(String uid) {
    cgroups.ifPresent(
        c -> {
          List<String> left = c.remove(podCgroup(uid));
          if (!left.isEmpty()) {
            log.warn("cannot remove the cgroup of pod {}: {}", uid, left);
          }
        });
  }

  /**
   * Removes the node's cgroup with the pods' below it, once their containers are gone (edgecore
   * stops them when it stops; they start again, in new cgroups, at the next start).
   */
  void close() {
    cgroups.ifPresent(
        c -> {
          List<String> left = c.remove(nodeCgroup);
          if (!left.isEmpty()) {
            log.debug("cgroups left at stop: {}", left);
          }
        });
  }

  /** Uids of the pods that have a cgroup here (also those of an earlier run). */
  List<String> podUids() {
    return cgroups
        .map(
            c ->
                c.children(nodeCgroup).stream()
                    .filter(n -> n.startsWith("pod"))
                    .map(n -> n.substring(3))
                    .toList())
        .orElse(List.of());
  }
}
