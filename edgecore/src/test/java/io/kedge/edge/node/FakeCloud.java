package io.kedge.edge.node;

import io.kedge.edge.hub.CloudLink;
import io.kedge.edge.hub.CloudLinkListener;
import io.kedge.edge.hub.NotConnectedException;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.status.KubeStatus;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A cloud for node-lifecycle unit tests that answers like KubeEdge's EdgeController: Node insert
 * and query, node-status patch and Lease query/insert/update, with a small object store.
 */
final class FakeCloud implements CloudLink {
  final List<Message> requests = new CopyOnWriteArrayList<>();
  final List<CloudLinkListener> listeners = new CopyOnWriteArrayList<>();
  final Map<String, ObjectNode> objects = new ConcurrentHashMap<>();
  final AtomicInteger rv = new AtomicInteger(100);
  volatile boolean connected = true;

  /** Replaces the default answer for a request when it returns non-null. */
  volatile Function<Message, JsonNode> override = m -> null;

  @Override
  public boolean isConnected() {
    return connected;
  }

  @Override
  public CompletableFuture<Message> request(Message request, Duration timeout) {
    if (!connected) {
      return CompletableFuture.failedFuture(new NotConnectedException("offline"));
    }
    requests.add(request);
    JsonNode content = override.apply(request);
    if (content == null) {
      content = answer(request).deepCopy(); // the edge must not share the store's objects
    }
    return CompletableFuture.completedFuture(
        new Message(
            MessageHeader.replyTo(request.id()),
            new MessageRoute("edgecontroller", "resource", "response", request.resource()),
            content));
  }

  @Override
  public void send(Message message) {
    throw new UnsupportedOperationException();
  }

  @Override
  public void addListener(CloudLinkListener listener) {
    listeners.add(listener);
  }

  List<Message> requests(String op, String type) {
    return requests.stream()
        .filter(m -> m.operation().equals(op) && m.resource().split("/")[1].equals(type))
        .toList();
  }

  static ObjectNode objectResp(JsonNode obj, JsonNode err) {
    ObjectNode o = Json.object();
    o.set("Object", obj == null ? Json.NODES.nullNode() : obj);
    o.set("Err", err == null ? Json.NODES.nullNode() : err);
    return o;
  }

  static ObjectNode err(int code, String reason) {
    return KubeStatus.errStatus(KubeStatus.failure(code, reason, "test: " + reason));
  }

  private JsonNode answer(Message m) {
    String[] p = m.resource().split("/");
    String type = p[1];
    String key = type.equals("nodepatch") ? "node/" + p[2] : type + "/" + p[2];
    switch (m.operation()) {
      case "insert" -> {
        if (objects.containsKey(key)) {
          return objectResp(null, err(409, "AlreadyExists"));
        }
        ObjectNode o = (ObjectNode) m.content().deepCopy();
        stamp(o, true);
        objects.put(key, o);
        return objectResp(o, null);
      }
      case "query" -> {
        ObjectNode o = objects.get(key);
        if (type.equals("node")) {
          return o == null ? err(404, "NotFound") : o; // bare object, as queryInner answers
        }
        return o == null ? objectResp(null, err(404, "NotFound")) : objectResp(o, null);
      }
      case "update" -> {
        ObjectNode cur = objects.get(key);
        if (cur == null) {
          return objectResp(null, err(404, "NotFound"));
        }
        String want = m.content().path("metadata").path("resourceVersion").asString();
        if (!want.equals(cur.path("metadata").path("resourceVersion").asString())) {
          return objectResp(null, err(409, "Conflict"));
        }
        ObjectNode o = (ObjectNode) m.content().deepCopy();
        stamp(o, false);
        objects.put(key, o);
        return objectResp(o, null);
      }
      case "patch" -> {
        ObjectNode cur = objects.get(key);
        if (cur == null) {
          return objectResp(null, err(404, "NotFound"));
        }
        JsonNode patch = Json.parse(m.content().asString());
        cur.set("status", patch.get("status"));
        stamp(cur, false);
        return objectResp(cur, null);
      }
      default -> {
        return err(400, "BadRequest");
      }
    }
  }

  private void stamp(ObjectNode o, boolean create) {
    ObjectNode meta = (ObjectNode) o.get("metadata");
    if (create) {
      meta.put("uid", "uid-" + meta.path("name").asString() + "-" + rv.get());
    }
    meta.put("resourceVersion", String.valueOf(rv.incrementAndGet()));
  }
}
