package io.kedge.keadm;

import io.kedge.monitor.HealthChecks;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Asks a cloudcore or edgecore on this machine whether it is ready ({@code /readyz?verbose} on its
 * monitor address) and, when it is not, says which named checks fail and why: what keadm prints
 * instead of a bare "not ready".
 */
final class ReadyzProbe {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** Ready; or the failing checks by name; or why nothing answered. */
  record Answer(boolean ready, Map<String, String> failed, String unreachable) {
    /** One line: {@code check informers-synced failed: …; check …}. */
    String describe() {
      if (unreachable != null) {
        return unreachable;
      }
      return failed.entrySet().stream()
          .map(
              e ->
                  "check "
                      + e.getKey()
                      + " failed"
                      + (e.getValue().isEmpty() ? "" : ": " + e.getValue()))
          .collect(Collectors.joining("; "));
    }
  }

  private final String component;
  private final String hostPort;

  /**
   * @param bindAddress the process's {@code commonConfig.monitorServer.bindAddress}; a wildcard
   *     host is asked on loopback
   */
  ReadyzProbe(String component, String bindAddress) {
    this.component = component;
    String a = bindAddress.strip();
    int colon = a.lastIndexOf(':');
    String host = colon <= 0 ? "127.0.0.1" : a.substring(0, colon);
    if (host.equals("0.0.0.0") || host.equals("[::]") || host.isEmpty()) {
      host = "127.0.0.1";
    }
    this.hostPort = host + ":" + a.substring(colon + 1);
  }

  /** The URL an operator can paste: {@code curl http://127.0.0.1:9091/readyz?verbose}. */
  String url() {
    return "http://" + hostPort + "/readyz?verbose";
  }

  String metricsUrl() {
    return "http://" + hostPort + "/metrics";
  }

  Answer ask() {
    try {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(url())).timeout(Duration.ofSeconds(5)).build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) {
        return new Answer(true, Map.of(), null);
      }
      Map<String, String> failed = HealthChecks.failedIn(r.body());
      if (failed.isEmpty()) {
        return new Answer(
            false, Map.of(), component + " answered " + url() + " with " + r.statusCode());
      }
      return new Answer(false, failed, null);
    } catch (IOException e) {
      return new Answer(
          false, Map.of(), component + " does not answer on " + url() + " (" + e + ")");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Answer(false, Map.of(), "interrupted");
    }
  }

  /** Asks until ready or {@code atMost} has passed; the last answer. */
  Answer await(Duration atMost) {
    long deadline = System.nanoTime() + atMost.toNanos();
    Answer a = ask();
    while (!a.ready() && System.nanoTime() < deadline) {
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return a;
      }
      a = ask();
    }
    return a;
  }
}
