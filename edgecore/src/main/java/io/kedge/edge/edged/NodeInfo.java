package io.kedge.edge.edged;

import java.math.BigDecimal;

/**
 * What pods learn about their node: names and addresses for {@code fieldRef}, allocatable resources
 * for {@code resourceFieldRef} of containers without limits.
 *
 * @param hostIP the node's address; pods run in the host network, so it is also their pod IP
 */
public record NodeInfo(
    String nodeName,
    String hostIP,
    BigDecimal allocatableCpu,
    BigDecimal allocatableMemory,
    BigDecimal allocatableEphemeralStorage) {

  /** This machine's processors and memory. */
  public static NodeInfo detect(String nodeName, String hostIP) {
    long mem = 0;
    try {
      for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/meminfo"))) {
        if (l.startsWith("MemTotal:")) {
          mem = Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (java.io.IOException | NumberFormatException e) {
      mem = Runtime.getRuntime().maxMemory();
    }
    long disk;
    try {
      disk = java.nio.file.Files.getFileStore(java.nio.file.Path.of("/")).getTotalSpace();
    } catch (java.io.IOException e) {
      disk = 0;
    }
    return new NodeInfo(
        nodeName,
        hostIP,
        BigDecimal.valueOf(Runtime.getRuntime().availableProcessors()),
        BigDecimal.valueOf(mem),
        BigDecimal.valueOf(disk));
  }

  /** The first non-loopback IPv4 address of this machine, else 127.0.0.1. */
  public static String hostAddress() {
    try {
      var ifs = java.net.NetworkInterface.getNetworkInterfaces();
      while (ifs != null && ifs.hasMoreElements()) {
        var nif = ifs.nextElement();
        if (!nif.isUp() || nif.isLoopback() || nif.getName().startsWith("edge-dummy")) {
          continue;
        }
        var addrs = nif.getInetAddresses();
        while (addrs.hasMoreElements()) {
          var a = addrs.nextElement();
          if (a instanceof java.net.Inet4Address && !a.isLinkLocalAddress()) {
            return a.getHostAddress();
          }
        }
      }
    } catch (java.net.SocketException e) {
      // fall through
    }
    return "127.0.0.1";
  }
}
