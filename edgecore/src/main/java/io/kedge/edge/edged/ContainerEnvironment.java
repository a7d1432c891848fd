package io.kedge.edge.edged;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * A container's environment as the kubelet builds it: {@code envFrom} sources in order, then {@code
 * env} ({@code value} with {@code $(VAR)} expansion, {@code configMapKeyRef}, {@code secretKeyRef},
 * {@code fieldRef}, {@code resourceFieldRef}), then the {@code KUBERNETES_SERVICE_*} variables
 * unless the pod set them; then {@code command} and {@code args} expanded against the result.
 */
final class ContainerEnvironment {
  /** Linux refuses to exec a single {@code NAME=value} string of 128 KiB or more. */
  static final int MAX_VARIABLE_BYTES = 128 * 1024 - 1;

  /**
   * The most environment and arguments Kedge hands to one process: half of Linux's usual 2 MiB exec
   * limit, leaving room for the launcher's own arguments.
   */
  static final int MAX_TOTAL_BYTES = 1024 * 1024;

  private static final Pattern ENV_NAME = Pattern.compile("[-._a-zA-Z][-._a-zA-Z0-9]*");

  record Result(List<ContainerConfig.EnvVar> env, List<String> command, List<String> args) {}

  private ContainerEnvironment() {}

  static Result build(
      JsonNode pod,
      JsonNode container,
      PodInputs inputs,
      NodeInfo node,
      Optional<KubernetesService> service)
      throws ContainerConfigException {
    String ns = pod.path("metadata").path("namespace").asString("");
    String cname = container.path("name").asString("");
    Map<String, String> env = new LinkedHashMap<>();

    for (JsonNode from : container.path("envFrom")) {
      String prefix = from.path("prefix").asString("");
      if (from.has("configMapRef")) {
        JsonNode ref = from.path("configMapRef");
        String name = ref.path("name").asString("");
        Optional<JsonNode> cm = inputs.configMap(name);
        if (cm.isEmpty()) {
          if (ref.path("optional").asBoolean(false)) {
            continue;
          }
          throw new ContainerConfigException("configmap \"" + name + "\" not found");
        }
        for (Map.Entry<String, String> e : configMapData(cm.get()).entrySet()) {
          putFrom(env, prefix + e.getKey(), e.getValue());
        }
      } else if (from.has("secretRef")) {
        JsonNode ref = from.path("secretRef");
        String name = ref.path("name").asString("");
        Optional<JsonNode> s = inputs.secret(name);
        if (s.isEmpty()) {
          if (ref.path("optional").asBoolean(false)) {
            continue;
          }
          throw new ContainerConfigException("secret \"" + name + "\" not found");
        }
        for (Map.Entry<String, String> e : secretData(s.get()).entrySet()) {
          putFrom(env, prefix + e.getKey(), e.getValue());
        }
      }
    }

    Map<String, String> serviceEnv = new LinkedHashMap<>();
    serviceEnv.put("KUBERNETES_SERVICE_HOST", service.map(KubernetesService::host).orElse(""));
    serviceEnv.put("KUBERNETES_SERVICE_PORT", service.map(KubernetesService::port).orElse(""));
    serviceEnv.put(
        "KUBERNETES_SERVICE_PORT_HTTPS", service.map(KubernetesService::port).orElse(""));

    for (JsonNode e : container.path("env")) {
      String name = e.path("name").asString("");
      JsonNode valueFrom = e.path("valueFrom");
      String value;
      if (!e.path("value").asString("").isEmpty()) {
        value =
            EnvExpansion.expand(
                e.path("value").asString(),
                v -> env.containsKey(v) ? env.get(v) : serviceEnv.get(v));
      } else if (valueFrom.isObject()) {
        String v = valueFrom(pod, container, valueFrom, inputs, node, ns, cname);
        if (v == null) {
          continue; // optional reference to something absent
        }
        value = v;
      } else {
        value = "";
      }
      env.put(name, value);
    }
    for (Map.Entry<String, String> e : serviceEnv.entrySet()) {
      env.putIfAbsent(e.getKey(), e.getValue());
    }

    List<ContainerConfig.EnvVar> vars = new ArrayList<>();
    for (Map.Entry<String, String> e : env.entrySet()) {
      vars.add(new ContainerConfig.EnvVar(e.getKey(), e.getValue()));
    }
    List<String> command = expandAll(container.path("command"), env);
    List<String> args = expandAll(container.path("args"), env);
    checkSize(cname, vars, command, args);
    return new Result(vars, command, args);
  }

  private static void putFrom(Map<String, String> env, String name, String value) {
    // The kubelet skips keys that are no valid variable names (and records an event).
    if (ENV_NAME.matcher(name).matches()) {
      env.put(name, value);
    }
  }

  private static String valueFrom(
      JsonNode pod,
      JsonNode container,
      JsonNode valueFrom,
      PodInputs inputs,
      NodeInfo node,
      String ns,
      String cname)
      throws ContainerConfigException {
    if (valueFrom.has("configMapKeyRef")) {
      JsonNode ref = valueFrom.path("configMapKeyRef");
      String name = ref.path("name").asString("");
      String key = ref.path("key").asString("");
      boolean optional = ref.path("optional").asBoolean(false);
      Optional<JsonNode> cm = inputs.configMap(name);
      if (cm.isEmpty()) {
        if (optional) {
          return null;
        }
        throw new ContainerConfigException("configmap \"" + name + "\" not found");
      }
      String v = configMapData(cm.get()).get(key);
      if (v == null) {
        if (optional) {
          return null;
        }
        throw new ContainerConfigException(
            "couldn't find key " + key + " in ConfigMap " + ns + "/" + name);
      }
      return v;
    }
    if (valueFrom.has("secretKeyRef")) {
      JsonNode ref = valueFrom.path("secretKeyRef");
      String name = ref.path("name").asString("");
      String key = ref.path("key").asString("");
      boolean optional = ref.path("optional").asBoolean(false);
      Optional<JsonNode> s = inputs.secret(name);
      if (s.isEmpty()) {
        if (optional) {
          return null;
        }
        throw new ContainerConfigException("secret \"" + name + "\" not found");
      }
      String v = secretData(s.get()).get(key);
      if (v == null) {
        if (optional) {
          return null;
        }
        throw new ContainerConfigException(
            "couldn't find key " + key + " in Secret " + ns + "/" + name);
      }
      return v;
    }
    if (valueFrom.has("fieldRef")) {
      return fieldValue(pod, valueFrom.path("fieldRef").path("fieldPath").asString(""), node);
    }
    if (valueFrom.has("resourceFieldRef")) {
      return resourceValue(pod, container, valueFrom.path("resourceFieldRef"), node, cname);
    }
    throw new ContainerConfigException(
        "environment variable of container " + cname + " has an unsupported valueFrom");
  }

  /** Downward API field values (env {@code fieldRef} and downwardAPI volume items). */
  static String fieldValue(JsonNode pod, String path, NodeInfo node)
      throws ContainerConfigException {
    JsonNode meta = pod.path("metadata");
    switch (path) {
      case "metadata.name":
        return meta.path("name").asString("");
      case "metadata.namespace":
        return meta.path("namespace").asString("");
      case "metadata.uid":
        return meta.path("uid").asString("");
      case "spec.nodeName":
        String n = pod.path("spec").path("nodeName").asString("");
        return n.isEmpty() ? node.nodeName() : n;
      case "spec.serviceAccountName":
        return pod.path("spec").path("serviceAccountName").asString("");
      case "status.hostIP":
        return node.hostIP();
      case "status.podIP":
      case "status.podIPs":
        // Edged sets it once the sandbox has one; host-network pods have the node's
        String ip = pod.path("status").path("podIP").asString("");
        return ip.isEmpty() ? node.hostIP() : ip;
      case "metadata.labels":
      case "metadata.annotations":
        return mapText(meta.path(path.substring("metadata.".length())));
      default:
        break;
    }
    var m = Pattern.compile("metadata\\.(labels|annotations)\\['(.*)'\\]").matcher(path);
    if (m.matches()) {
      return meta.path(m.group(1)).path(m.group(2)).asString("");
    }
    throw new ContainerConfigException("unsupported fieldPath: " + path);
  }

  private static String mapText(JsonNode map) {
    StringBuilder sb = new StringBuilder();
    List<String> keys = new ArrayList<>();
    map.propertyNames().forEach(keys::add);
    java.util.Collections.sort(keys);
    for (String k : keys) {
      String v = map.path(k).asString("");
      sb.append(k)
          .append("=\"")
          .append(v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n"))
          .append("\"\n");
    }
    return sb.toString();
  }

  static String resourceValue(
      JsonNode pod, JsonNode container, JsonNode ref, NodeInfo node, String defaultContainer)
      throws ContainerConfigException {
    String target = ref.path("containerName").asString("");
    if (target.isEmpty()) {
      target = defaultContainer;
    }
    JsonNode c = null;
    for (String list : new String[] {"containers", "initContainers"}) {
      for (JsonNode x : pod.path("spec").path(list)) {
        if (target.equals(x.path("name").asString(""))) {
          c = x;
        }
      }
    }
    if (c == null) {
      c = container;
    }
    String resource = ref.path("resource").asString("");
    BigDecimal divisor;
    try {
      String d = ref.path("divisor").asString("");
      divisor = d.isEmpty() || d.equals("0") ? BigDecimal.ONE : Quantity.parse(d);
    } catch (IllegalArgumentException e) {
      throw new ContainerConfigException("bad divisor in resourceFieldRef: " + e.getMessage());
    }
    if (divisor.signum() <= 0) {
      divisor = BigDecimal.ONE;
    }
    int dot = resource.indexOf('.');
    if (dot < 0) {
      throw new ContainerConfigException("unsupported container resource: " + resource);
    }
    String kind = resource.substring(0, dot); // limits | requests
    String name = resource.substring(dot + 1);
    BigDecimal allocatable =
        switch (name) {
          case "cpu" -> node.allocatableCpu();
          case "memory" -> node.allocatableMemory();
          case "ephemeral-storage" -> node.allocatableEphemeralStorage();
          default ->
              throw new ContainerConfigException("unsupported container resource: " + resource);
        };
    if (!kind.equals("limits") && !kind.equals("requests")) {
      throw new ContainerConfigException("unsupported container resource: " + resource);
    }
    String q = c.path("resources").path(kind).path(name).asString("");
    BigDecimal value;
    try {
      // Unset limits are the node's allocatable; unset requests are zero.
      value =
          q.isEmpty() ? (kind.equals("limits") ? allocatable : BigDecimal.ZERO) : Quantity.parse(q);
    } catch (IllegalArgumentException e) {
      throw new ContainerConfigException("bad quantity " + q + ": " + e.getMessage());
    }
    return Quantity.divideCeil(value, divisor);
  }

  static Map<String, String> configMapData(JsonNode cm) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : cm.path("data").properties()) {
      out.put(e.getKey(), e.getValue().asString(""));
    }
    for (Map.Entry<String, JsonNode> e : cm.path("binaryData").properties()) {
      out.put(e.getKey(), new String(decode(e.getValue().asString("")), StandardCharsets.UTF_8));
    }
    return out;
  }

  static Map<String, String> secretData(JsonNode secret) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : secret.path("data").properties()) {
      out.put(e.getKey(), new String(decode(e.getValue().asString("")), StandardCharsets.UTF_8));
    }
    for (Map.Entry<String, JsonNode> e : secret.path("stringData").properties()) {
      out.put(e.getKey(), e.getValue().asString(""));
    }
    return out;
  }

  static byte[] decode(String b64) {
    try {
      return Base64.getDecoder().decode(b64);
    } catch (IllegalArgumentException e) {
      return Base64.getMimeDecoder().decode(b64);
    }
  }

  private static List<String> expandAll(JsonNode list, Map<String, String> env) {
    List<String> out = new ArrayList<>();
    for (JsonNode s : list) {
      out.add(EnvExpansion.expand(s.asString(""), env::get));
    }
    return out;
  }

  private static void checkSize(
      String cname, List<ContainerConfig.EnvVar> env, List<String> command, List<String> args)
      throws ContainerConfigException {
    long total = 0;
    for (ContainerConfig.EnvVar v : env) {
      long n = utf8Length(v.name()) + 1 + utf8Length(v.value()) + 1;
      if (n > MAX_VARIABLE_BYTES + 1) {
        throw new ContainerConfigException(
            "environment variable "
                + v.name()
                + " of container "
                + cname
                + " is "
                + n
                + " bytes; Linux cannot pass a variable of more than "
                + MAX_VARIABLE_BYTES
                + " bytes to a process");
      }
      total += n;
    }
    for (String s : command) {
      total += utf8Length(s) + 1;
    }
    for (String s : args) {
      total += utf8Length(s) + 1;
    }
    if (total > MAX_TOTAL_BYTES) {
      throw new ContainerConfigException(
          "the environment and arguments of container "
              + cname
              + " are "
              + total
              + " bytes; at most "
              + MAX_TOTAL_BYTES
              + " can be passed to a process");
    }
  }

  private static long utf8Length(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }
}
