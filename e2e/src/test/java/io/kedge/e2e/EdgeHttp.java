package io.kedge.e2e;

import io.kedge.protocol.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/** Plain HTTP/1.1 requests to one server, as a minimal client would send them. */
final class EdgeHttp {
  record Answer(int code, HttpResponse<String> response) {
    JsonNode json() {
      return Json.parse(response.body());
    }

    String header(String name) {
      return response.headers().firstValue(name).orElse(null);
    }
  }

  private final String base;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  EdgeHttp(String base) {
    this.base = base;
  }

  Answer get(String path) {
    return send(HttpRequest.newBuilder(uri(path)).GET());
  }

  Answer send(String method, String path, String contentType, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri(path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return send(b);
  }

  /** The events of a watch that ends by itself ({@code timeoutSeconds} in {@code path}). */
  List<JsonNode> watchEvents(String path) {
    Answer a = get(path);
    if (a.code() != 200) {
      throw new AssertionError(
          "watch " + path + " answered " + a.code() + ": " + a.response.body());
    }
    List<JsonNode> events = new ArrayList<>();
    for (String line : a.response.body().split("\n")) {
      if (!line.isBlank()) {
        events.add(Json.parse(line));
      }
    }
    return events;
  }

  private URI uri(String path) {
    return URI.create(base + path);
  }

  private Answer send(HttpRequest.Builder b) {
    try {
      HttpResponse<String> r =
          http.send(
              b.timeout(Duration.ofSeconds(60)).header("Accept", "application/json").build(),
              HttpResponse.BodyHandlers.ofString());
      return new Answer(r.statusCode(), r);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
