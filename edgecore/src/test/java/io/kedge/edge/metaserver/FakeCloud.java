package io.kedge.edge.metaserver;

import io.kedge.edge.hub.DownstreamHandler;
import io.kedge.edge.metamanager.ScriptedCloudLink;
import io.kedge.protocol.Json;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.application.KedgeExchange;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.status.KubeStatus;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A stand-in for cloudcore + apiserver in unit tests: ConfigMaps in memory, answered through
 * Applications as a Kedge DynamicController answers them, and watch Applications turned into
 * insert/update/delete messages handed to the edge's {@link DownstreamHandler}.
 */
final class FakeCloud {
  final ScriptedCloudLink link;
  final List<Application> applications = new CopyOnWriteArrayList<>();
  final Map<String, String> watches = new ConcurrentHashMap<>(); // app id -> namespace ("" all)
  private final TreeMap<String, ObjectNode> configMaps = new TreeMap<>();
  private long rv = 100;
  volatile DownstreamHandler downstream;
  volatile int failWithCode; // answer every request with this code when > 0

  /** A change as the apiserver's own watch announces it. */
  record Change(String type, String ns, String name, ObjectNode object, long rv) {}

  /** Every change so far, oldest first (what a watch from an old version replays). */
  final List<Change> history = new CopyOnWriteArrayList<>();

  /** Whether watchapp/sync resumes watches from their resourceVersion, as Kedge's cloud does. */
  volatile boolean resumes;

  /**
   * How many of the next {@code watchapp/sync}s get no answer in time (the edge's request times
   * out), as from a cloudcore too loaded to finish replaying before the edge gives up.
   */
  final java.util.concurrent.atomic.AtomicInteger unansweredSyncs =
      new java.util.concurrent.atomic.AtomicInteger();

  /** Resumes from a version below this are answered 410 Expired (too old). */
  volatile long expiredBelow;

  /**
   * Tokens whose ConfigMap watches and lists are refused, as cloudcore refuses a token whose pod is
   * gone (401); "" refuses requests without a token (403, as for a node without the right).
   */
  final java.util.Set<String> refused = ConcurrentHashMap.newKeySet();

  /** When set, refusals are answered only once it completes (an attempt kept under way). */
  volatile CompletableFuture<Void> holdRefusals;

  /** The token each watch was registered with, by id. */
  final Map<String, String> watchTokens = new ConcurrentHashMap<>();

  /** Stops watch {@code id} on the cloud's own account, telling the edge (kedge.watchStopped). */
  void stopWatch(String id, int code, String reason, String message) {
    watches.remove(id);
    ObjectNode c = Json.object();
    c.put("applicationId", id);
    c.set("status", KubeStatus.failure(code, reason, message));
    downstream
        .handle(
            new Message(
                MessageHeader.create(),
                new MessageRoute(
                    "dynamiccontroller", "resource", "kedge.watchStopped", "a/configmap"),
                c))
        .toCompletableFuture()
        .join();
  }

  /** The refusal of a request with {@code token}, or null when it is not refused. */
  private ObjectNode refusal(String token) {
    if (!refused.contains(token)) {
      return null;
    }
    return token.isEmpty()
        ? KubeStatus.failure(
            403, "Forbidden", "configmaps is forbidden: User \"system:node:edge-1\" cannot watch")
        : KubeStatus.failure(401, "Unauthorized", "the pod this token was issued for is gone");
  }

  private void record(String type, ObjectNode cm) {
    JsonNode meta = cm.path("metadata");
    history.add(
        new Change(
            type,
            meta.path("namespace").asString(),
            meta.path("name").asString(),
            cm.deepCopy(),
            Long.parseLong(meta.path("resourceVersion").asString())));
  }

  FakeCloud() {
    link = new ScriptedCloudLink(this::answer);
  }

  synchronized long resourceVersion() {
    return rv;
  }

  /** Creates or updates a ConfigMap and pushes the change to matching watches. */
  ObjectNode put(String ns, String name, String key, String value) {
    ObjectNode cm;
    boolean created;
    synchronized (this) {
      String k = ns + "/" + name;
      created = !configMaps.containsKey(k);
      cm = created ? newConfigMap(ns, name) : configMaps.get(k).deepCopy();
      ((ObjectNode) cm.path("data")).put(key, value);
      ((ObjectNode) cm.path("metadata")).put("resourceVersion", Long.toString(++rv));
      configMaps.put(k, cm);
      record(created ? "ADDED" : "MODIFIED", cm);
    }
    push(created ? "insert" : "update", ns, name, cm);
    return cm;
  }

  ObjectNode label(String ns, String name, String key, String value) {
    ObjectNode cm;
    synchronized (this) {
      cm = configMaps.get(ns + "/" + name).deepCopy();
      ObjectNode meta = (ObjectNode) cm.path("metadata");
      ObjectNode labels =
          meta.has("labels") ? (ObjectNode) meta.get("labels") : meta.putObject("labels");
      if (value == null) {
        labels.remove(key);
      } else {
        labels.put(key, value);
      }
      meta.put("resourceVersion", Long.toString(++rv));
      configMaps.put(ns + "/" + name, cm);
      record("MODIFIED", cm);
    }
    push("update", ns, name, cm);
    return cm;
  }

  void delete(String ns, String name) {
    ObjectNode cm;
    synchronized (this) {
      cm = configMaps.remove(ns + "/" + name).deepCopy();
      ((ObjectNode) cm.path("metadata")).put("resourceVersion", Long.toString(++rv));
      record("DELETED", cm);
    }
    push("delete", ns, name, cm);
  }

  /** Changes a ConfigMap without telling anyone (as if the edge missed it while away). */
  synchronized void putQuietly(String ns, String name, String key, String value) {
    String k = ns + "/" + name;
    boolean created = !configMaps.containsKey(k);
    ObjectNode cm = created ? newConfigMap(ns, name) : configMaps.get(k).deepCopy();
    ((ObjectNode) cm.path("data")).put(key, value);
    ((ObjectNode) cm.path("metadata")).put("resourceVersion", Long.toString(++rv));
    configMaps.put(k, cm);
    record(created ? "ADDED" : "MODIFIED", cm);
  }

  synchronized void deleteQuietly(String ns, String name) {
    ObjectNode cm = configMaps.remove(ns + "/" + name);
    rv++;
    if (cm != null) {
      cm = cm.deepCopy();
      ((ObjectNode) cm.path("metadata")).put("resourceVersion", Long.toString(rv));
      record("DELETED", cm);
    }
  }

  private ObjectNode newConfigMap(String ns, String name) {
    ObjectNode cm = Json.object();
    cm.put("kind", "ConfigMap");
    cm.put("apiVersion", "v1");
    ObjectNode meta = cm.putObject("metadata");
    meta.put("name", name);
    meta.put("namespace", ns);
    meta.put("uid", "uid-" + ns + "-" + name);
    meta.put("creationTimestamp", "2026-11-25T19:43:58Z");
    cm.putObject("data");
    return cm;
  }

  private void push(String op, String ns, String name, ObjectNode cm) {
    DownstreamHandler d = downstream;
    if (d == null) {
      return;
    }
    for (String scope : watches.values()) {
      if (scope.isEmpty() || scope.equals(ns)) {
        Message m =
            new Message(
                MessageHeader.create()
                    .withResourceVersion(cm.path("metadata").path("resourceVersion").asString()),
                new MessageRoute("dynamiccontroller", "resource", op, ns + "/configmap/" + name),
                cm.deepCopy());
        d.handle(m).toCompletableFuture().join();
      }
    }
  }

  CompletableFuture<Message> answer(Message m) {
    if (m.resource().equals("watchapp/sync")
        && unansweredSyncs.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      return CompletableFuture.failedFuture(
          new java.util.concurrent.TimeoutException("no reply from the cloud in time"));
    }
    if (m.resource().equals("watchapp/sync")) {
      // Keep exactly the watches the edge lists.
      Map<String, String> keep = new ConcurrentHashMap<>();
      Map<String, Application> apps = new ConcurrentHashMap<>();
      for (var e : m.content().properties()) {
        Application a = Application.fromJson(e.getValue());
        keep.put(e.getKey(), namespaceOf(a.kedge().path()));
        apps.put(e.getKey(), a);
      }
      watches.keySet().retainAll(keep.keySet());
      ObjectNode answers = Json.object();
      for (var e : keep.entrySet()) {
        String q = apps.get(e.getKey()).kedge().query();
        String from = QueryParams.parse(q).get("resourceVersion");
        String token = apps.get(e.getKey()).kedge().token();
        ObjectNode no = refusal(token);
        if (no != null) {
          watches.remove(e.getKey());
          answers.set(
              e.getKey(),
              answer(apps.get(e.getKey()).withId(e.getKey()), KubeStatus.code(no), no).toJson());
          continue;
        }
        watchTokens.put(e.getKey(), token);
        if (resumes && from != null && !from.isEmpty()) {
          answers.set(
              e.getKey(),
              resume(apps.get(e.getKey()).withId(e.getKey()), e.getValue(), Long.parseLong(from))
                  .toJson());
        } else if (!watches.containsKey(e.getKey())) {
          watches.put(e.getKey(), e.getValue());
          initial(e.getValue());
        }
      }
      return CompletableFuture.completedFuture(m.reply(answers));
    }
    Application app = Application.fromJson(m.content());
    applications.add(app);
    KedgeExchange k = app.kedge();
    if (failWithCode > 0) {
      return reply(m, app, failWithCode, KubeStatus.failure(failWithCode, "fake failure"));
    }
    String path = k.path();
    String method = k.method();
    if (path.equals("/api/v1")) {
      return reply(m, app, 200, Json.parse(API_V1));
    }
    if (path.equals("/version")) {
      return reply(
          m, app, 200, Json.parse("{\"major\":\"1\",\"minor\":\"20\",\"gitVersion\":\"v1.20.2\"}"));
    }
    if (path.equals("/api")) {
      return reply(m, app, 200, Json.parse("{\"kind\":\"APIVersions\",\"versions\":[\"v1\"]}"));
    }
    String[] p = path.substring(1).split("/");
    // /api/v1/namespaces/{ns}/configmaps[/{name}] or /api/v1/configmaps
    String ns;
    String name;
    if (p.length >= 5 && p[2].equals("namespaces") && p[4].equals("configmaps")) {
      ns = p[3];
      name = p.length > 5 ? p[5] : null;
    } else if (p.length == 3 && p[2].equals("configmaps")) {
      ns = "";
      name = null;
    } else {
      return reply(
          m,
          app,
          404,
          KubeStatus.failure(404, "NotFound", "the server could not find the requested resource"));
    }
    QueryParams q = QueryParams.parse(k.query());
    ObjectNode no = method.equals("GET") && name == null ? refusal(k.token()) : null;
    if (no != null) {
      CompletableFuture<Void> hold = holdRefusals;
      return hold == null
          ? reply(m, app, KubeStatus.code(no), no)
          : hold.thenCompose(x -> reply(m, app, KubeStatus.code(no), no));
    }
    if (method.equals("GET") && name == null && q.bool("watch")) {
      watchTokens.put(app.id(), k.token());
      String from = q.get("resourceVersion");
      if (resumes && from != null && !from.isEmpty()) {
        return replyWith(m, resume(app, ns, Long.parseLong(from)));
      }
    }
    synchronized (this) {
      switch (method) {
        case "GET" -> {
          if (name == null && q.bool("watch")) {
            watches.put(app.id(), ns);
            CompletableFuture<Message> r = reply(m, app, 200, null);
            initial(ns);
            return r;
          }
          if (name == null) {
            return reply(m, app, 200, list(ns, q));
          }
          ObjectNode cm = configMaps.get(ns + "/" + name);
          return cm == null
              ? reply(m, app, 404, KubeStatus.notFound("", "configmaps", name))
              : reply(m, app, 200, cm);
        }
        case "POST" -> {
          JsonNode body = Json.parse(app.reqBody());
          String n = body.path("metadata").path("name").asString();
          if (configMaps.containsKey(ns + "/" + n)) {
            return reply(
                m,
                app,
                409,
                KubeStatus.failure(
                    409, "AlreadyExists", "configmaps \"" + n + "\" already exists"));
          }
        }
        default -> {}
      }
    }
    if (method.equals("POST")) {
      JsonNode body = Json.parse(app.reqBody());
      String n = body.path("metadata").path("name").asString();
      ObjectNode cm = null;
      for (var e : body.path("data").properties()) {
        cm = put(ns, n, e.getKey(), e.getValue().asString());
      }
      if (cm == null) {
        cm = put(ns, n, "_", "_");
      }
      return reply(m, app, 201, cm);
    }
    if (method.equals("DELETE")) {
      ObjectNode cm;
      synchronized (this) {
        cm = configMaps.get(ns + "/" + name);
      }
      if (cm == null) {
        return reply(m, app, 404, KubeStatus.notFound("", "configmaps", name));
      }
      delete(ns, name);
      return reply(m, app, 200, cm);
    }
    if (method.equals("PATCH") || method.equals("PUT")) {
      JsonNode body = Json.parse(app.reqBody());
      ObjectNode cm = null;
      for (var e : body.path("data").properties()) {
        cm = put(ns, name, e.getKey(), e.getValue().asString());
      }
      return reply(m, app, 200, cm);
    }
    return reply(m, app, 405, KubeStatus.failure(405, "MethodNotAllowed", "no"));
  }

  /** Replays the history of {@code ns} after {@code from} to the edge, or refuses with 410. */
  private Application resume(Application app, String ns, long from) {
    if (from < expiredBelow) {
      watches.remove(app.id());
      return answer(
          app,
          410,
          KubeStatus.failure(
              410, "Expired", "too old resource version: " + from + " (" + expiredBelow + ")"));
    }
    watches.put(app.id(), ns);
    long upTo = resourceVersion();
    DownstreamHandler d = downstream;
    for (Change c : history) {
      if (c.rv() > from && c.rv() <= upTo && (ns.isEmpty() || ns.equals(c.ns())) && d != null) {
        String op =
            switch (c.type()) {
              case "ADDED" -> "insert";
              case "DELETED" -> "delete";
              default -> "update";
            };
        d.handle(
                new Message(
                    MessageHeader.create().withResourceVersion(Long.toString(c.rv())),
                    new MessageRoute(
                        "dynamiccontroller", "resource", op, c.ns() + "/configmap/" + c.name()),
                    c.object().deepCopy()))
            .toCompletableFuture()
            .join();
      }
    }
    ObjectNode body = Json.object();
    body.put("resourceVersion", Long.toString(upTo));
    return answer(app, 200, body);
  }

  private ObjectNode list(String ns, QueryParams q) {
    ObjectNode l = Json.object();
    l.put("kind", "ConfigMapList");
    l.put("apiVersion", "v1");
    l.putObject("metadata").put("resourceVersion", Long.toString(rv));
    ArrayNode items = l.putArray("items");
    for (ObjectNode cm : configMaps.values()) {
      if (ns.isEmpty() || cm.path("metadata").path("namespace").asString().equals(ns)) {
        ObjectNode i = cm.deepCopy();
        i.remove("kind");
        i.remove("apiVersion");
        items.add(i);
      }
    }
    return l;
  }

  private void initial(String ns) {
    List<ObjectNode> now = new ArrayList<>();
    synchronized (this) {
      for (ObjectNode cm : configMaps.values()) {
        if (ns.isEmpty() || cm.path("metadata").path("namespace").asString().equals(ns)) {
          now.add(cm.deepCopy());
        }
      }
    }
    DownstreamHandler d = downstream;
    if (d == null) {
      return;
    }
    for (ObjectNode cm : now) {
      String n = cm.path("metadata").path("name").asString();
      String cns = cm.path("metadata").path("namespace").asString();
      d.handle(
              new Message(
                  MessageHeader.create(),
                  new MessageRoute(
                      "dynamiccontroller", "resource", "insert", cns + "/configmap/" + n),
                  cm))
          .toCompletableFuture()
          .join();
    }
  }

  private static String namespaceOf(String path) {
    String[] p = path.substring(1).split("/");
    return p.length >= 4 && p[2].equals("namespaces") ? p[3] : "";
  }

  private static CompletableFuture<Message> reply(
      Message m, Application app, int code, JsonNode body) {
    return replyWith(m, answer(app, code, body));
  }

  private static CompletableFuture<Message> replyWith(Message m, Application out) {
    Message r =
        new Message(
            MessageHeader.replyTo(m.id()),
            new MessageRoute(
                "dynamiccontroller",
                "resource",
                "applicationResponse",
                "ignore/Application/ignore"),
            out.toJson());
    return CompletableFuture.completedFuture(r);
  }

  private static Application answer(Application app, int code, JsonNode body) {
    byte[] bytes = body == null ? null : Json.bytes(body);
    return code < 300
        ? app.approved(bytes, KedgeExchange.response(code, "application/json"))
        : new Application(
            app.id(),
            app.key(),
            app.verb(),
            app.nodename(),
            app.option(),
            null,
            app.subresource(),
            bytes,
            "Rejected",
            "",
            KubeStatus.errStatus(body),
            app.timestamp(),
            KedgeExchange.response(code, "application/json"));
  }

  static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  static final String API_V1 =
      "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":["
          + "{\"name\":\"configmaps\",\"singularName\":\"\",\"namespaced\":true,\"kind\":\"ConfigMap\",\"verbs\":[\"create\",\"delete\",\"deletecollection\",\"get\",\"list\",\"patch\",\"update\",\"watch\"]},"
          + "{\"name\":\"pods\",\"singularName\":\"\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":[\"create\",\"delete\",\"deletecollection\",\"get\",\"list\",\"patch\",\"update\",\"watch\"]},"
          + "{\"name\":\"pods/status\",\"singularName\":\"\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":[\"get\",\"patch\",\"update\"]},"
          + "{\"name\":\"pods/log\",\"singularName\":\"\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":[\"get\"]},"
          + "{\"name\":\"namespaces\",\"singularName\":\"\",\"namespaced\":false,\"kind\":\"Namespace\",\"verbs\":[\"create\",\"delete\",\"get\",\"list\",\"patch\",\"update\",\"watch\"]}"
          + "]}";
}
