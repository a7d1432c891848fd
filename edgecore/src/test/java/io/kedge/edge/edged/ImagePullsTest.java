package io.kedge.edge.edged;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Pull policies, credentials and back-off as the kubelet has them, with a scripted runtime. */
class ImagePullsTest {
  final EdgedTest.RecordingSink sink = new EdgedTest.RecordingSink();
  final MutableClock clock = new MutableClock();
  final PullingRuntime runtime = new PullingRuntime();
  final PodEvents events = new PodEvents(sink, "edge-1", clock);
  final PodEvents.PodRef pod = new PodEvents.PodRef("ns1", "p", "uid-p");
  final RestartBackoff backoff =
      new RestartBackoff(Duration.ofSeconds(10), Duration.ofMinutes(5), Duration.ofMinutes(10));
  final SandboxConfig sandbox =
      new SandboxConfig(
          "ns1",
          "p",
          "uid-p",
          "edge-1",
          Path.of("/x"),
          Path.of("/x/logs"),
          Map.of(),
          Map.of(),
          true,
          "");

  ImagePulls pulls(List<RegistryCredentials.Entry> node) {
    return new ImagePulls(runtime, () -> node, backoff, events, clock);
  }

  static JsonNode container(String image, String policy) {
    return Json.parse(
        "{\"name\":\"c\",\"image\":\""
            + image
            + "\""
            + (policy == null ? "" : ",\"imagePullPolicy\":\"" + policy + "\"")
            + "}");
  }

  @Test
  void defaultPolicyIsAlwaysForLatestOrNoTagElseIfNotPresent() {
    assertThat(ImagePulls.policyOf(container("busybox", null))).isEqualTo("Always");
    assertThat(ImagePulls.policyOf(container("busybox:latest", null))).isEqualTo("Always");
    assertThat(ImagePulls.policyOf(container("reg:5000/a/b:1.2", null))).isEqualTo("IfNotPresent");
    assertThat(ImagePulls.policyOf(container("reg:5000/a/b@sha256:abcd", null)))
        .isEqualTo("IfNotPresent");
    assertThat(ImagePulls.policyOf(container("busybox", "Never"))).isEqualTo("Never");
  }

  @Test
  void presentImagesAreUsedUnlessThePolicyIsAlways() {
    runtime.present.put("reg:5000/app:1", "sha256:one");
    ImagePulls.State st = new ImagePulls.State();
    var r =
        pulls(List.of())
            .ensure(
                pod,
                "f",
                container("reg:5000/app:1", null),
                List.of(),
                sandbox,
                st,
                clock.instant());
    assertThat(r.isReady()).isTrue();
    assertThat(r.imageRef()).isEqualTo("sha256:one");
    assertThat(runtime.pulls).isEmpty();
    assertThat(sink.events("p", "Pulled"))
        .containsExactly("Container image \"reg:5000/app:1\" already present on machine");

    runtime.pullable.put("reg:5000/app:1", "sha256:two");
    r =
        pulls(List.of())
            .ensure(
                pod,
                "f",
                container("reg:5000/app:1", "Always"),
                List.of(),
                sandbox,
                st,
                clock.instant());
    assertThat(r.imageRef()).isEqualTo("sha256:two");
    assertThat(runtime.pulls).containsExactly("reg:5000/app:1 anonymous");
  }

  @Test
  void anUnreachableRegistryFallsBackToThePresentImageButARefusalDoesNot() {
    runtime.present.put("reg:5000/app:1", "sha256:here");
    runtime.failure = "dial tcp 10.0.0.9:5000: connect: connection refused";
    var r =
        pulls(List.of())
            .ensure(
                pod,
                "f",
                container("reg:5000/app:1", "Always"),
                List.of(),
                sandbox,
                new ImagePulls.State(),
                clock.instant());
    assertThat(r.imageRef()).isEqualTo("sha256:here");
    assertThat(sink.events("p", "PullUnreachable")).hasSize(1);
    runtime.failure = "401 Unauthorized";
    var refused =
        pulls(List.of())
            .ensure(
                pod,
                "f",
                container("reg:5000/app:1", "Always"),
                List.of(),
                sandbox,
                new ImagePulls.State(),
                clock.instant());
    assertThat(refused.reason()).isEqualTo("ErrImagePull");
    assertThat(refused.message()).isEqualTo("401 Unauthorized");
  }

  @Test
  void neverWithoutTheImageSaysSo() {
    var r =
        pulls(List.of())
            .ensure(
                pod,
                "f",
                container("reg:5000/app:1", "Never"),
                List.of(),
                sandbox,
                new ImagePulls.State(),
                clock.instant());
    assertThat(r.reason()).isEqualTo("ErrImageNeverPull");
    assertThat(r.message())
        .isEqualTo("Container image \"reg:5000/app:1\" is not present with pull policy of Never");
    assertThat(runtime.pulls).isEmpty();
  }

  @Test
  void aFailedPullIsErrImagePullThenImagePullBackOffUntilTheBackOffEnds() {
    ImagePulls p = pulls(List.of());
    ImagePulls.State st = new ImagePulls.State();
    JsonNode c = container("reg:5000/late:1", null);
    var first = p.ensure(pod, "f", c, List.of(), sandbox, st, clock.instant());
    assertThat(first.reason()).isEqualTo("ErrImagePull");
    assertThat(first.message()).isEqualTo("reg:5000/late:1: not found");
    assertThat(first.retryAt()).isEqualTo(clock.instant().plus(ImagePulls.ERROR_SHOWN));

    clock.advance(Duration.ofSeconds(2));
    var backingOff = p.ensure(pod, "f", c, List.of(), sandbox, st, clock.instant());
    assertThat(backingOff.reason()).isEqualTo("ImagePullBackOff");
    assertThat(backingOff.message()).isEqualTo("Back-off pulling image \"reg:5000/late:1\"");
    assertThat(runtime.pulls).hasSize(1);

    clock.advance(Duration.ofSeconds(8));
    var again = p.ensure(pod, "f", c, List.of(), sandbox, st, clock.instant());
    assertThat(again.reason()).isEqualTo("ErrImagePull");
    assertThat(runtime.pulls).hasSize(2);
    clock.advance(Duration.ofSeconds(10));
    assertThat(p.ensure(pod, "f", c, List.of(), sandbox, st, clock.instant()).reason())
        .as("the second back-off is 20 s")
        .isEqualTo("ImagePullBackOff");

    runtime.pullable.put("reg:5000/late:1", "sha256:late");
    clock.advance(Duration.ofSeconds(10));
    var pulled = p.ensure(pod, "f", c, List.of(), sandbox, st, clock.instant());
    assertThat(pulled.imageRef()).isEqualTo("sha256:late");
    assertThat(st.level).as("reset after a pull").isZero();
    assertThat(sink.events("p", "Failed"))
        .contains(
            "Error: ErrImagePull",
            "Failed to pull image \"reg:5000/late:1\": reg:5000/late:1: not found");
    assertThat(sink.events("p", "BackOff")).contains("Back-off pulling image \"reg:5000/late:1\"");
  }

  @Test
  void podSecretsComeBeforeTheNodesCredentialsAndEachIsTriedInTurn() {
    runtime.pullable.put("reg:5000/team/app:1", "sha256:app");
    runtime.acceptedUser = "node-user";
    List<RegistryCredentials.Entry> podCreds =
        RegistryCredentials.fromSecret(dockerConfigSecret("reg:5000", "pod-user", "pw"));
    List<RegistryCredentials.Entry> nodeCreds =
        RegistryCredentials.entries(
            Json.parse(
                "{\"https://reg:5000/v1/\":{\"username\":\"node-user\",\"password\":\"pw2\"},"
                    + "\"other:5000\":{\"username\":\"stranger\",\"password\":\"x\"}}"));
    var r =
        pulls(nodeCreds)
            .ensure(
                pod,
                "f",
                container("reg:5000/team/app:1", null),
                podCreds,
                sandbox,
                new ImagePulls.State(),
                clock.instant());
    assertThat(r.imageRef()).isEqualTo("sha256:app");
    assertThat(runtime.pulls)
        .containsExactly("reg:5000/team/app:1 pod-user", "reg:5000/team/app:1 node-user");
  }

  @Test
  void keysMatchRegistriesAsDockersKeyringDoes() {
    var img = RegistryCredentials.ImageName.parse("reg.example.com:5000/team/app:1");
    assertThat(img.registry()).isEqualTo("reg.example.com:5000");
    assertThat(img.repository()).isEqualTo("team/app");
    assertThat(RegistryCredentials.matches("reg.example.com:5000", img)).isTrue();
    assertThat(RegistryCredentials.matches("https://reg.example.com:5000/v2/", img)).isTrue();
    assertThat(RegistryCredentials.matches("reg.example.com:5000/team", img)).isTrue();
    assertThat(RegistryCredentials.matches("reg.example.com:5000/other", img)).isFalse();
    assertThat(RegistryCredentials.matches("*.example.com:5000", img)).isTrue();
    assertThat(RegistryCredentials.matches("reg.example.com", img)).as("port differs").isFalse();
    var hub = RegistryCredentials.ImageName.parse("busybox");
    assertThat(hub.registry()).isEqualTo("docker.io");
    assertThat(hub.repository()).isEqualTo("library/busybox");
    assertThat(RegistryCredentials.matches("https://index.docker.io/v1/", hub)).isTrue();
  }

  static JsonNode dockerConfigSecret(String registry, String user, String password) {
    String auth =
        Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    String config = "{\"auths\":{\"" + registry + "\":{\"auth\":\"" + auth + "\"}}}";
    return Json.parse(
        "{\"metadata\":{\"name\":\"regcred\"},\"type\":\"kubernetes.io/dockerconfigjson\","
            + "\"data\":{\".dockerconfigjson\":\""
            + Base64.getEncoder().encodeToString(config.getBytes(StandardCharsets.UTF_8))
            + "\"}}");
  }

  /** Images it has, images it can pull (with {@code acceptedUser}, or anonymously). */
  static final class PullingRuntime extends PodWorkerTest.FakeRuntime {
    final Map<String, String> present = new ConcurrentHashMap<>();
    final Map<String, String> pullable = new ConcurrentHashMap<>();
    final List<String> pulls = new ArrayList<>();
    String acceptedUser;
    String failure;

    @Override
    public boolean usesImages() {
      return true;
    }

    @Override
    public Optional<String> imageRef(String image) {
      return Optional.ofNullable(present.get(image));
    }

    @Override
    public String pullImage(String image, Optional<RegistryAuth> auth, SandboxConfig sandbox)
        throws RuntimeFailure {
      String user = auth.map(RegistryAuth::username).orElse("anonymous");
      pulls.add(image + " " + user);
      if (failure != null) {
        throw new RuntimeFailure("ErrImagePull", failure);
      }
      if (!pullable.containsKey(image)) {
        throw new RuntimeFailure("ErrImagePull", image + ": not found");
      }
      if (acceptedUser != null && !acceptedUser.equals(user)) {
        throw new RuntimeFailure("ErrImagePull", "401 Unauthorized");
      }
      present.put(image, pullable.get(image));
      return pullable.get(image);
    }
  }

  static final class MutableClock extends Clock {
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
