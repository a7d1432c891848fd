package io.kedge.edge.metaserver;

import io.kedge.edge.hub.CloudLink;
import io.kedge.edge.hub.NotConnectedException;
import io.kedge.protocol.Json;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.application.ApplicationKey;
import io.kedge.protocol.application.ApplicationStatus;
import io.kedge.protocol.application.KedgeExchange;
import io.kedge.protocol.application.PatchInfo;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.message.Sources;
import io.kedge.protocol.status.KubeStatus;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * MetaServer's requests to the cloud: each becomes an Application ({@code
 * metaserver/dynamiccontroller/null}) carrying both Kedge's extension (the original method, path,
 * query, Accept, Content-Type and body, replayed exactly by a Kedge cloudcore) and KubeEdge's
 * {@code Key}/{@code Verb}/{@code Option}/{@code ReqBody}/{@code Subresource}, filled as KubeEdge's
 * edge fills them, so that a KubeEdge cloudcore can serve it too. Every request gets its own id:
 * callers are never merged.
 */
public final class CloudApi {
  private static final SecureRandom RANDOM = new SecureRandom();

  /** What the cloud answered. */
  public record Reply(int code, String contentType, byte[] body) {
    public boolean successful() {
      return code >= 200 && code < 300;
    }

    /** 502/503/504: the apiserver is out of reach from the cloud, much as if offline. */
    public boolean unavailable() {
      return code == 502 || code == 503 || code == 504;
    }

    public boolean json() {
      return contentType == null
          || contentType.isEmpty()
          || contentType.toLowerCase(java.util.Locale.ROOT).startsWith("application/json");
    }
  }

  /** The cloud cannot be asked right now (offline, or no answer in time). */
  public static final class Unavailable extends RuntimeException {
    public Unavailable(String message, Throwable cause) {
      super(message, cause, false, false);
    }
  }

  /**
   * One request as MetaServer received it.
   *
   * @param token the caller's bearer token to forward, or empty
   */
  public record Request(
      RequestInfo info,
      String query,
      String accept,
      String contentType,
      byte[] body,
      String token) {}

  private final CloudLink link;
  private final String node;
  private final Duration timeout;

  public CloudApi(CloudLink link, String node, Duration timeout) {
    this.link = link;
    this.node = node;
    this.timeout = timeout;
  }

  public boolean online() {
    return link.isConnected();
  }

  /** Sends {@code r} to the cloud; fails with {@link Unavailable} when it cannot be asked. */
  public CompletableFuture<Reply> send(Request r) {
    return send(application(r), null);
  }

  /**
   * Like {@link #send(Request)}, completing on {@code replies} (the caller's event loop: what it
   * chains must not block).
   */
  public CompletableFuture<Reply> send(Request r, Executor replies) {
    return send(application(r), replies);
  }

  CompletableFuture<Reply> send(Application app) {
    return send(app, null);
  }

  private CompletableFuture<Reply> send(Application app, Executor replies) {
    Message msg =
        Message.of(
            new MessageRoute(
                Sources.META_SERVER,
                Sources.GROUP_DYNAMIC_CONTROLLER,
                Operations.APPLICATION_REQUEST,
                "null"),
            app.toJson());
    CompletableFuture<Message> f;
    try {
      f = link.request(msg, timeout, replies);
    } catch (NotConnectedException e) {
      return CompletableFuture.failedFuture(new Unavailable("not connected to the cloud", e));
    }
    String method = app.kedge() == null ? "" : app.kedge().method();
    return f.handle(
        (reply, err) -> {
          if (err != null) {
            Throwable c = unwrap(err);
            if (c instanceof NotConnectedException) {
              throw new Unavailable("not connected to the cloud", c);
            }
            if (c instanceof TimeoutException) {
              throw new Unavailable(
                  "the cloud did not answer within " + timeout.toSeconds() + " s", c);
            }
            throw new Unavailable("the request to the cloud failed: " + c, c);
          }
          return reply(reply, method);
        });
  }

  /**
   * Sends a {@code watchapp/sync}: the complete set of this edge's watches, by id. Completes with
   * the ids the cloud could not establish, and their Status.
   */
  CompletableFuture<Map<String, JsonNode>> syncWatches(Map<String, Application> watches) {
    return syncWatches(watches, timeout);
  }

  /** As {@link #syncWatches(Map)}, waiting up to {@code wait} for the answer. */
  CompletableFuture<Map<String, JsonNode>> syncWatches(
      Map<String, Application> watches, Duration wait) {
    ObjectNode content = Json.object();
    watches.forEach((id, app) -> content.set(id, app.toJson()));
    Message msg =
        Message.of(
            new MessageRoute(
                Sources.META_SERVER,
                Sources.GROUP_DYNAMIC_CONTROLLER,
                Operations.APPLICATION_REQUEST,
                ResourcePath.WATCHAPP_SYNC),
            content);
    CompletableFuture<Message> f;
    try {
      f = link.request(msg, wait);
    } catch (NotConnectedException e) {
      return CompletableFuture.failedFuture(new Unavailable("not connected to the cloud", e));
    }
    return f.handle(
        (reply, err) -> {
          if (err != null) {
            throw new Unavailable("watchapp/sync failed: " + unwrap(err), unwrap(err));
          }
          Map<String, JsonNode> failed = new java.util.LinkedHashMap<>();
          if (reply.content().isObject()) {
            for (var e : reply.content().properties()) {
              failed.put(e.getKey(), e.getValue());
            }
          }
          return failed;
        });
  }

  static Reply reply(Message m, String method) {
    Application a;
    try {
      a = Application.fromJson(m.content());
    } catch (RuntimeException e) {
      return statusReply(
          KubeStatus.failure(502, "InternalError", "the cloud answered with no Application"));
    }
    KedgeExchange k = a.kedge();
    if (k != null && k.code() > 0) {
      byte[] body = a.respBody();
      if (body == null || body.length == 0) {
        ObjectNode s = KubeStatus.fromErrStatus(a.error());
        body = s == null ? new byte[0] : Json.bytes(s);
      }
      return new Reply(
          k.code(),
          k.responseContentType().isEmpty() ? "application/json" : k.responseContentType(),
          body);
    }
    // A KubeEdge cloudcore answers in KubeEdge's terms.
    switch (a.status()) {
      case ApplicationStatus.APPROVED -> {
        byte[] body = a.respBody();
        if (body == null || body.length == 0) {
          ObjectNode ok = KubeStatus.success();
          return new Reply(200, "application/json", Json.bytes(ok));
        }
        return new Reply("POST".equals(method) ? 201 : 200, "application/json", body);
      }
      case ApplicationStatus.REJECTED -> {
        ObjectNode s = KubeStatus.fromErrStatus(a.error());
        if (s == null) {
          s =
              KubeStatus.failure(
                  500,
                  "InternalError",
                  a.reason().isEmpty() ? "the cloud rejected the request" : a.reason());
        }
        return statusReply(s);
      }
      default -> {
        return statusReply(
            KubeStatus.failure(
                500,
                "InternalError",
                "failed to access cloud Application center: "
                    + (a.reason().isEmpty() ? a.status() : a.reason())));
      }
    }
  }

  static Reply statusReply(ObjectNode status) {
    return new Reply(KubeStatus.code(status), "application/json", Json.bytes(status));
  }

  // ---------------------------------------------------------------- building Applications

  static String newId() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  Application application(Request r) {
    return application(newId(), r);
  }

  Application application(String id, Request r) {
    RequestInfo info = r.info();
    QueryParams q = QueryParams.parse(r.query());
    KedgeExchange kedge =
        KedgeExchange.request(
            info.method(), info.path(), r.query(), r.accept(), r.contentType(), r.token());
    byte[] body = r.body() == null || r.body().length == 0 ? null : r.body();
    if (!info.resourceRequest()) {
      return new Application(
          id,
          info.path(),
          "get",
          node,
          new byte[] {'{', '}'},
          null,
          "",
          null,
          ApplicationStatus.IN_APPLYING,
          "",
          null,
          Instant.now().toString(),
          kedge);
    }
    String ns = info.namespace().isEmpty() ? null : info.namespace();
    String name = info.name().isEmpty() ? null : info.name();
    String key =
        new ApplicationKey(info.group(), info.version(), info.resource(), ns, name).format();
    String verb = kubeEdgeVerb(info);
    byte[] option = option(verb, info, q, r);
    String sub = "patch".equals(verb) ? "" : info.subresource();
    return new Application(
        id,
        key,
        verb,
        node,
        option,
        body,
        sub,
        null,
        ApplicationStatus.IN_APPLYING,
        "",
        null,
        Instant.now().toString(),
        kedge);
  }

  static String kubeEdgeVerb(RequestInfo info) {
    return switch (info.verb()) {
      case "update" -> "status".equals(info.subresource()) ? "updatestatus" : "update";
      default -> info.verb();
    };
  }

  private static byte[] option(String verb, RequestInfo info, QueryParams q, Request r) {
    ObjectNode o = Json.object();
    switch (verb) {
      case "get" -> putString(o, q, "resourceVersion");
      case "list", "watch", "deletecollection" -> {
        putString(o, q, "labelSelector");
        putString(o, q, "fieldSelector");
        putString(o, q, "resourceVersion");
        putString(o, q, "resourceVersionMatch");
        putString(o, q, "continue");
        putLong(o, q, "limit");
        putLong(o, q, "timeoutSeconds");
        if (q.has("allowWatchBookmarks")) {
          o.put("allowWatchBookmarks", q.bool("allowWatchBookmarks"));
        }
        if ("watch".equals(verb)) {
          o.put("watch", true);
        }
      }
      case "create", "update", "updatestatus" -> {
        o.put("kind", "create".equals(verb) ? "CreateOptions" : "UpdateOptions");
        o.put("apiVersion", "meta.k8s.io/v1");
        writeOptions(o, q);
      }
      case "delete" -> {
        JsonNode fromBody = null;
        if (r.body() != null && r.body().length > 0) {
          try {
            fromBody = Json.parse(r.body());
          } catch (RuntimeException e) {
            fromBody = null;
          }
        }
        if (fromBody instanceof ObjectNode b) {
          o = b;
        }
        o.put("kind", "DeleteOptions");
        o.put("apiVersion", "meta.k8s.io/v1");
        putString(o, q, "propagationPolicy");
        putLong(o, q, "gracePeriodSeconds");
        if (q.has("dryRun")) {
          o.set("dryRun", array(q.get("dryRun")));
        }
      }
      case "patch" -> {
        ObjectNode opts = Json.object();
        opts.put("kind", "PatchOptions");
        opts.put("apiVersion", "meta.k8s.io/v1");
        writeOptions(opts, q);
        if (q.has("force")) {
          opts.put("force", q.bool("force"));
        }
        PatchInfo pi =
            new PatchInfo(
                info.name(),
                r.contentType() == null ? "" : r.contentType(),
                r.body() == null ? new byte[0] : r.body(),
                opts,
                List.of(info.subresource()));
        return Json.bytes(pi.toJson());
      }
      default -> {}
    }
    return Json.bytes(o);
  }

  private static void writeOptions(ObjectNode o, QueryParams q) {
    if (q.has("dryRun")) {
      o.set("dryRun", array(q.get("dryRun")));
    }
    putString(o, q, "fieldManager");
    putString(o, q, "fieldValidation");
  }

  private static ArrayNode array(String v) {
    ArrayNode a = Json.NODES.arrayNode();
    a.add(v);
    return a;
  }

  private static void putString(ObjectNode o, QueryParams q, String name) {
    String v = q.get(name);
    if (v != null && !v.isEmpty()) {
      o.put(name, v);
    }
  }

  private static void putLong(ObjectNode o, QueryParams q, String name) {
    String v = q.get(name);
    if (v != null && !v.isEmpty()) {
      try {
        o.put(name, Long.parseLong(v));
      } catch (NumberFormatException e) {
        o.put(name, v);
      }
    }
  }

  static Throwable unwrap(Throwable e) {
    while ((e instanceof CompletionException || e instanceof ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  static String utf8(byte[] b) {
    return b == null ? "" : new String(b, StandardCharsets.UTF_8);
  }
}
