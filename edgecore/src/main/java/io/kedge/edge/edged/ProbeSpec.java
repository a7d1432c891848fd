package io.kedge.edge.edged;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * One of a container's probes ({@code livenessProbe}, {@code readinessProbe}, {@code startupProbe})
 * with the kubelet's defaults: period 10 s, timeout 1 s, success threshold 1, failure threshold 3,
 * no initial delay.
 *
 * @param type which probe this is
 * @param action exec, HTTP GET or TCP socket
 * @param terminationGrace the probe's own {@code terminationGracePeriodSeconds}, when set
 */
record ProbeSpec(
    Type type,
    Action action,
    Duration initialDelay,
    Duration period,
    Duration timeout,
    int successThreshold,
    int failureThreshold,
    Optional<Duration> terminationGrace) {

  enum Type {
    LIVENESS("Liveness", "livenessProbe"),
    READINESS("Readiness", "readinessProbe"),
    STARTUP("Startup", "startupProbe");

    /** As events name it ({@code Liveness probe failed: …}). */
    final String label;

    final String field;

    Type(String label, String field) {
      this.label = label;
      this.field = field;
    }
  }

  /** What the probe does. */
  sealed interface Action permits Exec, HttpGet, TcpSocket {}

  record Exec(List<String> command) implements Action {}

  /**
   * @param host empty: the pod's IP
   */
  record HttpGet(
      String scheme, String host, int port, String path, List<Map.Entry<String, String>> headers)
      implements Action {}

  /**
   * @param host empty: the pod's IP
   */
  record TcpSocket(String host, int port) implements Action {}

  /** The container's probe of this type, if it has one. */
  static Optional<ProbeSpec> of(JsonNode container, Type type) throws ContainerConfigException {
    JsonNode p = container.path(type.field);
    if (!p.isObject()) {
      return Optional.empty();
    }
    String where = "container " + container.path("name").asString("") + " " + type.field;
    Action action;
    if (p.has("exec")) {
      List<String> cmd = new ArrayList<>();
      p.path("exec").path("command").forEach(c -> cmd.add(c.asString("")));
      if (cmd.isEmpty()) {
        throw new ContainerConfigException(where + ": exec has no command");
      }
      action = new Exec(List.copyOf(cmd));
    } else if (p.has("httpGet")) {
      JsonNode h = p.path("httpGet");
      List<Map.Entry<String, String>> headers = new ArrayList<>();
      for (JsonNode hd : h.path("httpHeaders")) {
        headers.add(Map.entry(hd.path("name").asString(""), hd.path("value").asString("")));
      }
      String path = h.path("path").asString("");
      if (!path.startsWith("/")) {
        path = "/" + path;
      }
      action =
          new HttpGet(
              h.path("scheme").asString("HTTP").toUpperCase(java.util.Locale.ROOT),
              h.path("host").asString(""),
              port(container, h.path("port"), where),
              path,
              List.copyOf(headers));
    } else if (p.has("tcpSocket")) {
      JsonNode t = p.path("tcpSocket");
      action = new TcpSocket(t.path("host").asString(""), port(container, t.path("port"), where));
    } else {
      throw new ContainerConfigException(
          where + ": the probe has no exec, httpGet or tcpSocket handler Edged supports");
    }
    Optional<Duration> grace =
        p.path("terminationGracePeriodSeconds").isNumber()
            ? Optional.of(Duration.ofSeconds(p.path("terminationGracePeriodSeconds").asLong()))
            : Optional.empty();
    return Optional.of(
        new ProbeSpec(
            type,
            action,
            Duration.ofSeconds(Math.max(0, p.path("initialDelaySeconds").asLong(0))),
            Duration.ofSeconds(Math.max(1, p.path("periodSeconds").asLong(10))),
            Duration.ofSeconds(Math.max(1, p.path("timeoutSeconds").asLong(1))),
            Math.max(1, p.path("successThreshold").asInt(1)),
            Math.max(1, p.path("failureThreshold").asInt(3)),
            grace));
  }

  /** A port number, or the name of one of the container's ports. */
  private static int port(JsonNode container, JsonNode port, String where)
      throws ContainerConfigException {
    if (port.isNumber()) {
      return check(port.asInt(), where);
    }
    String name = port.asString("");
    if (name.matches("[0-9]+")) {
      return check(Integer.parseInt(name), where);
    }
    for (JsonNode cp : container.path("ports")) {
      if (name.equals(cp.path("name").asString(""))) {
        return check(cp.path("containerPort").asInt(0), where);
      }
    }
    throw new ContainerConfigException(
        where + ": the container has no port named \"" + name + "\"");
  }

  private static int check(int port, String where) throws ContainerConfigException {
    if (port < 1 || port > 65535) {
      throw new ContainerConfigException(where + ": port " + port + " is out of range");
    }
    return port;
  }
}
