package io.kedge.cloud.edgecontroller;

import io.kedge.cloud.hub.DeliveryException;
import io.kedge.cloud.hub.EdgeMessenger;
import io.kedge.cloud.kube.SharedInformers;
import io.kedge.cloud.kube.SharedInformers.EventType;
import io.kedge.cloud.sync.ObjectSyncStore;
import io.kedge.cloud.sync.SyncedObject;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.message.Sources;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What each edge node gets: the pods bound to it and exactly the ConfigMaps and Secrets those pods
 * reference, with deletions when a pod goes or stops referencing one. Driven by the shared
 * informers; all state is confined to one serial executor, deliveries are asynchronous. On
 * (re)connect a node is brought up to date against what it acknowledged (ObjectSyncs).
 */
final class Downstream {
  private static final Logger LOG = LoggerFactory.getLogger(Downstream.class);

  private final EdgeMessenger hub;
  private final ObjectSyncStore syncs;
  private final Executor serial;
  private final BiFunction<String, String, JsonNode> configMaps;
  private final BiFunction<String, String, JsonNode> secrets;
  private final BiFunction<String, String, JsonNode> pods;
  // confined to `serial`
  private final Set<String> edgeNodes = new HashSet<>();
  private final Map<String, Set<String>> podsByNode = new HashMap<>();
  private final Map<String, Set<String>> nodesByRef = new HashMap<>();
  // read from other threads (upstream authorisation of queries)
  private final Map<String, Set<String>> refsByNode = new ConcurrentHashMap<>();

  Downstream(
      EdgeMessenger hub,
      ObjectSyncStore syncs,
      Executor serial,
      BiFunction<String, String, JsonNode> pods,
      BiFunction<String, String, JsonNode> configMaps,
      BiFunction<String, String, JsonNode> secrets) {
    this.hub = hub;
    this.syncs = syncs;
    this.serial = serial;
    this.pods = pods;
    this.configMaps = configMaps;
    this.secrets = secrets;
  }

  /** Whether pods on {@code node} reference {@code type/ns/name} (any thread). */
  boolean references(String node, String type, String namespace, String name) {
    Set<String> refs = refsByNode.get(node);
    return refs != null && refs.contains(PodReferences.key(type, namespace, name));
  }

  // ---------------------------------------------------------------- informer events

  SharedInformers.Subscriber nodeEvents() {
    return (type, old, obj) -> serial.execute(() -> onNode(type, obj));
  }

  SharedInformers.Subscriber podEvents() {
    return (type, old, obj) -> serial.execute(() -> onPod(type, old, obj));
  }

  SharedInformers.Subscriber configMapEvents() {
    return (type, old, obj) ->
        serial.execute(() -> onReferenced(PodReferences.CONFIGMAP, type, obj));
  }

  SharedInformers.Subscriber secretEvents() {
    return (type, old, obj) -> serial.execute(() -> onReferenced(PodReferences.SECRET, type, obj));
  }

  static boolean isEdge(JsonNode node) {
    return node.path("metadata").path("labels").has(EdgeController.EDGE_LABEL);
  }

  private void onNode(EventType type, JsonNode node) {
    String name = node.path("metadata").path("name").asString("");
    boolean edge = type != EventType.DELETED && isEdge(node);
    if (edge && edgeNodes.add(name)) {
      LOG.info("edgecontroller: node {} is an edge node", name);
      recomputeRefs(name, false);
      reconcile(name);
    } else if (!edge && edgeNodes.remove(name)) {
      LOG.info("edgecontroller: node {} is no longer an edge node", name);
    }
  }

  private void onPod(EventType type, JsonNode old, JsonNode pod) {
    String node = pod.path("spec").path("nodeName").asString("");
    if (node.isEmpty() && old != null) {
      node = old.path("spec").path("nodeName").asString("");
    }
    if (node.isEmpty()) {
      return;
    }
    String key = key(pod);
    if (type == EventType.DELETED) {
      Set<String> s = podsByNode.get(node);
      if (s != null) {
        s.remove(key);
        if (s.isEmpty()) {
          podsByNode.remove(node);
        }
      }
    } else {
      podsByNode.computeIfAbsent(node, n -> new HashSet<>()).add(key);
    }
    boolean edge = edgeNodes.contains(node);
    if (type == EventType.DELETED) {
      if (edge) {
        deliver(node, Operations.DELETE, "pod", pod);
      }
      recomputeRefs(node, edge);
      return;
    }
    // the objects a pod needs go out before the pod itself
    recomputeRefs(node, edge);
    if (edge) {
      deliver(node, type == EventType.ADDED ? Operations.INSERT : Operations.UPDATE, "pod", pod);
    }
  }

  private void onReferenced(String refType, EventType type, JsonNode obj) {
    String ns = obj.path("metadata").path("namespace").asString("");
    String name = obj.path("metadata").path("name").asString("");
    Set<String> nodes = nodesByRef.get(PodReferences.key(refType, ns, name));
    if (nodes == null) {
      return;
    }
    String op =
        type == EventType.DELETED
            ? Operations.DELETE
            : refType.equals(PodReferences.SECRET) || type == EventType.MODIFIED
                ? Operations.UPDATE
                : Operations.INSERT;
    for (String node : nodes) {
      if (edgeNodes.contains(node)) {
        deliver(node, op, refType, obj);
      }
    }
  }

  /** Recomputes what a node's pods reference; sends newly referenced objects, deletes dropped. */
  private void recomputeRefs(String node, boolean send) {
    Set<String> now = new HashSet<>();
    for (String podKey : podsByNode.getOrDefault(node, Set.of())) {
      String[] p = podKey.split("/", 2);
      JsonNode pod = pods.apply(p[0], p[1]);
      if (pod != null) {
        now.addAll(PodReferences.of(pod));
      }
    }
    Set<String> before = refsByNode.getOrDefault(node, Set.of());
    if (now.equals(before)) {
      return;
    }
    for (String ref : now) {
      if (!before.contains(ref)) {
        nodesByRef.computeIfAbsent(ref, r -> new HashSet<>()).add(node);
        if (send) {
          JsonNode obj = lookup(ref);
          if (obj != null) {
            String type = ref.substring(0, ref.indexOf('/'));
            deliver(
                node,
                type.equals(PodReferences.SECRET) ? Operations.UPDATE : Operations.INSERT,
                type,
                obj);
          }
        }
      }
    }
    for (String ref : before) {
      if (!now.contains(ref)) {
        Set<String> n = nodesByRef.get(ref);
        if (n != null) {
          n.remove(node);
          if (n.isEmpty()) {
            nodesByRef.remove(ref);
          }
        }
        if (send) {
          JsonNode obj = lookup(ref);
          String[] p = ref.split("/", 3);
          deliver(node, Operations.DELETE, p[0], obj != null ? obj : stub(p[1], p[2], null));
        }
      }
    }
    if (now.isEmpty()) {
      refsByNode.remove(node);
    } else {
      refsByNode.put(node, Set.copyOf(now));
    }
  }

  private JsonNode lookup(String ref) {
    String[] p = ref.split("/", 3);
    return p[0].equals(PodReferences.SECRET)
        ? secrets.apply(p[1], p[2])
        : configMaps.apply(p[1], p[2]);
  }

  // ---------------------------------------------------------------- (re)connect

  void connected(String node) {
    serial.execute(() -> reconcile(node));
  }

  /**
   * Sends a node what it lacks: pods and referenced objects it never acknowledged or has in an
   * older version, and deletes for pods it has that are no longer bound to it. (Objects that are
   * gone altogether are left to the SyncController, which also serves other components' kinds.)
   */
  private void reconcile(String node) {
    if (!edgeNodes.contains(node) || !hub.isConnected(node)) {
      return;
    }
    Map<String, SyncedObject> acked = new HashMap<>();
    for (SyncedObject s : syncs.forNode(node)) {
      if ("v1".equals(s.apiVersion())) {
        acked.put(s.uid(), s);
      }
    }
    int sent = 0;
    for (String podKey : podsByNode.getOrDefault(node, Set.of())) {
      String[] p = podKey.split("/", 2);
      JsonNode pod = pods.apply(p[0], p[1]);
      if (pod != null) {
        sent += bringUpToDate(node, "pod", pod, acked, Operations.INSERT);
      }
    }
    for (String ref : refsByNode.getOrDefault(node, Set.of())) {
      JsonNode obj = lookup(ref);
      if (obj != null) {
        String type = ref.substring(0, ref.indexOf('/'));
        sent +=
            bringUpToDate(
                node,
                type,
                obj,
                acked,
                type.equals(PodReferences.SECRET) ? Operations.UPDATE : Operations.INSERT);
      }
    }
    for (SyncedObject s : acked.values()) {
      if ("Pod".equals(s.kind())) {
        deliver(node, Operations.DELETE, "pod", stub(s.namespace(), s.name(), s.uid()));
        sent++;
      }
    }
    LOG.info(
        "edgecontroller: node {} connected; {} objects sent to bring it up to date", node, sent);
  }

  private int bringUpToDate(
      String node, String type, JsonNode obj, Map<String, SyncedObject> acked, String firstOp) {
    String uid = obj.path("metadata").path("uid").asString("");
    SyncedObject s = acked.remove(uid);
    String rv = obj.path("metadata").path("resourceVersion").asString("");
    if (s == null) {
      deliver(node, firstOp, type, obj);
      return 1;
    }
    if (SyncedObject.newer(rv, s.resourceVersion())) {
      deliver(node, Operations.UPDATE, type, obj);
      return 1;
    }
    return 0;
  }

  // ---------------------------------------------------------------- sending

  private void deliver(String node, String op, String type, JsonNode obj) {
    String ns = obj.path("metadata").path("namespace").asString("");
    String name = obj.path("metadata").path("name").asString("");
    Message m =
        new Message(
            MessageHeader.create().withResourceVersion(Replies.rv(obj)),
            new MessageRoute(
                Sources.EDGE_CONTROLLER,
                Sources.GROUP_RESOURCE,
                op,
                ResourcePath.format(ns.isEmpty() ? null : ns, type, name)),
            obj);
    if (!hub.isConnected(node)) {
      return; // brought up to date on connect
    }
    hub.deliver(node, m)
        .whenComplete(
            (v, err) -> {
              if (err instanceof DeliveryException d
                  && d.reason() != DeliveryException.Reason.SUPERSEDED
                  && d.reason() != DeliveryException.Reason.SESSION_CLOSED
                  && d.reason() != DeliveryException.Reason.NOT_CONNECTED) {
                LOG.warn(
                    "edgecontroller: {} to node {} not delivered: {}", m, node, d.getMessage());
              }
            });
  }

  private static ObjectNode stub(String namespace, String name, String uid) {
    ObjectNode o = Json.object();
    ObjectNode meta = o.putObject("metadata");
    if (namespace != null) {
      meta.put("namespace", namespace);
    }
    meta.put("name", name);
    if (uid != null) {
      meta.put("uid", uid);
    }
    return o;
  }

  private static String key(JsonNode obj) {
    return obj.path("metadata").path("namespace").asString("")
        + "/"
        + obj.path("metadata").path("name").asString("");
  }
}
