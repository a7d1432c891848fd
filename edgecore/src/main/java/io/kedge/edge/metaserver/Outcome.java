package io.kedge.edge.metaserver;

import io.kedge.protocol.Json;
import io.kedge.protocol.status.KubeStatus;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import tools.jackson.databind.node.ObjectNode;

/** How a request is answered: a complete response, or a watch stream to open. */
sealed interface Outcome {

  /** A complete response. */
  record Response(int code, String contentType, byte[] body, Map<String, String> headers)
      implements Outcome {
    static Response status(ObjectNode status) {
      int code = KubeStatus.code(status);
      Map<String, String> headers = Map.of();
      int retry = status.path("details").path("retryAfterSeconds").asInt(0);
      if (retry > 0 && (code == 429 || code == 503 || code == 504)) {
        headers = Map.of("Retry-After", Integer.toString(retry));
      }
      return new Response(code, "application/json", Json.bytes(status), headers);
    }

    static Response of(int code, String contentType, byte[] body) {
      return new Response(code, contentType, body, Map.of());
    }

    static Response text(int code, String text) {
      return new Response(
          code, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8), Map.of());
    }
  }

  /** A watch to serve from the store. */
  record Watch(Watcher.Spec spec) implements Outcome {}

  /** A watch that can only report an error (as an ERROR event in a 200 stream). */
  record WatchError(ObjectNode status, Negotiation.Choice choice) implements Outcome {}
}
