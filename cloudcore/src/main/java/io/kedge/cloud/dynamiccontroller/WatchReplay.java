package io.kedge.cloud.dynamiccontroller;

import io.kedge.cloud.kube.ApiResource;
import io.kedge.cloud.kube.ApiStatusException;
import io.kedge.cloud.kube.ResourceVersions;
import io.kedge.protocol.Json;
import io.kedge.protocol.status.KubeStatus;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The apiserver's own events of one watch scope since a resourceVersion: a watch started at that
 * version with the caller's rights and ended by the apiserver after {@code window} seconds. The
 * apiserver first sends what its watch cache holds since that version, then what happens during the
 * window (which covers an informer a little ahead of the watch cache). A version older than the
 * watch cache fails with the apiserver's 410 {@code Expired}.
 */
final class WatchReplay {

  /** One event as the apiserver sent it. */
  record Event(String type, JsonNode object, long resourceVersion) {}

  /** Replays running at once: each holds an apiserver watch for its window. */
  static final int CONCURRENT = 32;

  private final ApiTransport transport;
  private final int windowSeconds;
  private final AsyncLimiter limit = new AsyncLimiter(CONCURRENT);

  WatchReplay(ApiTransport transport, int windowSeconds) {
    this.transport = transport;
    this.windowSeconds = Math.max(1, windowSeconds);
  }

  /**
   * Events of {@code resource} in {@code namespace} (null: all) matching the selectors (raw, as the
   * edge sent them; empty: none) with a resourceVersion above {@code from}, oldest first.
   */
  CompletableFuture<List<Event>> since(
      ApiResource resource,
      String namespace,
      String name,
      String labelSelector,
      String fieldSelector,
      long from,
      Caller caller) {
    String path =
        ApiPath.format(
            resource.group(), resource.version(), resource.resource(), namespace, null, null);
    List<String[]> q = new ArrayList<>();
    q.add(new String[] {"watch", "true"});
    q.add(new String[] {"resourceVersion", Long.toString(from)});
    q.add(new String[] {"timeoutSeconds", Integer.toString(windowSeconds)});
    if (labelSelector != null && !labelSelector.isEmpty()) {
      q.add(new String[] {"labelSelector", labelSelector});
    }
    String fields = fieldSelector == null ? "" : fieldSelector;
    if (name != null && !fields.contains("metadata.name")) {
      fields = fields.isEmpty() ? "metadata.name=" + name : fields + ",metadata.name=" + name;
    }
    if (!fields.isEmpty()) {
      q.add(new String[] {"fieldSelector", fields});
    }
    ApiRequest r;
    try {
      r =
          new ApiRequest(
              "GET",
              path,
              QueryString.encode(q),
              "application/json",
              "",
              null,
              ApiPath.parse(path));
    } catch (ApiPath.Refused e) {
      return CompletableFuture.failedFuture(ApiStatusException.of(400, e.getMessage()));
    }
    return limit
        .submit(() -> transport.send(r, caller))
        .thenApply(
            resp -> {
              if (!resp.successful()) {
                throw new ApiStatusException(Replies.statusOf(resp));
              }
              return parse(resp.body(), from);
            });
  }

  /**
   * The events of a watch response body (one JSON object per line), oldest first, those at or below
   * {@code from} left out. An {@code ERROR} event fails with its Status (410 {@code Expired} when
   * {@code from} is too old).
   */
  static List<Event> parse(byte[] body, long from) {
    List<Event> out = new ArrayList<>();
    String text = new String(body, StandardCharsets.UTF_8);
    for (String line : text.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode ev = Json.parse(line);
      String type = ev.path("type").asString("");
      JsonNode obj = ev.path("object");
      if (type.equals("ERROR")) {
        ObjectNode st =
            obj instanceof ObjectNode o && "Status".equals(o.path("kind").asString(""))
                ? o
                : KubeStatus.failure(500, "the watch ended with an error: " + obj);
        throw new ApiStatusException(st);
      }
      if (!type.equals("ADDED") && !type.equals("MODIFIED") && !type.equals("DELETED")) {
        continue; // BOOKMARK
      }
      long rv = ResourceVersions.of(obj);
      if (rv > from) {
        out.add(new Event(type, obj, rv));
      }
    }
    return out;
  }
}
