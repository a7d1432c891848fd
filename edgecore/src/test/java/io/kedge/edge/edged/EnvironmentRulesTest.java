package io.kedge.edge.edged;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.protocol.Json;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The kubelet's rules for expansion, quantities, back-off and phases, without processes. */
class EnvironmentRulesTest {
  static final NodeInfo NODE =
      new NodeInfo(
          "edge-1",
          "10.0.0.5",
          BigDecimal.valueOf(2),
          BigDecimal.valueOf(4L << 30),
          BigDecimal.ZERO);

  @Test
  void expansionFollowsKubernetes() {
    Map<String, String> env = Map.of("A", "1", "B", "two");
    assertThat(EnvExpansion.expand("$(A)-$(B)", env::get)).isEqualTo("1-two");
    assertThat(EnvExpansion.expand("$(MISSING) stays", env::get)).isEqualTo("$(MISSING) stays");
    assertThat(EnvExpansion.expand("$$(A) is literal", env::get)).isEqualTo("$(A) is literal");
    assertThat(EnvExpansion.expand("cost $5 and $(A", env::get)).isEqualTo("cost $5 and $(A");
  }

  @Test
  void quantitiesAndDivisors() {
    assertThat(Quantity.parse("500m")).isEqualByComparingTo("0.5");
    assertThat(Quantity.parse("1Gi")).isEqualByComparingTo(BigDecimal.valueOf(1L << 30));
    assertThat(Quantity.parse("2e3")).isEqualByComparingTo("2000");
    assertThat(Quantity.divideCeil(Quantity.parse("500m"), BigDecimal.ONE)).isEqualTo("1");
    assertThat(Quantity.divideCeil(Quantity.parse("1Gi"), Quantity.parse("1Mi"))).isEqualTo("1024");
    assertThatThrownBy(() -> Quantity.parse("12bogus"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void userVariablesWinOverTheServiceOnesAndEnvFromSkipsBadNames() throws Exception {
    JsonNode pod =
        Json.parse(
            "{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\",\"labels\":{\"b\":\"2\",\"a\":\"1\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
                + "\"command\":[\"run\",\"$(KUBERNETES_SERVICE_HOST)\"],"
                + "\"envFrom\":[{\"configMapRef\":{\"name\":\"cm\"}}],"
                + "\"env\":[{\"name\":\"KUBERNETES_SERVICE_PORT\",\"value\":\"8443\"},"
                + "{\"name\":\"L\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.labels\"}}},"
                + "{\"name\":\"OPT\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"nope\",\"key\":\"k\",\"optional\":true}}}]}]}}");
    PodInputs in = new PodInputs();
    in.configMaps.put(
        "cm",
        Optional.of(Json.parse("{\"data\":{\"GOOD\":\"g\",\"1bad\":\"x\",\"also bad\":\"y\"}}")));
    ContainerEnvironment.Result r =
        ContainerEnvironment.build(
            pod,
            pod.path("spec").path("containers").path(0),
            in,
            NODE,
            Optional.of(new KubernetesService("169.254.30.10", "10550")));
    Map<String, String> env = new java.util.LinkedHashMap<>();
    r.env().forEach(v -> env.put(v.name(), v.value()));
    assertThat(env)
        .containsEntry("GOOD", "g")
        .doesNotContainKeys("1bad", "also bad", "OPT")
        .containsEntry("KUBERNETES_SERVICE_PORT", "8443")
        .containsEntry("KUBERNETES_SERVICE_HOST", "169.254.30.10")
        .containsEntry("KUBERNETES_SERVICE_PORT_HTTPS", "10550")
        .containsEntry("L", "a=\"1\"\nb=\"2\"\n");
    assertThat(r.command()).containsExactly("run", "169.254.30.10");

    // Without requireAuthorization the variables exist but are empty.
    ContainerEnvironment.Result off =
        ContainerEnvironment.build(
            pod, pod.path("spec").path("containers").path(0), in, NODE, Optional.empty());
    assertThat(off.env()).contains(new ContainerConfig.EnvVar("KUBERNETES_SERVICE_HOST", ""));
  }

  @Test
  void backoffDoublesUpToTheLimit() {
    RestartBackoff b = RestartBackoff.kubeletDefault();
    assertThat(List.of(b.delay(0), b.delay(1), b.delay(2), b.delay(3), b.delay(10)))
        .containsExactly(
            Duration.ZERO,
            Duration.ofSeconds(10),
            Duration.ofSeconds(20),
            Duration.ofSeconds(40),
            Duration.ofMinutes(5));
  }

  @Test
  void phasesAsTheKubeletComputesThem() {
    ContainerRecord ok = exited("a", 0);
    ContainerRecord bad = exited("b", 3);
    ContainerRecord running = new ContainerRecord("c", false);
    running.current =
        new ContainerState("3", ContainerState.Phase.RUNNING, null, null, null, 0, "", "");
    ContainerRecord waiting = new ContainerRecord("d", false);
    assertThat(PodStatusBuilder.phase(List.of(ok), true, "Never")).isEqualTo("Succeeded");
    assertThat(PodStatusBuilder.phase(List.of(ok, bad), true, "Never")).isEqualTo("Failed");
    assertThat(PodStatusBuilder.phase(List.of(ok, bad), true, "OnFailure")).isEqualTo("Running");
    assertThat(PodStatusBuilder.phase(List.of(ok), true, "Always")).isEqualTo("Running");
    assertThat(PodStatusBuilder.phase(List.of(running, waiting), true, "Always"))
        .isEqualTo("Pending");
    assertThat(PodStatusBuilder.phase(List.of(running), false, "Always")).isEqualTo("Pending");
  }

  private static ContainerRecord exited(String name, int code) {
    ContainerRecord r = new ContainerRecord(name, false);
    r.current =
        new ContainerState(
            name,
            ContainerState.Phase.EXITED,
            null,
            null,
            null,
            code,
            code == 0 ? "Completed" : "Error",
            "");
    return r;
  }
}
