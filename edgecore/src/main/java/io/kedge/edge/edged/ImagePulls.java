package io.kedge.edge.edged;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Gets a container's image onto the node before it starts, as the kubelet does: {@code
 * imagePullPolicy} ({@code Always}, {@code IfNotPresent}, {@code Never}; by default {@code Always}
 * for {@code :latest} or no tag), the pod's pull secrets then the node's credentials, each tried in
 * turn, events {@code Pulling}/{@code Pulled}/{@code Failed}/{@code BackOff}, and after a failure
 * {@code ErrImagePull} (with the registry's message) then {@code ImagePullBackOff} until the
 * back-off (10 s doubling to 5 min) lets the next pull happen. Unlike the kubelet, a pull that
 * cannot reach the registry at all falls back to the image on the node when there is one: an edge
 * node must bring its pods back while offline.
 */
final class ImagePulls {
  private static final Logger log = LoggerFactory.getLogger(ImagePulls.class);

  /** How long {@code ErrImagePull} shows before the container turns to {@code ImagePullBackOff}. */
  static final Duration ERROR_SHOWN = Duration.ofSeconds(2);

  /** A policy of Never and a missing image: looked at again this often. */
  static final Duration NEVER_RECHECK = Duration.ofSeconds(10);

  /** Where a container stands with its image. */
  record Result(String imageRef, String reason, String message, Instant retryAt) {
    static Result ready(String ref) {
      return new Result(ref, "", "", Instant.MAX);
    }

    static Result waiting(String reason, String message, Instant retryAt) {
      return new Result(null, reason, message, retryAt);
    }

    boolean isReady() {
      return imageRef != null;
    }
  }

  /** A container's pulls across syncs: how far the back-off has grown, when the next may run. */
  static final class State {
    int level;
    Instant notBefore = Instant.EPOCH;
  }

  private final PodRuntime runtime;
  private final Supplier<List<RegistryCredentials.Entry>> nodeCredentials;
  private final RestartBackoff backoff;
  private final PodEvents events;
  private final Clock clock;

  ImagePulls(
      PodRuntime runtime,
      Supplier<List<RegistryCredentials.Entry>> nodeCredentials,
      RestartBackoff backoff,
      PodEvents events,
      Clock clock) {
    this.runtime = runtime;
    this.nodeCredentials = nodeCredentials;
    this.backoff = backoff;
    this.events = events;
    this.clock = clock;
  }

  static String policyOf(JsonNode container) {
    String p = container.path("imagePullPolicy").asString("");
    if (p.isEmpty()) {
      return RegistryCredentials.ImageName.parse(container.path("image").asString(""))
          .defaultPullPolicy();
    }
    return p;
  }

  /**
   * Makes sure the container's image is on the node. Blocks while pulling.
   *
   * @param podCredentials entries of the pod's {@code imagePullSecrets}
   */
  Result ensure(
      PodEvents.PodRef pod,
      String fieldPath,
      JsonNode container,
      List<RegistryCredentials.Entry> podCredentials,
      SandboxConfig sandbox,
      State state,
      Instant now) {
    String image = container.path("image").asString("");
    if (image.isBlank()) {
      String msg = "Failed to apply default image tag \"\": couldn't parse image reference \"\"";
      events.warning(pod, fieldPath, "InspectFailed", msg);
      return Result.waiting("InvalidImageName", msg, now.plus(NEVER_RECHECK));
    }
    String policy = policyOf(container);
    Optional<String> present;
    try {
      present = runtime.imageRef(image);
    } catch (PodRuntime.RuntimeFailure e) {
      String msg = "Failed to inspect image \"" + image + "\": " + e.getMessage();
      events.warning(pod, fieldPath, "InspectFailed", msg);
      return Result.waiting("ImageInspectError", msg, now.plus(NEVER_RECHECK));
    }
    switch (policy) {
      case "Never" -> {
        if (present.isPresent()) {
          return Result.ready(present.get());
        }
        String msg = "Container image \"" + image + "\" is not present with pull policy of Never";
        events.warning(pod, fieldPath, "ErrImageNeverPull", msg);
        return Result.waiting("ErrImageNeverPull", msg, now.plus(NEVER_RECHECK));
      }
      case "IfNotPresent" -> {
        if (present.isPresent()) {
          events.normal(
              pod,
              fieldPath,
              "Pulled",
              "Container image \"" + image + "\" already present on machine");
          return Result.ready(present.get());
        }
      }
      case "Always" -> {
        // pulled every time: the registry says whether the tag moved
      }
      default -> {
        String msg = "unsupported imagePullPolicy \"" + policy + "\"";
        return Result.waiting(ContainerConfigException.CONFIG_ERROR, msg, now.plus(NEVER_RECHECK));
      }
    }
    if (now.isBefore(state.notBefore)) {
      String msg = "Back-off pulling image \"" + image + "\"";
      events.normal(pod, fieldPath, "BackOff", msg);
      events.warning(pod, fieldPath, "Failed", "Error: ImagePullBackOff");
      return Result.waiting("ImagePullBackOff", msg, state.notBefore);
    }
    events.normal(pod, fieldPath, "Pulling", "Pulling image \"" + image + "\"");
    Instant began = clock.instant();
    List<PodRuntime.RegistryAuth> auths =
        RegistryCredentials.lookup(image, podCredentials, nodeCredentials.get());
    List<String> errors = new ArrayList<>();
    List<Optional<PodRuntime.RegistryAuth>> attempts = new ArrayList<>();
    auths.forEach(a -> attempts.add(Optional.of(a)));
    if (attempts.isEmpty()) {
      attempts.add(Optional.empty());
    }
    for (Optional<PodRuntime.RegistryAuth> auth : attempts) {
      try {
        String ref = runtime.pullImage(image, auth, sandbox);
        Duration took = Duration.between(began, clock.instant());
        events.normal(
            pod,
            fieldPath,
            "Pulled",
            "Successfully pulled image \"" + image + "\" in " + goDuration(took));
        log.info(
            "pod {}/{}: pulled {} in {} ms{}",
            pod.namespace(),
            pod.name(),
            image,
            took.toMillis(),
            auth.map(a -> " with credentials for " + a.serverAddress()).orElse(""));
        state.level = 0;
        state.notBefore = Instant.EPOCH;
        return Result.ready(ref);
      } catch (PodRuntime.RuntimeFailure e) {
        errors.add(e.getMessage());
      }
    }
    String err = errors.size() == 1 ? errors.get(0) : errors.toString();
    events.warning(pod, fieldPath, "Failed", "Failed to pull image \"" + image + "\": " + err);
    if (present.isPresent() && unreachable(err)) {
      // Kedge: an edge node must start its pods while its registry is out of reach (offline,
      // rebooted); a refusal (credentials, missing tag) still stops the container.
      events.warning(
          pod,
          fieldPath,
          "PullUnreachable",
          "The registry of image \""
              + image
              + "\" cannot be reached; using the image present on the node");
      return Result.ready(present.get());
    }
    events.warning(pod, fieldPath, "Failed", "Error: ErrImagePull");
    state.level++;
    Duration delay = backoff.delay(state.level);
    Instant after = clock.instant();
    state.notBefore = after.plus(delay);
    log.info(
        "pod {}/{}: cannot pull {} (next try in {} s): {}",
        pod.namespace(),
        pod.name(),
        image,
        delay.toSeconds(),
        err);
    Duration shown = ERROR_SHOWN.compareTo(delay) < 0 ? ERROR_SHOWN : delay;
    return Result.waiting("ErrImagePull", err, after.plus(shown));
  }

  /** Whether a pull failed for want of a connection to the registry (not for its answer). */
  static boolean unreachable(String error) {
    String e = error.toLowerCase(java.util.Locale.ROOT);
    return e.contains("connection refused")
        || e.contains("no such host")
        || e.contains("i/o timeout")
        || e.contains("network is unreachable")
        || e.contains("no route to host")
        || e.contains("connection reset")
        || e.contains("tls handshake timeout")
        || e.contains("temporary failure in name resolution");
  }

  /** A duration as Go prints one ({@code 1.234s}, {@code 512ms}). */
  static String goDuration(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + "ms";
    }
    String s = String.format(java.util.Locale.ROOT, "%.3f", ms / 1000.0);
    s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
    return s + "s";
  }
}
