package io.kedge.edge.node;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What the node reports about its host: capacity, allocatable and {@code nodeInfo}, read from the
 * JVM and {@code /proc} the way the kubelet reports them (memory and disk in {@code Ki}).
 *
 * @param capacity resource name → quantity
 * @param allocatable capacity less the kubelet's default eviction reserves
 * @param nodeInfo the {@code NodeSystemInfo} fields, all present as Go writes them
 */
public record NodeFacts(
    Map<String, String> capacity, Map<String, String> allocatable, Map<String, String> nodeInfo) {

  /** Reported as the kubelet version: the Kubernetes API level Kedge serves, and Kedge's own. */
  public static final String KUBELET_VERSION = "v1.28.6-kedge-v0.1.0";

  private static final long MEMORY_RESERVE_KI = 100 * 1024; // kubelet: memory.available<100Mi

  public NodeFacts {
    capacity = Collections.unmodifiableMap(new LinkedHashMap<>(capacity));
    allocatable = Collections.unmodifiableMap(new LinkedHashMap<>(allocatable));
    nodeInfo = Collections.unmodifiableMap(new LinkedHashMap<>(nodeInfo));
  }

  /**
   * Probes this host.
   *
   * @param maxPods {@code modules.edged.maxPods}
   * @param runtime {@code modules.edged.runtime}
   * @param rootDirectory where pods keep their files (its file system is the ephemeral storage)
   */
  public static NodeFacts probe(int maxPods, String runtime, Path rootDirectory) {
    long memKi = memoryKi();
    long diskKi = diskKi(rootDirectory);
    int cpus = Runtime.getRuntime().availableProcessors();

    Map<String, String> cap = new LinkedHashMap<>();
    cap.put("cpu", String.valueOf(cpus));
    cap.put("ephemeral-storage", diskKi + "Ki");
    cap.put("hugepages-1Gi", "0");
    cap.put("hugepages-2Mi", "0");
    cap.put("memory", memKi + "Ki");
    cap.put("pods", String.valueOf(maxPods));

    Map<String, String> alloc = new LinkedHashMap<>(cap);
    alloc.put("ephemeral-storage", String.valueOf(diskKi * 1024 / 10 * 9)); // nodefs.available<10%
    alloc.put("memory", Math.max(0, memKi - MEMORY_RESERVE_KI) + "Ki");

    String machineId = firstLine(Path.of("/etc/machine-id")).orElse("");
    Map<String, String> info = new LinkedHashMap<>();
    info.put("machineID", machineId);
    info.put(
        "systemUUID",
        firstLine(Path.of("/sys/class/dmi/id/product_uuid"))
            .orElse(machineId)
            .toLowerCase(Locale.ROOT));
    info.put("bootID", firstLine(Path.of("/proc/sys/kernel/random/boot_id")).orElse(""));
    info.put("kernelVersion", System.getProperty("os.version", ""));
    info.put("osImage", osImage());
    info.put("containerRuntimeVersion", runtimeVersion(runtime));
    info.put("kubeletVersion", KUBELET_VERSION);
    info.put("kubeProxyVersion", "");
    info.put("operatingSystem", hostOperatingSystem());
    info.put("architecture", hostArchitecture());
    return new NodeFacts(cap, alloc, info);
  }

  public String architecture() {
    return nodeInfo.getOrDefault("architecture", "");
  }

  public String operatingSystem() {
    return nodeInfo.getOrDefault("operatingSystem", "linux");
  }

  /** Go's GOARCH names for the JVM's {@code os.arch}. */
  static String architecture(String osArch) {
    return switch (osArch) {
      case "amd64", "x86_64" -> "amd64";
      case "aarch64", "arm64" -> "arm64";
      case "arm" -> "arm";
      case "x86", "i386", "i686" -> "386";
      case "ppc64le" -> "ppc64le";
      case "s390x" -> "s390x";
      case "riscv64" -> "riscv64";
      default -> osArch;
    };
  }

  private static String hostArchitecture() {
    return architecture(System.getProperty("os.arch", ""));
  }

  private static String hostOperatingSystem() {
    String os = System.getProperty("os.name", "linux").toLowerCase(Locale.ROOT);
    return os.startsWith("linux") ? "linux" : os.replace(' ', '-');
  }

  private static String runtimeVersion(String runtime) {
    return ("cri".equals(runtime) ? "cri" : "kedge-process") + "://" + "0.1.0";
  }

  private static long memoryKi() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (l.startsWith("MemTotal:")) {
          return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux, or unreadable: fall through
    }
    return Runtime.getRuntime().maxMemory() / 1024;
  }

  private static long diskKi(Path dir) {
    Path p = dir.toAbsolutePath();
    while (p != null && !Files.exists(p)) {
      p = p.getParent();
    }
    try {
      FileStore fs = Files.getFileStore(p == null ? Path.of("/") : p);
      return fs.getTotalSpace() / 1024;
    } catch (IOException e) {
      return 0;
    }
  }

  private static String osImage() {
    try {
      for (String l : Files.readAllLines(Path.of("/etc/os-release"))) {
        if (l.startsWith("PRETTY_NAME=")) {
          return l.substring("PRETTY_NAME=".length()).replace("\"", "");
        }
      }
    } catch (IOException e) {
      // fall through
    }
    return System.getProperty("os.name", "");
  }

  private static Optional<String> firstLine(Path f) {
    try {
      return Files.readAllLines(f).stream()
          .map(String::strip)
          .filter(s -> !s.isEmpty())
          .findFirst();
    } catch (IOException | SecurityException e) {
      return Optional.empty();
    }
  }

  /** A non-loopback IPv4 address of this host, if it has one. */
  public static Optional<String> hostAddress() {
    try {
      for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (!ni.isUp() || ni.isLoopback()) {
          continue;
        }
        for (InetAddress a : Collections.list(ni.getInetAddresses())) {
          if (a instanceof Inet4Address && !a.isLinkLocalAddress()) {
            return Optional.of(a.getHostAddress());
          }
        }
      }
    } catch (SocketException e) {
      // no interfaces to ask
    }
    return Optional.empty();
  }
}
