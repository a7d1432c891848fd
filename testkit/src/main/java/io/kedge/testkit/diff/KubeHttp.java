package io.kedge.testkit.diff;

import io.kedge.pki.TlsContexts;
import io.kedge.protocol.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import tools.jackson.databind.JsonNode;

/**
 * Kubernetes API requests as a pod's client makes them: HTTPS trusting the cluster CA, a bearer
 * token, HTTP/1.1, the same bytes to MetaServer and to the apiserver. Watches are read line by line
 * on a thread of their own.
 */
final class KubeHttp {
  private static final Duration TIMEOUT = Duration.ofSeconds(40);

  /** An answer: HTTP status (0 when none came: the server was not there) and the body. */
  record Reply(int code, String body, String error) {
    JsonNode json() {
      return Json.parse(body);
    }

    boolean isJson() {
      try {
        return body != null && !body.isBlank() && Json.parse(body).isObject();
      } catch (RuntimeException e) {
        return false;
      }
    }

    /** {@code code reason} of a Status, or just the code. */
    String verdict() {
      if (code >= 400 && isJson()) {
        return code + " " + json().path("reason").asString("");
      }
      return Integer.toString(code);
    }

    @Override
    public String toString() {
      String b = body == null ? "" : body;
      return code
          + " "
          + (b.length() > 600 ? b.substring(0, 600) + "…" : b)
          + (error.isEmpty() ? "" : " (" + error + ")");
    }
  }

  private final HttpClient http;

  KubeHttp(X509Certificate clusterCa) {
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .sslContext(TlsContexts.client(List.of(clusterCa), null, null))
            .connectTimeout(Duration.ofSeconds(5))
            .build();
  }

  Reply get(String base, String pathAndQuery, String token) {
    return call(base, "GET", pathAndQuery, token, null, null);
  }

  /**
   * One request; a connection that fails before any answer (a server just restarted, a pooled
   * connection it closed) is tried once more, then reported as code 0.
   */
  Reply call(
      String base,
      String method,
      String pathAndQuery,
      String token,
      String contentType,
      String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + pathAndQuery))
            .timeout(TIMEOUT)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
            .header("Accept", "application/json");
    if (token != null && !token.isEmpty()) {
      b.header("Authorization", "Bearer " + token);
    }
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    HttpRequest req = b.build();
    IOException last = null;
    for (int attempt = 0; attempt < 2; attempt++) {
      try {
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body(), "");
      } catch (IOException e) {
        last = e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return new Reply(0, "", "interrupted");
      }
    }
    return new Reply(0, "", last.toString());
  }

  /** Opens a watch ({@code pathAndQuery} holds {@code watch=true}); events arrive in the stream. */
  WatchStream watch(String base, String pathAndQuery, String token) {
    return watch(base, pathAndQuery, token, null);
  }

  /** As {@link #watch(String, String, String)}, events handed to {@code sink} instead of kept. */
  WatchStream watch(
      String base, String pathAndQuery, String token, java.util.function.Consumer<JsonNode> sink) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + pathAndQuery))
            .GET()
            .header("Accept", "application/json");
    if (token != null && !token.isEmpty()) {
      b.header("Authorization", "Bearer " + token);
    }
    WatchStream w = new WatchStream(base + pathAndQuery, sink);
    Thread t =
        new Thread(
            () -> {
              try {
                HttpResponse<InputStream> r =
                    http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
                w.opened(r.statusCode(), r.body());
                if (r.statusCode() != 200) {
                  try (InputStream in = r.body()) {
                    w.refused(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                  }
                  return;
                }
                try (BufferedReader rd =
                    new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = rd.readLine()) != null) {
                    if (!line.isBlank()) {
                      w.event(Json.parse(line));
                    }
                  }
                }
                w.ended("the server ended the stream");
              } catch (IOException | RuntimeException e) {
                w.ended(e.toString());
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                w.ended("interrupted");
              }
            },
            "watch");
    t.setDaemon(true);
    t.start();
    return w;
  }

  /** One watch as a client sees it. */
  static final class WatchStream implements AutoCloseable {
    final String url;
    private final List<JsonNode> events = new CopyOnWriteArrayList<>();
    private volatile int code = -1;
    private volatile String refusal = "";
    private volatile boolean ended;
    private volatile String endReason = "";
    private volatile boolean closedByUs;
    private volatile InputStream body;
    private volatile long lastEventAt = System.nanoTime();
    private final java.util.function.Consumer<JsonNode> sink;

    WatchStream(String url, java.util.function.Consumer<JsonNode> sink) {
      this.url = url;
      this.sink = sink;
    }

    void opened(int c, InputStream in) throws IOException {
      code = c;
      body = in;
      if (closedByUs) {
        in.close();
      }
    }

    void refused(String text) {
      refusal = text;
      ended = true;
      endReason = "refused with " + code;
    }

    void event(JsonNode e) {
      if (sink != null) {
        sink.accept(e);
      } else {
        events.add(e);
      }
      lastEventAt = System.nanoTime();
    }

    void ended(String why) {
      if (!ended) {
        endReason = closedByUs ? "closed by the test" : why;
        ended = true;
      }
    }

    /** HTTP status of the answer; -1 until it came, 0 if none came. */
    int code() {
      return ended && code < 0 ? 0 : code;
    }

    String refusal() {
      return refusal;
    }

    boolean ended() {
      return ended;
    }

    String endReason() {
      return endReason;
    }

    boolean closedByUs() {
      return closedByUs;
    }

    /** Events so far, BOOKMARKs left out (none is asked for). */
    List<JsonNode> events() {
      List<JsonNode> out = new ArrayList<>();
      for (JsonNode e : events) {
        if (!"BOOKMARK".equals(e.path("type").asString(""))) {
          out.add(e);
        }
      }
      return out;
    }

    /** Nanos since the last event (or since the watch opened). */
    long quietNanos() {
      return System.nanoTime() - lastEventAt;
    }

    @Override
    public void close() {
      closedByUs = true;
      InputStream in = body;
      if (in != null) {
        try {
          in.close();
        } catch (IOException e) {
          // closing
        }
      }
    }
  }
}
