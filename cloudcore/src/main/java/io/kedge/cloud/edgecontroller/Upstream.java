package io.kedge.cloud.edgecontroller;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.kedge.cloud.hub.EdgeMessenger;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.cloud.kube.SerialExecutor;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.status.KubeStatus;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.node.StringNode;

/**
 * Requests edges send to the EdgeController (KubeEdge's {@code upstream.go}), executed off the I/O
 * threads, in order per node: node registration (checked as the node, then created by cloudcore,
 * which sets the edge label a node may not set on itself: {@link NodeRegistration}) and everything
 * else as the node ({@code system:node:<name>}) — node and pod status, Lease, service-account
 * tokens, CSRs, events, pod deletion — so that the apiserver's Node authorizer and NodeRestriction
 * apply. ConfigMap/Secret queries are answered from the informer caches, only for objects the
 * node's pods reference.
 */
final class Upstream {
  private static final Logger LOG = LoggerFactory.getLogger(Upstream.class);

  private final KubeClients kube;
  private final EdgeMessenger hub;
  private final Downstream downstream;
  private final BiFunction<String, String, JsonNode> configMaps;
  private final BiFunction<String, String, JsonNode> secrets;
  private final Executor pool;
  private final KubernetesSerialization ser;
  private final NodeRegistration registration;
  private final Map<String, SerialExecutor> perNode = new ConcurrentHashMap<>();
  private final Set<String> warned = ConcurrentHashMap.newKeySet();
  private final java.util.function.ToIntFunction<String> kubeletPort;

  Upstream(
      KubeClients kube,
      EdgeMessenger hub,
      Downstream downstream,
      BiFunction<String, String, JsonNode> configMaps,
      BiFunction<String, String, JsonNode> secrets,
      Executor pool,
      java.util.function.ToIntFunction<String> kubeletPort) {
    this.kubeletPort = kubeletPort;
    this.kube = kube;
    this.hub = hub;
    this.downstream = downstream;
    this.configMaps = configMaps;
    this.secrets = secrets;
    this.pool = pool;
    this.ser = kube.own().getKubernetesSerialization();
    this.registration = new NodeRegistration(kube);
  }

  void handle(String node, Message m) {
    perNode
        .computeIfAbsent(node, n -> new SerialExecutor(pool, "edgecontroller " + n))
        .execute(() -> process(node, m));
  }

  void forget(String node) {
    perNode.remove(node);
  }

  private void process(String node, Message m) {
    ResourcePath p = ResourcePath.parse(m.resource());
    String op = m.operation();
    try {
      switch (p.type()) {
        case "node" -> node(node, m, p, op);
        case "nodestatus", "nodepatch" -> nodeStatus(node, m, p, op);
        case "lease" -> lease(node, m, p, op);
        case "pod" -> pod(node, m, p, op);
        case "podpatch", "podstatus" -> podStatus(node, m, p, op);
        case "configmap", "secret" -> referenced(node, m, p, op);
        case "serviceaccounttoken" -> token(node, m, p, op);
        case "event" -> event(node, m, p, op);
        default -> unsupported(node, m, "resource type '" + p.type() + "'");
      }
    } catch (KubernetesClientException e) {
      LOG.info("edgecontroller: node {}: {} failed: {}", node, m, e.getMessage());
      send(node, Replies.reply(m, Replies.errStatus(e), ""));
    } catch (RuntimeException e) {
      LOG.warn("edgecontroller: node {}: {} failed: {}", node, m, e.toString());
      send(
          node,
          Replies.reply(
              m,
              Replies.errStatus(
                  400,
                  "cannot process " + m.operation() + " " + m.resource() + ": " + e.getMessage()),
              ""));
    }
  }

  // ---------------------------------------------------------------- node

  private void node(String node, Message m, ResourcePath p, String op) {
    switch (op) {
      case Operations.QUERY -> {
        Node n = kube.asNode(node).nodes().withName(p.name()).get();
        if (n == null) {
          send(
              node,
              Replies.reply(
                  m,
                  KubeStatus.errStatus(
                      KubeStatus.withDetails(
                          KubeStatus.failure(
                              404, "NotFound", "node \"" + p.name() + "\" not found"),
                          p.name(),
                          "",
                          "node")),
                  ""));
        } else {
          JsonNode j = json(n);
          send(node, Replies.reply(m, j, Replies.rv(j)));
        }
      }
      case Operations.INSERT -> register(node, m, p);
      case Operations.UPDATE, Operations.PATCH -> {
        requireSelf(node, p);
        // As the node: NodeRestriction keeps labels, taints and configSource out of its reach.
        var own = kube.asNode(node).nodes();
        try {
          Node changed =
              Operations.UPDATE.equals(op)
                  ? own.resource(ser.unmarshal(Json.string(m.content()), Node.class)).update()
                  : own.withName(node)
                      .patch(PatchContext.of(PatchType.STRATEGIC_MERGE), patchText(m));
          JsonNode j = json(changed);
          send(node, Replies.reply(m, Replies.objectResp(j, null), Replies.rv(j)));
        } catch (KubernetesClientException e) {
          LOG.info("edgecontroller: node {}: {} refused: {}", node, m, e.getMessage());
          send(node, Replies.reply(m, Replies.objectResp(null, Replies.errStatus(e)), ""));
        }
      }
      default -> unsupported(node, m, "operation '" + op + "' on nodes");
    }
  }

  /** First join: see {@link NodeRegistration}. */
  private void register(String node, Message m, ResourcePath p) {
    requireSelf(node, p);
    NodeRegistration.Outcome r = registration.register(node, m.content());
    switch (r.kind()) {
      case CREATED -> {
        LOG.info("edgecontroller: registered node {} (label {})", node, EdgeController.EDGE_LABEL);
        send(node, Replies.reply(m, Replies.objectResp(json(r.node()), null), ""));
      }
      case EXISTS -> {
        ensureEdgeLabel(node);
        send(node, Replies.reply(m, Replies.objectResp(null, Replies.errStatus(r.error())), ""));
      }
      case REFUSED -> {
        LOG.warn(
            "edgecontroller: refused to register node {}: the apiserver refuses it to the node"
                + " itself: {}",
            node,
            r.error().getStatus() != null
                ? r.error().getStatus().getMessage()
                : r.error().getMessage());
        send(node, Replies.reply(m, Replies.objectResp(null, Replies.errStatus(r.error())), ""));
      }
    }
  }

  void ensureEdgeLabel(String node) {
    Node n = kube.own().nodes().withName(node).get();
    if (n != null
        && (n.getMetadata().getLabels() == null
            || !n.getMetadata().getLabels().containsKey(EdgeController.EDGE_LABEL))) {
      kube.own()
          .nodes()
          .withName(node)
          .patch(
              PatchContext.of(PatchType.JSON_MERGE),
              "{\"metadata\":{\"labels\":{\"" + EdgeController.EDGE_LABEL + "\":\"\"}}}");
      LOG.info("edgecontroller: labelled existing node {} {}", node, EdgeController.EDGE_LABEL);
    }
  }

  private void nodeStatus(String node, Message m, ResourcePath p, String op) {
    requireSelf(node, p);
    String patch;
    PatchType type;
    if ("nodepatch".equals(p.type())) {
      patch = patchText(m);
      type = PatchType.STRATEGIC_MERGE;
    } else {
      // legacy NodeStatusRequest {UID, Status}
      JsonNode status =
          m.content().has("Status") ? m.content().get("Status") : m.content().path("status");
      ObjectNode o = Json.object();
      o.set("status", status);
      patch = Json.string(o);
      type = PatchType.JSON_MERGE;
    }
    patch = withKubeletPort(patch, kubeletPort.applyAsInt(node));
    Node patched =
        kube.asNode(node)
            .nodes()
            .withName(node)
            .subresource("status")
            .patch(PatchContext.of(type), patch);
    JsonNode j = json(patched);
    send(node, Replies.reply(m, Replies.objectResp(j, null), Replies.rv(j)));
  }

  /**
   * The node status patch with the kubelet port cloudStream advertises for the node (as KubeEdge's
   * cloud keeps the port its tunnel server set), unchanged when {@code port} is 0 or the patch
   * reports no port.
   */
  static String withKubeletPort(String patch, int port) {
    if (port <= 0) {
      return patch;
    }
    JsonNode p = Json.parse(patch);
    JsonNode endpoint = p.path("status").path("daemonEndpoints").path("kubeletEndpoint");
    if (!(endpoint instanceof ObjectNode o)) {
      return patch;
    }
    o.put("Port", port);
    return Json.string(p);
  }

  // ---------------------------------------------------------------- lease

  private void lease(String node, Message m, ResourcePath p, String op) {
    String ns = p.namespace() == null ? "kube-node-lease" : p.namespace();
    var leases = kube.asNode(node).leases().inNamespace(ns);
    try {
      Lease result =
          switch (op) {
            case Operations.QUERY -> {
              Lease l = leases.withName(p.name()).get();
              if (l == null) {
                throw notFound("coordination.k8s.io", "lease", p.name(), "lease");
              }
              yield l;
            }
            case Operations.INSERT ->
                leases.resource(ser.unmarshal(Json.string(m.content()), Lease.class)).create();
            case Operations.UPDATE ->
                leases.resource(ser.unmarshal(Json.string(m.content()), Lease.class)).update();
            default -> null;
          };
      if (result == null) {
        unsupported(node, m, "operation '" + op + "' on leases");
        return;
      }
      send(node, Replies.reply(m, Replies.objectResp(json(result), null), ""));
    } catch (KubernetesClientException e) {
      send(node, Replies.reply(m, Replies.objectResp(null, Replies.errStatus(e)), ""));
    }
  }

  // ---------------------------------------------------------------- pods

  private void pod(String node, Message m, ResourcePath p, String op) {
    if (!Operations.DELETE.equals(op)) {
      unsupported(node, m, "operation '" + op + "' on pods");
      return;
    }
    long grace = m.content().path("gracePeriodSeconds").asLong(0);
    var pod = kube.asNode(node).pods().inNamespace(p.namespace()).withName(p.name());
    String uid = m.content().path("preconditions").path("uid").asString("");
    var current = pod.get();
    if (current != null && (uid.isEmpty() || uid.equals(current.getMetadata().getUid()))) {
      pod.withGracePeriod(grace).delete();
    }
    send(node, Replies.reply(m, StringNode.valueOf("OK"), ""));
  }

  private void podStatus(String node, Message m, ResourcePath p, String op) {
    var pod = kube.asNode(node).pods().inNamespace(p.namespace()).withName(p.name());
    if ("podpatch".equals(p.type())) {
      var patched =
          pod.subresource("status").patch(PatchContext.of(PatchType.STRATEGIC_MERGE), patchText(m));
      JsonNode j = json(patched);
      send(node, Replies.reply(m, Replies.objectResp(j, null), Replies.rv(j)));
      return;
    }
    // legacy PodStatusRequest {UID, Name, Status}
    JsonNode status =
        m.content().has("Status") ? m.content().get("Status") : m.content().path("status");
    ObjectNode o = Json.object();
    o.set("status", status);
    pod.subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE), Json.string(o));
    send(node, Replies.reply(m, StringNode.valueOf("OK"), ""));
  }

  // ---------------------------------------------------------------- configmaps, secrets

  private void referenced(String node, Message m, ResourcePath p, String op) {
    if (!Operations.QUERY.equals(op)) {
      unsupported(node, m, "operation '" + op + "' on " + p.type() + "s");
      return;
    }
    String kind = p.type();
    String ns = p.namespace() == null ? "default" : p.namespace();
    if (!downstream.references(node, kind, ns, p.name())) {
      LOG.warn(
          "edgecontroller: node {} asked for {} {}/{} that none of its pods references; refused",
          node,
          kind,
          ns,
          p.name());
      send(
          node,
          Replies.reply(
              m,
              KubeStatus.errStatus(
                  KubeStatus.withDetails(
                      KubeStatus.failure(
                          403,
                          "Forbidden",
                          kind
                              + "s \""
                              + p.name()
                              + "\" is forbidden: no pod bound to node "
                              + node
                              + " references it"),
                      p.name(),
                      "",
                      kind + "s")),
              ""));
      return;
    }
    JsonNode obj =
        "secret".equals(kind) ? secrets.apply(ns, p.name()) : configMaps.apply(ns, p.name());
    if (obj == null) {
      send(
          node,
          Replies.reply(
              m, KubeStatus.errStatus(KubeStatus.notFound("", kind + "s", p.name())), ""));
      return;
    }
    // ACK-required (KubeEdge keys it by the object's UID, so the SyncController follows it)
    hub.deliver(node, Replies.reply(m, obj, Replies.rv(obj)));
  }

  // ---------------------------------------------------------------- tokens, CSRs, events

  private void token(String node, Message m, ResourcePath p, String op) {
    TokenRequest tr = ser.unmarshal(Json.string(m.content()), TokenRequest.class);
    TokenRequest issued =
        kube.asNode(node)
            .serviceAccounts()
            .inNamespace(p.namespace())
            .withName(p.name())
            .tokenRequest(tr);
    send(node, Replies.reply(m, json(issued), ""));
  }

  private void event(String node, Message m, ResourcePath p, String op) {
    var events =
        kube.asNode(node)
            .v1()
            .events()
            .inNamespace(p.namespace() == null ? "default" : p.namespace());
    try {
      switch (op) {
        case Operations.INSERT ->
            events.resource(ser.unmarshal(Json.string(m.content()), Event.class)).create();
        case Operations.UPDATE ->
            events.resource(ser.unmarshal(Json.string(m.content()), Event.class)).update();
        case Operations.PATCH ->
            events
                .withName(p.name())
                .patch(PatchContext.of(PatchType.STRATEGIC_MERGE), patchText(m));
        default -> LOG.debug("edgecontroller: node {}: event operation {} ignored", node, op);
      }
    } catch (KubernetesClientException e) {
      LOG.debug(
          "edgecontroller: node {}: event {} not recorded: {}", node, p.name(), e.getMessage());
    }
  }

  // ---------------------------------------------------------------- helpers

  private void unsupported(String node, Message m, String what) {
    if (warned.add(node + "|" + m.operation() + "|" + ResourcePath.parse(m.resource()).type())) {
      LOG.warn("edgecontroller: node {} sent {}: {} is not supported", node, m, what);
    }
    if (!Operations.RESPONSE.equals(m.operation()) && !Operations.ERROR.equals(m.operation())) {
      send(
          node,
          Replies.reply(
              m, Replies.errStatus(405, what + " is not supported by the EdgeController"), ""));
    }
  }

  private static void requireSelf(String node, ResourcePath p) {
    if (!node.equals(p.name())) {
      throw new KubernetesClientException(
          new io.fabric8.kubernetes.api.model.StatusBuilder()
              .withCode(403)
              .withReason("Forbidden")
              .withStatus("Failure")
              .withMessage("node " + node + " may not act on node \"" + p.name() + "\"")
              .build());
    }
  }

  private static KubernetesClientException notFound(
      String group, String resource, String name, String kind) {
    String what = group.isEmpty() ? resource : resource + "." + group;
    return new KubernetesClientException(
        new io.fabric8.kubernetes.api.model.StatusBuilder()
            .withCode(404)
            .withReason("NotFound")
            .withStatus("Failure")
            .withMessage(what + " \"" + name + "\" not found")
            .withNewDetails()
            .withName(name)
            .withGroup(group.isEmpty() ? null : group)
            .withKind(kind)
            .endDetails()
            .build());
  }

  /** A patch travels as a JSON string (KubeEdge) or, from lenient senders, as an object. */
  private static String patchText(Message m) {
    return m.content().isString() ? m.content().asString() : Json.string(m.content());
  }

  private JsonNode json(Object o) {
    return Json.parse(ser.asJson(o));
  }

  private void send(String node, Message reply) {
    if (!hub.send(node, reply)) {
      LOG.debug("edgecontroller: node {} left before its reply {}", node, reply);
    }
  }
}
