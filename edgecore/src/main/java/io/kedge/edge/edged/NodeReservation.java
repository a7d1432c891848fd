package io.kedge.edge.edged;

import io.kedge.edge.node.NodeFacts;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What edgecore keeps back from the node's pods for itself (the kubelet's {@code kubeReserved}):
 * its own JVM's memory — the heap limit plus room for the JVM's native parts — and a tenth of a
 * core. The node's allocatable is its capacity less this and the kubelet's eviction threshold
 * ({@code memory.available<100Mi}), and the pods' cgroup is limited to it, so pods together cannot
 * starve edgecore.
 *
 * @param cpuMillis reserved CPU, millicores
 * @param memoryBytes reserved memory
 */
public record NodeReservation(long cpuMillis, long memoryBytes) {

  /** Class metadata, JIT code, thread stacks and direct buffers of an edgecore JVM. */
  static final long JVM_NATIVE_BYTES = 96L << 20;

  /** The kubelet's default hard eviction threshold for memory. */
  static final long EVICTION_MEMORY_BYTES = 100L << 20;

  static final long CPU_MILLIS = 100;

  /** This edgecore's reservation, from its JVM's heap limit. */
  public static NodeReservation ofThisProcess() {
    long heap = Runtime.getRuntime().maxMemory();
    long mi = 1L << 20;
    long mem = (heap + JVM_NATIVE_BYTES + mi - 1) / mi * mi;
    return new NodeReservation(CPU_MILLIS, mem);
  }

  /** Allocatable memory of a node with {@code capacityBytes}. */
  public long allocatableMemory(long capacityBytes) {
    return Math.max(0, capacityBytes - memoryBytes - EVICTION_MEMORY_BYTES);
  }

  /** Allocatable millicores of a node with {@code cpus} processors. */
  public long allocatableCpuMillis(int cpus) {
    return Math.max(0, cpus * 1000L - cpuMillis);
  }

  /** Edged's view of the node (for {@code resourceFieldRef}) with this reservation taken off. */
  public NodeInfo applyTo(NodeInfo node, long capacityMemory, int cpus) {
    return new NodeInfo(
        node.nodeName(),
        node.hostIP(),
        BigDecimal.valueOf(allocatableCpuMillis(cpus)).movePointLeft(3),
        BigDecimal.valueOf(allocatableMemory(capacityMemory)),
        node.allocatableEphemeralStorage());
  }

  /** The Node's reported allocatable with this reservation taken off (capacity unchanged). */
  public NodeFacts applyTo(NodeFacts facts) {
    Map<String, String> alloc = new LinkedHashMap<>(facts.allocatable());
    String cpu = facts.capacity().get("cpu");
    String mem = facts.capacity().get("memory");
    try {
      if (cpu != null) {
        alloc.put("cpu", allocatableCpuMillis(Integer.parseInt(cpu)) + "m");
      }
      if (mem != null && mem.endsWith("Ki")) {
        long bytes = Long.parseLong(mem.substring(0, mem.length() - 2)) * 1024;
        alloc.put("memory", allocatableMemory(bytes) / 1024 + "Ki");
      }
    } catch (NumberFormatException e) {
      return facts;
    }
    return new NodeFacts(facts.capacity(), alloc, facts.nodeInfo());
  }
}
