package io.kedge.keadm;

import io.kedge.protocol.Json;
import io.kedge.protocol.config.CloudAddresses;
import io.kedge.protocol.config.ConfigException;
import io.kedge.protocol.config.ConfigLoader;
import io.kedge.protocol.config.ConfigOverrides;
import io.kedge.protocol.config.EdgeCoreConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The {@code edgecore.yaml} that {@code keadm join} writes: edgecore's full default configuration
 * (as KubeEdge's keadm writes it), the cloud's addresses, the join token and node name, paths under
 * the install's root, then {@code --set} overrides with edgecore.yaml's key paths.
 */
public final class EdgeCoreValues {

  /** What join was told. */
  /**
   * @param cloudcoreIpPort one {@code HOST:PORT} or (Kedge) several, comma separated
   * @param certPorts the certificate port of every cloudcore, or one per address
   */
  public record Join(
      String cloudcoreIpPort,
      List<Integer> certPorts,
      String token,
      String nodeName,
      String nodeIp,
      String runtime,
      String remoteRuntimeEndpoint,
      String certPath,
      Map<String, String> labels,
      KubeEdgeVersion version,
      List<String> sets) {}

  /** The rendered configuration and the notices worth showing the user. */
  public record Result(ObjectNode tree, EdgeCoreConfig config, List<String> notices) {
    public String yaml(KubeEdgeVersion version) {
      return "# edgecore.yaml written by keadm join (compatible with KubeEdge "
          + version
          + ")\n"
          + ConfigLoader.toYaml(tree);
    }
  }

  private EdgeCoreValues() {}

  /**
   * @throws IllegalArgumentException for a bad path or value (a usage error)
   */
  public static Result build(Join j, InstallLayout layout) {
    ObjectNode tree = ConfigLoader.defaults(EdgeCoreConfig.DEFAULTS);
    ObjectNode schema = tree.deepCopy();
    List<String> notices = new ArrayList<>();
    ObjectNode modules = (ObjectNode) tree.path("modules");
    ObjectNode hub = (ObjectNode) modules.path("edgeHub");
    ObjectNode edged = (ObjectNode) modules.path("edged");
    ObjectNode meta = (ObjectNode) modules.path("metaManager").path("metaServer");

    // Every KubeEdge path of the defaults (certificates, database, pods, MetaServer's pki
    // directory, ...) moves under the root, so that nodes sharing a machine share no file.
    rootAll(tree, layout);
    if (j.certPath() != null && !j.certPath().isBlank()) {
      hub.put("tlsCertFile", j.certPath() + "/server.crt");
      hub.put("tlsPrivateKeyFile", j.certPath() + "/server.key");
    }

    List<CloudAddresses.HostPort> servers;
    try {
      servers = CloudAddresses.servers(j.cloudcoreIpPort(), "--cloudcore-ipport");
    } catch (ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("--cloudcore-ipport: no address");
    }
    List<Integer> certPorts = j.certPorts() == null ? List.of() : j.certPorts();
    if (certPorts.size() != 1 && certPorts.size() != servers.size()) {
      throw new IllegalArgumentException(
          "--certport: give one port for every cloudcore, or one per --cloudcore-ipport address ("
              + servers.size()
              + "), not "
              + certPorts.size());
    }
    List<String> certServers = new ArrayList<>();
    for (int i = 0; i < servers.size(); i++) {
      int port = certPorts.get(certPorts.size() == 1 ? 0 : i);
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("--certport must be between 1 and 65535, got " + port);
      }
      String url = "https://" + hostPort(servers.get(i).host(), port);
      if (!certServers.contains(url)) {
        certServers.add(url);
      }
    }
    // several cloudcores (Kedge): comma separated; one, as KubeEdge writes it
    ((ObjectNode) hub.path("websocket")).put("server", CloudAddresses.format(servers));
    ((ObjectNode) hub.path("quic")).put("server", hostPort(servers.get(0).host(), 10001));
    hub.put("httpServer", String.join(",", certServers));
    // KubeEdge's join points edgeStream at the cloud's tunnel port and leaves it disabled; with
    // several cloudcores (Kedge) at each one's host, comma separated, tried in turn
    List<String> tunnels = new ArrayList<>();
    for (CloudAddresses.HostPort a : servers) {
      String t = hostPort(a.host(), 10004);
      if (!tunnels.contains(t)) {
        tunnels.add(t);
      }
    }
    ((ObjectNode) modules.path("edgeStream")).put("server", String.join(",", tunnels));
    hub.put("token", j.token());
    edged.put("hostnameOverride", j.nodeName());
    if (j.nodeIp() != null && !j.nodeIp().isBlank()) {
      edged.put("nodeIP", j.nodeIp());
    }
    if (j.runtime() != null) {
      edged.put("runtime", j.runtime());
    }
    if (j.remoteRuntimeEndpoint() != null && !j.remoteRuntimeEndpoint().isBlank()) {
      edged.put("containerRuntimeEndpoint", j.remoteRuntimeEndpoint());
    }
    if (j.labels() != null && !j.labels().isEmpty()) {
      ObjectNode labels = Json.object();
      j.labels().forEach(labels::put);
      edged.set("nodeLabels", labels);
      ((ObjectNode) schema.path("modules").path("edged")).set("nodeLabels", Json.object());
    }

    for (String s : j.sets()) {
      List<ConfigOverrides.Override> parsed;
      try {
        parsed = ConfigOverrides.parse(s);
      } catch (ConfigException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
      for (ConfigOverrides.Override o : parsed) {
        for (var alias : EdgeCoreConfig.ALIASES) {
          List<Object> path = o.path();
          if (path.size() >= alias.from().size()
              && path.subList(0, alias.from().size()).equals(alias.from())) {
            List<Object> real = new ArrayList<>(alias.to());
            real.addAll(path.subList(alias.from().size(), path.size()));
            notices.add(
                "--set "
                    + o.dottedPath()
                    + ": edgecore.yaml's key is "
                    + String.join(".", alias.to())
                    + "; setting that");
            o = new ConfigOverrides.Override(real, o.value(), o.text());
          }
        }
        String missing = unknownPart(schema, o.path());
        if (missing != null) {
          throw new IllegalArgumentException(
              "--set " + o.text() + ": edgecore.yaml has no setting '" + missing + "'");
        }
        try {
          ConfigOverrides.apply(tree, o);
        } catch (ConfigException e) {
          throw new IllegalArgumentException(e.getMessage(), e);
        }
      }
    }
    EdgeCoreConfig config;
    try {
      config = ConfigLoader.toRecord(EdgeCoreConfig.class, tree.deepCopy(), null);
    } catch (ConfigException e) {
      throw new IllegalArgumentException("--set: " + e.getMessage(), e);
    }
    return new Result(tree, config, Collections.unmodifiableList(notices));
  }

  private static void rootAll(JsonNode node, InstallLayout layout) {
    if (node instanceof ObjectNode o) {
      for (String field : List.copyOf(o.propertyNames())) {
        JsonNode v = o.path(field);
        if (v.isString() && KUBEEDGE_PATH.matcher(v.asString()).lookingAt()) {
          o.put(field, layout.rooted(v.asString()).toString());
        } else {
          rootAll(v, layout);
        }
      }
    }
  }

  private static final java.util.regex.Pattern KUBEEDGE_PATH =
      java.util.regex.Pattern.compile("/(etc|var/lib|var/log|var/run|run)/kubeedge(/|$)");

  private static String unknownPart(JsonNode schema, List<Object> path) {
    JsonNode node = schema;
    StringBuilder seen = new StringBuilder();
    for (Object step : path) {
      if (node.isArray()) {
        return null;
      }
      if (node.isObject() && node.isEmpty() && !seen.isEmpty()) {
        return null; // free-form maps (nodeLabels, featureGates)
      }
      seen.append(seen.isEmpty() ? "" : ".").append(step);
      if (!(step instanceof String key) || !node.isObject() || !node.has(key)) {
        if (seen.toString().startsWith("featureGates.")) {
          return null;
        }
        return seen.toString();
      }
      node = node.get(key);
    }
    return null;
  }

  /** The host part of {@code host:port} or {@code [v6]:port}. */
  static String host(String ipPort) {
    if (ipPort.startsWith("[")) {
      int e = ipPort.indexOf(']');
      return ipPort.substring(1, e);
    }
    int c = ipPort.lastIndexOf(':');
    return c < 0 ? ipPort : ipPort.substring(0, c);
  }

  static String hostPort(String host, int port) {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}
