package io.kedge.edge.node;

import io.kedge.protocol.Json;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Node object a kubelet registers and the node-status patch it sends, in the shapes KubeEdge's
 * edged puts on the wire: labels and annotations as kubelet sets them (the cloud, not the node,
 * makes the {@code node-role.kubernetes.io/edge} label stick), four conditions with Ready true, the
 * addresses, capacity, allocatable and {@code nodeInfo}.
 */
final class NodeStatusReport {
  static final int KUBELET_PORT = 10350;
  private static final DateTimeFormatter MICRO =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

  private final String node;
  private final NodeFacts facts;
  private final Instant readySince;
  private final Map<String, String> annotations;
  private final Map<String, String> labels;

  NodeStatusReport(String node, NodeFacts facts, Instant readySince) {
    this(node, facts, readySince, Map.of());
  }

  NodeStatusReport(
      String node, NodeFacts facts, Instant readySince, Map<String, String> annotations) {
    this(node, facts, readySince, annotations, Map.of());
  }

  /**
   * @param labels the configured {@code edged.nodeLabels}; the kubelet's own labels win over them
   */
  NodeStatusReport(
      String node,
      NodeFacts facts,
      Instant readySince,
      Map<String, String> annotations,
      Map<String, String> labels) {
    this.labels = labels == null ? Map.of() : new TreeMap<>(labels);
    this.annotations = new TreeMap<>(annotations);
    this.node = node;
    this.facts = facts;
    this.readySince = readySince.truncatedTo(ChronoUnit.SECONDS);
  }

  /** RFC 3339 in seconds, as {@code metav1.Time} marshals. */
  static String time(Instant t) {
    return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
  }

  /** RFC 3339 in microseconds, as {@code metav1.MicroTime} marshals (Lease renewTime). */
  static String microTime(Instant t) {
    return MICRO.format(t);
  }

  /** The Node for registration ({@code insert default/node/<node>}). */
  ObjectNode node(String nodeIp, Instant now) {
    ObjectNode n = Json.object();
    ObjectNode meta = n.putObject("metadata");
    meta.put("name", node);
    ObjectNode labels = meta.putObject("labels");
    this.labels.forEach(labels::put);
    labels.put("beta.kubernetes.io/arch", facts.architecture());
    labels.put("beta.kubernetes.io/os", facts.operatingSystem());
    labels.put("kubernetes.io/arch", facts.architecture());
    labels.put("kubernetes.io/hostname", node);
    labels.put("kubernetes.io/os", facts.operatingSystem());
    labels.put("node-role.kubernetes.io/agent", "");
    labels.put("node-role.kubernetes.io/edge", "");
    ObjectNode ann = meta.putObject("annotations");
    ann.put("volumes.kubernetes.io/controller-managed-attach-detach", "true");
    annotations.forEach(ann::put);
    n.putObject("spec");
    ObjectNode status = n.putObject("status");
    status.set("capacity", map(facts.capacity()));
    status.set("allocatable", map(facts.allocatable()));
    status.set("conditions", conditions(now));
    status.set("addresses", addresses(nodeIp));
    status.putObject("daemonEndpoints").putObject("kubeletEndpoint").put("Port", KUBELET_PORT);
    status.set("nodeInfo", map(facts.nodeInfo()));
    return n;
  }

  /**
   * The strategic-merge patch of {@code nodes/status} ({@code patch default/nodepatch/<node>}), as
   * the JSON text KubeEdge carries in the message content.
   */
  String statusPatch(String nodeIp, Instant now) {
    ObjectNode status = Json.object();
    status.set("$setElementOrder/addresses", order(addresses(nodeIp)));
    status.set("$setElementOrder/conditions", order(conditions(now)));
    status.set("addresses", addresses(nodeIp));
    status.set("allocatable", map(facts.allocatable()));
    status.set("capacity", map(facts.capacity()));
    status.set("conditions", conditions(now));
    status.putObject("daemonEndpoints").putObject("kubeletEndpoint").put("Port", KUBELET_PORT);
    status.set("nodeInfo", map(facts.nodeInfo()));
    ObjectNode patch = Json.object();
    patch.set("status", status);
    return Json.string(patch);
  }

  private ArrayNode conditions(Instant now) {
    ArrayNode a = Json.NODES.arrayNode();
    a.add(
        condition(
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
            now));
    a.add(
        condition(
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
            now));
    a.add(
        condition(
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
            now));
    a.add(condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", now));
    return a;
  }

  private ObjectNode condition(
      String type, String status, String reason, String message, Instant now) {
    ObjectNode c = Json.object();
    c.put("type", type);
    c.put("status", status);
    c.put("lastHeartbeatTime", time(now));
    c.put("lastTransitionTime", time(readySince));
    c.put("reason", reason);
    c.put("message", message);
    return c;
  }

  private ArrayNode addresses(String nodeIp) {
    ArrayNode a = Json.NODES.arrayNode();
    for (Map.Entry<String, String> e :
        List.of(Map.entry("InternalIP", nodeIp), Map.entry("Hostname", node))) {
      ObjectNode o = a.addObject();
      o.put("type", e.getKey());
      o.put("address", e.getValue());
    }
    return a;
  }

  private static ArrayNode order(ArrayNode items) {
    ArrayNode a = Json.NODES.arrayNode();
    items.forEach(i -> a.addObject().put("type", i.path("type").asString()));
    return a;
  }

  private static ObjectNode map(Map<String, String> m) {
    ObjectNode o = Json.object();
    m.forEach(o::put);
    return o;
  }
}
