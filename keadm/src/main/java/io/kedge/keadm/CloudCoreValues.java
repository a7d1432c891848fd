package io.kedge.keadm;

import io.kedge.protocol.Json;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.config.ConfigException;
import io.kedge.protocol.config.ConfigLoader;
import io.kedge.protocol.config.ConfigOverrides;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Turns {@code keadm init}'s values (KubeEdge's Helm value paths {@code cloudCore.modules.*} and
 * {@code cloudCore.featureGates.*}, {@code --advertise-address}) into the {@code cloudcore.yaml}
 * that goes into ConfigMap {@code kubeedge/cloudcore}. Paths that configure only KubeEdge's Helm
 * chart (images, the Deployment) are reported and ignored; unknown paths are errors.
 */
public final class CloudCoreValues {
  static final String TEMPLATE = "/io/kedge/keadm/cloudcore.yaml";

  /** Feature gates cloudcore knows. */
  static final Set<String> FEATURE_GATES = Set.of("requireAuthorization");

  /** {@code cloudCore.*} values of KubeEdge's chart that describe the Deployment, not cloudcore. */
  static final Set<String> CHART_ONLY =
      Set.of(
          "image",
          "hostNetwork",
          "replicaCount",
          "labels",
          "annotations",
          "podAnnotations",
          "podLabels",
          "affinity",
          "tolerations",
          "nodeSelector",
          "resources",
          "service",
          "securityContext",
          "updateStrategy");

  /** Top-level chart values for components Kedge does not deploy. */
  static final Set<String> OTHER_CHART_COMPONENTS =
      Set.of("iptablesManager", "controllerManager", "global");

  /** The rendered configuration and the notices worth showing the user. */
  public record Result(ObjectNode tree, CloudCoreConfig config, List<String> notices) {
    public String yaml() {
      return ConfigLoader.toYaml(tree);
    }
  }

  private CloudCoreValues() {}

  /**
   * @throws IllegalArgumentException for a bad path or value (a usage error)
   */
  public static Result build(
      List<String> sets, List<String> advertiseAddresses, InstallLayout layout) {
    ObjectNode tree = ConfigLoader.defaults(TEMPLATE);
    ObjectNode schema = ConfigLoader.defaults(CloudCoreConfig.DEFAULTS);
    ConfigLoader.merge(schema, ConfigLoader.defaults(TEMPLATE));
    List<String> notices = new ArrayList<>();
    if (!layout.systemRoot()) {
      ObjectNode hub = (ObjectNode) tree.path("modules").path("cloudHub");
      for (String f : List.of("tlsCAFile", "tlsCAKeyFile", "tlsCertFile", "tlsPrivateKeyFile")) {
        hub.put(f, layout.rooted(hub.path(f).asString()).toString());
      }
      ObjectNode stream = (ObjectNode) tree.path("modules").path("cloudStream");
      for (String f :
          List.of(
              "tlsTunnelCAFile",
              "tlsTunnelCertFile",
              "tlsTunnelPrivateKeyFile",
              "tlsStreamCAFile",
              "tlsStreamCertFile",
              "tlsStreamPrivateKeyFile")) {
        String v = stream.path(f).asString("");
        if (v.isEmpty()) {
          v = schema.path("modules").path("cloudStream").path(f).asString();
        }
        stream.put(f, layout.rooted(v).toString());
      }
      ObjectNode unix = (ObjectNode) hub.path("unixsocket");
      String addr = unix.path("address").asString();
      unix.put("address", "unix://" + layout.rooted(addr.substring("unix://".length())).toString());
    }
    ArrayNode addresses = Json.NODES.arrayNode();
    for (String a : advertiseAddresses) {
      addresses.add(checkIp(a));
    }
    ((ObjectNode) tree.path("modules").path("cloudHub")).set("advertiseAddress", addresses);

    for (String s : sets) {
      List<ConfigOverrides.Override> parsed;
      try {
        parsed = ConfigOverrides.parse(s);
      } catch (ConfigException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
      for (ConfigOverrides.Override o : parsed) {
        apply(tree, schema, o, notices);
      }
    }
    ObjectNode merged = ConfigLoader.defaults(CloudCoreConfig.DEFAULTS);
    ConfigLoader.merge(merged, tree.deepCopy());
    CloudCoreConfig config;
    try {
      config = ConfigLoader.toRecord(CloudCoreConfig.class, merged, null);
    } catch (ConfigException e) {
      throw new IllegalArgumentException("--set: " + e.getMessage(), e);
    }
    if (config.modules().cloudHub().advertiseAddress().isEmpty()) {
      throw new IllegalArgumentException(
          "no advertise address: pass --advertise-address=IP (the address edge nodes reach)");
    }
    return new Result(tree, config, Collections.unmodifiableList(notices));
  }

  private static void apply(
      ObjectNode tree, ObjectNode schema, ConfigOverrides.Override o, List<String> notices) {
    List<Object> p = o.path();
    String dotted = o.dottedPath();
    String first = p.get(0) instanceof String s ? s : "";
    if (OTHER_CHART_COMPONENTS.contains(first)) {
      notices.add(
          "--set "
              + dotted
              + " is ignored: it configures a Helm chart component Kedge does not run");
      return;
    }
    if (!"cloudCore".equals(first) || p.size() < 2 || !(p.get(1) instanceof String second)) {
      throw new IllegalArgumentException(
          "--set "
              + o.text()
              + ": unknown value path '"
              + dotted
              + "' (use cloudCore.modules.<module>.<key>, cloudCore.featureGates.<gate> or cloudCore.commonConfig.monitorServer.bindAddress)");
    }
    if (CHART_ONLY.contains(second)) {
      notices.add(
          "--set "
              + dotted
              + " is ignored: it configures KubeEdge's cloudcore Deployment; Kedge runs cloudcore"
              + " as a service on this machine");
      return;
    }
    List<Object> target = p.subList(1, p.size());
    if ("featureGates".equals(second)) {
      if (target.size() != 2 || !FEATURE_GATES.contains(String.valueOf(target.get(1)))) {
        throw new IllegalArgumentException(
            "--set " + o.text() + ": unknown feature gate; cloudcore knows " + FEATURE_GATES);
      }
      if (!o.value().isBoolean()) {
        throw new IllegalArgumentException(
            "--set " + o.text() + ": a feature gate is true or false");
      }
    } else if ("modules".equals(second) || "commonConfig".equals(second)) {
      String missing = unknownPart(schema, target);
      if (missing != null) {
        throw new IllegalArgumentException(
            "--set "
                + o.text()
                + ": cloudcore.yaml has no setting '"
                + missing
                + "' (unknown value path '"
                + dotted
                + "')");
      }
    } else {
      throw new IllegalArgumentException(
          "--set "
              + o.text()
              + ": unknown value path '"
              + dotted
              + "' (use cloudCore.modules.<module>.<key>, cloudCore.featureGates.<gate> or cloudCore.commonConfig.monitorServer.bindAddress)");
    }
    try {
      ConfigOverrides.apply(tree, new ConfigOverrides.Override(target, o.value(), o.text()));
    } catch (ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** The first part of {@code path} the schema does not have, or null when it is all known. */
  private static String unknownPart(JsonNode schema, List<Object> path) {
    JsonNode node = schema;
    StringBuilder seen = new StringBuilder();
    for (Object step : path) {
      if (node.isArray()) {
        return null; // list contents are free-form (e.g. authorization.modes)
      }
      if (!(step instanceof String key) || !node.isObject() || !node.has(key)) {
        seen.append(seen.isEmpty() ? "" : ".").append(step);
        return seen.toString();
      }
      seen.append(seen.isEmpty() ? "" : ".").append(key);
      node = node.get(key);
    }
    return null;
  }

  static String checkIp(String a) {
    String s = a.strip();
    boolean literal = s.matches("[0-9.]+") || s.contains(":");
    try {
      if (literal) {
        return InetAddress.getByName(s).getHostAddress();
      }
    } catch (Exception e) {
      // reported below
    }
    throw new IllegalArgumentException(
        "--advertise-address: '" + a + "' is not an IP address (edge nodes connect to it)");
  }

  /** KubeEdge's default advertise address: the first non-loopback IPv4 address of this host. */
  public static String defaultAdvertiseAddress() {
    try {
      for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (!nif.isUp() || nif.isLoopback()) {
          continue;
        }
        for (InetAddress a : Collections.list(nif.getInetAddresses())) {
          if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
            return a.getHostAddress();
          }
        }
      }
    } catch (SocketException e) {
      // fall through
    }
    return "127.0.0.1";
  }
}
