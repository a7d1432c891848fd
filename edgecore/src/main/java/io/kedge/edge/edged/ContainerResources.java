package io.kedge.edge.edged;

import java.math.BigDecimal;
import java.math.RoundingMode;
import tools.jackson.databind.JsonNode;

/**
 * A container's CPU and memory requests and limits, and what they become in the kernel the way the
 * kubelet computes it: CFS shares from the CPU request, a CFS quota from the CPU limit (period 100
 * ms), a memory limit in bytes. Zero means "not set".
 *
 * @param cpuRequestMillis {@code resources.requests.cpu} in millicores
 * @param cpuLimitMillis {@code resources.limits.cpu} in millicores
 * @param memoryRequestBytes {@code resources.requests.memory}
 * @param memoryLimitBytes {@code resources.limits.memory}
 */
public record ContainerResources(
    long cpuRequestMillis, long cpuLimitMillis, long memoryRequestBytes, long memoryLimitBytes) {

  public static final ContainerResources NONE = new ContainerResources(0, 0, 0, 0);

  /** The CFS period the kubelet uses, in microseconds. */
  public static final long CPU_PERIOD_US = 100_000;

  private static final long MIN_SHARES = 2;
  private static final long MAX_SHARES = 262_144;
  private static final long MIN_QUOTA_US = 1_000;

  /**
   * The {@code resources} of a container spec. A limit without a request counts as both, as the
   * apiserver's defaulting makes it (pods written to the store directly may lack the default).
   */
  public static ContainerResources of(JsonNode container) throws ContainerConfigException {
    JsonNode r = container.path("resources");
    long cpuLimit = millis(r.path("limits").path("cpu"), "limits.cpu");
    long cpuRequest = millis(r.path("requests").path("cpu"), "requests.cpu");
    long memLimit = bytes(r.path("limits").path("memory"), "limits.memory");
    long memRequest = bytes(r.path("requests").path("memory"), "requests.memory");
    if (cpuRequest == 0 && !r.path("requests").has("cpu")) {
      cpuRequest = cpuLimit;
    }
    if (memRequest == 0 && !r.path("requests").has("memory")) {
      memRequest = memLimit;
    }
    return new ContainerResources(cpuRequest, cpuLimit, memRequest, memLimit);
  }

  /** CFS shares (cgroup v1 {@code cpu.shares}): 1024 per core requested, at least 2. */
  public long cpuShares() {
    long shares = cpuRequestMillis * 1024 / 1000;
    return Math.max(MIN_SHARES, Math.min(MAX_SHARES, shares));
  }

  /** The CFS quota per {@link #CPU_PERIOD_US} in microseconds; 0 when there is no CPU limit. */
  public long cpuQuotaMicros() {
    if (cpuLimitMillis <= 0) {
      return 0;
    }
    return Math.max(MIN_QUOTA_US, cpuLimitMillis * CPU_PERIOD_US / 1000);
  }

  /** cgroup v2 {@code cpu.weight} for these shares (the conversion runc and the kubelet use). */
  public long cpuWeight() {
    return 1 + ((cpuShares() - 2) * 9999) / 262_142;
  }

  public boolean hasLimits() {
    return cpuLimitMillis > 0 || memoryLimitBytes > 0;
  }

  public boolean isEmpty() {
    return cpuRequestMillis == 0
        && cpuLimitMillis == 0
        && memoryRequestBytes == 0
        && memoryLimitBytes == 0;
  }

  private static long millis(JsonNode q, String what) throws ContainerConfigException {
    if (q.isMissingNode() || q.isNull()) {
      return 0;
    }
    BigDecimal v = parse(q, what);
    return v.movePointRight(3).setScale(0, RoundingMode.CEILING).longValueExact();
  }

  private static long bytes(JsonNode q, String what) throws ContainerConfigException {
    if (q.isMissingNode() || q.isNull()) {
      return 0;
    }
    return parse(q, what).setScale(0, RoundingMode.CEILING).longValueExact();
  }

  private static BigDecimal parse(JsonNode q, String what) throws ContainerConfigException {
    String text = q.isNumber() ? q.asString() : q.asString("");
    try {
      BigDecimal v = Quantity.parse(text);
      if (v.signum() < 0) {
        throw new IllegalArgumentException("negative");
      }
      return v;
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new ContainerConfigException("resources." + what + " is not a valid quantity: " + text);
    }
  }
}
