package io.kedge.edge.edged;

import io.kedge.protocol.Json;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Events about pods, as the kubelet records them ({@code Pulling}, {@code Failed}, {@code
 * Unhealthy}, {@code Killing}, …; source component {@code kubelet}, the node as host), sent to the
 * cloud through the {@link PodStatusSink}. A repeat of the same event within ten minutes raises the
 * first one's {@code count} instead of making a new object, as the kubelet's correlator does.
 * Events are best effort: one that cannot be sent (offline) is dropped.
 */
final class PodEvents {
  private static final Logger log = LoggerFactory.getLogger(PodEvents.class);
  private static final Duration SAME_EVENT_WINDOW = Duration.ofMinutes(10);
  private static final int REMEMBERED = 4096;

  static final String NORMAL = "Normal";
  static final String WARNING = "Warning";

  /** The pod an event is about. */
  record PodRef(String namespace, String name, String uid) {}

  private record Seen(String name, int count, Instant first, Instant last) {}

  private final PodStatusSink sink;
  private final String node;
  private final Clock clock;
  private final Map<String, Seen> seen =
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Seen> eldest) {
          return size() > REMEMBERED;
        }
      };

  PodEvents(PodStatusSink sink, String node, Clock clock) {
    this.sink = sink;
    this.node = node;
    this.clock = clock;
  }

  /** The field path of a container, as events name it ({@code spec.containers{app}}). */
  static String fieldPath(String container, boolean init) {
    return container == null
        ? null
        : (init ? "spec.initContainers{" : "spec.containers{") + container + "}";
  }

  void normal(PodRef pod, String fieldPath, String reason, String message) {
    record(pod, fieldPath, NORMAL, reason, message);
  }

  void warning(PodRef pod, String fieldPath, String reason, String message) {
    record(pod, fieldPath, WARNING, reason, message);
  }

  void record(PodRef pod, String fieldPath, String type, String reason, String message) {
    Instant now = clock.instant();
    String key =
        pod.uid() + "\u0000" + fieldPath + "\u0000" + type + "\u0000" + reason + "\u0000" + message;
    Seen before;
    Seen next;
    synchronized (seen) {
      before = seen.get(key);
      if (before != null && Duration.between(before.last(), now).compareTo(SAME_EVENT_WINDOW) < 0) {
        next = new Seen(before.name(), before.count() + 1, before.first(), now);
      } else {
        before = null;
        next = new Seen(pod.name() + "." + Long.toHexString(nanos(now)), 1, now, now);
      }
      seen.put(key, next);
    }
    try {
      if (before == null) {
        sink.createEvent(pod.namespace(), event(pod, fieldPath, type, reason, message, next));
      } else {
        ObjectNode patch = Json.object();
        patch.put("count", next.count());
        patch.put("lastTimestamp", PodStatusBuilder.time(now));
        patch.put("message", message);
        sink.patchEvent(pod.namespace(), next.name(), patch);
      }
    } catch (RuntimeException e) {
      log.debug(
          "event {} {} for pod {}/{} not sent: {}",
          reason,
          message,
          pod.namespace(),
          pod.name(),
          e.toString());
    }
  }

  private ObjectNode event(
      PodRef pod, String fieldPath, String type, String reason, String message, Seen s) {
    ObjectNode e = Json.object();
    e.put("apiVersion", "v1");
    e.put("kind", "Event");
    e.putObject("metadata").put("name", s.name()).put("namespace", pod.namespace());
    ObjectNode ref = e.putObject("involvedObject");
    ref.put("kind", "Pod");
    ref.put("namespace", pod.namespace());
    ref.put("name", pod.name());
    ref.put("uid", pod.uid());
    ref.put("apiVersion", "v1");
    if (fieldPath != null) {
      ref.put("fieldPath", fieldPath);
    }
    e.put("reason", reason);
    e.put("message", message);
    e.putObject("source").put("component", "kubelet").put("host", node);
    e.put("firstTimestamp", PodStatusBuilder.time(s.first()));
    e.put("lastTimestamp", PodStatusBuilder.time(s.last()));
    e.put("count", s.count());
    e.put("type", type);
    return e;
  }

  /** Unique per call (names must not collide when two events come in the same microsecond). */
  private long nanos(Instant t) {
    long n = t.getEpochSecond() * 1_000_000_000L + t.getNano();
    lastNanos = Math.max(lastNanos + 1, n);
    return lastNanos;
  }

  private long lastNanos;
}
