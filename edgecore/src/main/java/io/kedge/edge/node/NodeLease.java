package io.kedge.edge.node;

import io.kedge.protocol.Json;
import java.time.Instant;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The node's Lease in {@code kube-node-lease}, as the kubelet keeps it: created with the Node as
 * owner, then renewed by updating the last version the cloud returned with a new {@code renewTime}.
 */
final class NodeLease {
  static final String NAMESPACE = "kube-node-lease";
  static final int DURATION_SECONDS = 40;

  private final String node;

  NodeLease(String node) {
    this.node = node;
  }

  String resource() {
    return NAMESPACE + "/lease/" + node;
  }

  /** A new Lease owned by the Node {@code nodeUid}. */
  ObjectNode create(String nodeUid, Instant now) {
    ObjectNode l = Json.object();
    ObjectNode meta = l.putObject("metadata");
    meta.put("name", node);
    meta.put("namespace", NAMESPACE);
    ObjectNode owner = meta.putArray("ownerReferences").addObject();
    owner.put("apiVersion", "v1");
    owner.put("kind", "Node");
    owner.put("name", node);
    owner.put("uid", nodeUid);
    spec(l, now);
    return l;
  }

  /** {@code current} (as the cloud last returned it) renewed at {@code now}. */
  ObjectNode renewed(JsonNode current, Instant now) {
    ObjectNode l = (ObjectNode) current.deepCopy();
    spec(l, now);
    return l;
  }

  private void spec(ObjectNode lease, Instant now) {
    ObjectNode spec = lease.get("spec") instanceof ObjectNode s ? s : lease.putObject("spec");
    spec.put("holderIdentity", node);
    spec.put("leaseDurationSeconds", DURATION_SECONDS);
    spec.put("renewTime", NodeStatusReport.microTime(now));
  }
}
