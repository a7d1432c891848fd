package io.kedge.edge.edged;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.protocol.Json;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Requests and limits as the kubelet turns them into cgroup values; the host's cgroup layout. */
class ContainerResourcesTest {

  static ContainerResources of(String resources) throws ContainerConfigException {
    return ContainerResources.of(Json.parse("{\"name\":\"c\",\"resources\":" + resources + "}"));
  }

  @Test
  void cpuAndMemoryBecomeSharesQuotaAndBytes() throws Exception {
    ContainerResources r =
        of(
            "{\"requests\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"},\"limits\":{\"cpu\":\"1.5\",\"memory\":\"128Mi\"}}");
    assertThat(r.cpuRequestMillis()).isEqualTo(250);
    assertThat(r.cpuShares()).isEqualTo(256);
    assertThat(r.cpuQuotaMicros()).isEqualTo(150_000);
    assertThat(r.memoryLimitBytes()).isEqualTo(128L << 20);
    assertThat(r.memoryRequestBytes()).isEqualTo(64L << 20);
    assertThat(r.cpuWeight()).isEqualTo(1 + (254L * 9999) / 262_142);
  }

  @Test
  void aLimitAloneIsAlsoTheRequestAndTinyValuesHaveFloors() throws Exception {
    ContainerResources r = of("{\"limits\":{\"cpu\":\"1m\",\"memory\":\"1G\"}}");
    assertThat(r.cpuRequestMillis()).isEqualTo(1);
    assertThat(r.cpuShares()).as("at least 2").isEqualTo(2);
    assertThat(r.cpuQuotaMicros()).as("at least 1 ms").isEqualTo(1000);
    assertThat(r.memoryRequestBytes()).isEqualTo(1_000_000_000L);
    assertThat(ContainerResources.of(Json.parse("{\"name\":\"c\"}")))
        .isEqualTo(ContainerResources.NONE);
    assertThat(ContainerResources.NONE.cpuShares()).isEqualTo(2);
    assertThat(ContainerResources.NONE.cpuQuotaMicros()).isZero();
  }

  @Test
  void badQuantitiesAreConfigErrors() {
    assertThatThrownBy(() -> of("{\"limits\":{\"memory\":\"lots\"}}"))
        .isInstanceOf(ContainerConfigException.class)
        .hasMessageContaining("resources.limits.memory")
        .hasMessageContaining("lots");
  }

  @Test
  void podLimitsAreSumsOnlyWhenEveryContainerHasOne() {
    ContainerResources a = new ContainerResources(100, 200, 0, 64L << 20);
    ContainerResources b = new ContainerResources(300, 500, 0, 32L << 20);
    ContainerResources unlimited = new ContainerResources(100, 0, 0, 0);
    Cgroups.Limits both = PodCgroups.podLimits(List.of(a, b), List.of());
    assertThat(both.memoryBytes()).isEqualTo(96L << 20);
    assertThat(both.cpuQuotaMicros()).isEqualTo(70_000);
    assertThat(both.cpuShares()).isEqualTo(409);
    Cgroups.Limits some = PodCgroups.podLimits(List.of(a, unlimited), List.of());
    assertThat(some.memoryBytes()).isZero();
    assertThat(some.cpuQuotaMicros()).isZero();
    ContainerResources bigInit = new ContainerResources(1000, 1000, 0, 256L << 20);
    assertThat(PodCgroups.podLimits(List.of(a, b), List.of(bigInit)).memoryBytes())
        .as("an init container's own limit when larger than the app containers' sum")
        .isEqualTo(256L << 20);
  }

  @Test
  void mountinfoOfAHybridHostIsVersionOneAndOfAUnifiedHostVersionTwo() {
    List<String> hybrid =
        List.of(
            "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
            "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
            "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
            "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw");
    Optional<Cgroups> v1 = Cgroups.parse(hybrid);
    assertThat(v1).isPresent();
    assertThat(v1.get().version()).isEqualTo(1);
    assertThat(v1.get().procsFiles("/kedge/n/pod1"))
        .extracting(Object::toString)
        .containsExactlyInAnyOrder(
            "/sys/fs/cgroup/memory/kedge/n/pod1/cgroup.procs",
            "/sys/fs/cgroup/cpu/kedge/n/pod1/cgroup.procs");
    assertThat(Cgroups.parse(List.of("22 1 0:20 / /proc rw - proc proc rw"))).isEmpty();
  }

  @Test
  void theNodeKeepsWhatEdgecoreReservesFromPods() {
    NodeReservation r = new NodeReservation(100, 160L << 20);
    assertThat(r.allocatableMemory(1L << 30)).isEqualTo((1L << 30) - (160L << 20) - (100L << 20));
    assertThat(r.allocatableCpuMillis(2)).isEqualTo(1900);
    var facts =
        new io.kedge.edge.node.NodeFacts(
            java.util.Map.of("cpu", "2", "memory", "1048576Ki"),
            java.util.Map.of("cpu", "2", "memory", "946176Ki"),
            java.util.Map.of());
    var applied = r.applyTo(facts);
    assertThat(applied.allocatable()).containsEntry("cpu", "1900m");
    assertThat(applied.allocatable())
        .containsEntry("memory", (1048576 - 160 * 1024 - 100 * 1024) + "Ki");
    assertThat(applied.capacity()).isEqualTo(facts.capacity());
    NodeReservation own = NodeReservation.ofThisProcess();
    assertThat(own.memoryBytes())
        .isGreaterThanOrEqualTo(Runtime.getRuntime().maxMemory())
        .isEqualTo(own.memoryBytes() / (1 << 20) * (1 << 20));
  }
}
