package io.kedge.edge.metamanager;

import io.kedge.edge.hub.CloudLink;
import io.kedge.edge.hub.NotConnectedException;
import io.kedge.edge.store.Blob;
import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectChange;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.StoredObject;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.message.Sources;
import io.kedge.protocol.status.KubeStatus;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Queries the cloud (EdgeController) for what edge components need — ConfigMaps, Secrets,
 * service-account tokens — the way KubeEdge's edge does ({@code query <ns>/<type>/<name>}), and
 * keeps every answer in the store, so that it is there when the cloud is not. Offline, or when the
 * cloud does not answer in time, the stored answer is returned.
 */
public final class CloudQueries {
  private static final Logger LOG = LoggerFactory.getLogger(CloudQueries.class);
  static final String TOKEN_PREFIX = "serviceaccounttoken/";

  private final CloudLink link;
  private final ObjectStore store;
  private final Duration timeout;

  /**
   * Object queries on their way, by resource. Callers asking for an object already asked for share
   * that query: KubeEdge's cloud keeps one reply per object in its acknowledgement queue (keyed by
   * the object's UID), so a second query sent while the first is unanswered loses one of the two
   * replies, and its caller waits out the whole timeout.
   */
  private final ConcurrentHashMap<String, CompletableFuture<JsonNode>> inFlight =
      new ConcurrentHashMap<>();

  /**
   * @param timeout how long to wait for the cloud ({@code metaManager.remoteQueryTimeout})
   */
  public CloudQueries(CloudLink link, ObjectStore store, Duration timeout) {
    this.link = link;
    this.store = store;
    this.timeout = timeout;
  }

  /** A ConfigMap, fresh from the cloud when reachable. Fails with {@link QueryException}. */
  public CompletableFuture<JsonNode> configMap(String namespace, String name) {
    return object(ResourcePath.CONFIGMAP, Gvr.core("configmaps"), "ConfigMap", namespace, name);
  }

  /** A Secret, fresh from the cloud when reachable. Fails with {@link QueryException}. */
  public CompletableFuture<JsonNode> secret(String namespace, String name) {
    return object(ResourcePath.SECRET, Gvr.core("secrets"), "Secret", namespace, name);
  }

  /**
   * A token for {@code serviceAccount} (a TokenRequest with {@code status.token}), issued by the
   * cloud for {@code tokenRequest}; offline, the last one issued for the same request while it is
   * unexpired.
   */
  public CompletableFuture<JsonNode> serviceAccountToken(
      String namespace, String serviceAccount, JsonNode tokenRequest) {
    String key =
        TOKEN_PREFIX + namespace + "/" + serviceAccount + "/" + digest(tokenRequest.path("spec"));
    Message query =
        Message.of(
            new MessageRoute(
                Sources.EDGED,
                Sources.GROUP_META,
                Operations.QUERY,
                ResourcePath.format(namespace, ResourcePath.SERVICE_ACCOUNT_TOKEN, serviceAccount)),
            tokenRequest);
    return ask(query)
        .thenCompose(
            reply -> {
              JsonNode c = payload(reply);
              if (!c.path("status").path("token").isString()) {
                throw new CompletionException(
                    new QueryException(404, "no token in the cloud's answer"));
              }
              return store.putBlob(key, "application/json", Json.bytes(c)).thenApply(x -> c);
            })
        .exceptionallyCompose(
            e -> {
              if (!offline(e)) {
                return CompletableFuture.failedFuture(unwrap(e));
              }
              Optional<JsonNode> kept =
                  store.blob(key).map(Blob::value).map(Json::parse).filter(CloudQueries::unexpired);
              return kept.map(CompletableFuture::completedFuture)
                  .orElseGet(() -> CompletableFuture.failedFuture(unwrap(e)));
            });
  }

  /**
   * Whether {@code token} is an unexpired token this node obtained for one of its pods (kept from
   * {@link #serviceAccountToken}).
   */
  public boolean issuedServiceAccountToken(String token) {
    return issuedServiceAccountToken(token, Instant.now());
  }

  /**
   * Whether {@code token} is a token this node obtained for one of its pods, unexpired at {@code
   * at}.
   */
  public boolean issuedServiceAccountToken(String token, Instant at) {
    if (token == null || token.isEmpty()) {
      return false;
    }
    for (Blob b : store.blobs(TOKEN_PREFIX)) {
      try {
        JsonNode t = Json.parse(b.value());
        if (token.equals(t.path("status").path("token").asString("")) && unexpired(t, at)) {
          return true;
        }
      } catch (RuntimeException e) {
        // an unreadable entry is no match
      }
    }
    return false;
  }

  /** Forgets the kept tokens bound to the pod with {@code podUid}; completes with how many. */
  public CompletableFuture<Integer> forgetServiceAccountTokens(String podUid) {
    CompletableFuture<Integer> all = CompletableFuture.completedFuture(0);
    for (Blob b : store.blobs(TOKEN_PREFIX)) {
      String uid;
      try {
        uid = Json.parse(b.value()).path("spec").path("boundObjectRef").path("uid").asString("");
      } catch (RuntimeException e) {
        uid = "";
      }
      if (!uid.isEmpty() && uid.equals(podUid)) {
        all = all.thenCombine(store.deleteBlob(b.key()), (n, deleted) -> n + (deleted ? 1 : 0));
      }
    }
    return all;
  }

  private CompletableFuture<JsonNode> object(
      String type, Gvr gvr, String kind, String namespace, String name) {
    String resource = ResourcePath.format(namespace, type, name);
    CompletableFuture<JsonNode> mine = new CompletableFuture<>();
    CompletableFuture<JsonNode> shared = inFlight.putIfAbsent(resource, mine);
    if (shared != null) {
      return shared.thenApply(JsonNode::deepCopy);
    }
    queryObject(type, gvr, kind, namespace, name)
        .whenComplete(
            (obj, e) -> {
              inFlight.remove(resource, mine);
              if (e != null) {
                mine.completeExceptionally(unwrap(e));
              } else {
                mine.complete(obj);
              }
            });
    return mine.thenApply(JsonNode::deepCopy);
  }

  private CompletableFuture<JsonNode> queryObject(
      String type, Gvr gvr, String kind, String namespace, String name) {
    Message query =
        Message.of(
            new MessageRoute(
                Sources.EDGED,
                Sources.GROUP_META,
                Operations.QUERY,
                ResourcePath.format(namespace, type, name)),
            null);
    return ask(query)
        .thenCompose(
            reply -> {
              JsonNode c = payload(reply);
              ObjectChange change = ObjectChange.upsert(gvr, kind, c);
              return store.apply(change).thenApply(r -> Json.parse(change.json()));
            })
        .exceptionallyCompose(
            e -> {
              Throwable cause = unwrap(e);
              if (cause instanceof QueryException q && q.code() == 404) {
                // Gone at the cloud: forget the local copy too.
                return store
                    .apply(ObjectChange.delete(gvr, kind, null, namespace, name))
                    .thenCompose(r -> CompletableFuture.<JsonNode>failedFuture(cause));
              }
              if (!offline(e)) {
                return CompletableFuture.failedFuture(cause);
              }
              return store
                  .get(gvr, namespace, name)
                  .map(StoredObject::json)
                  .map(Json::parse)
                  .map(CompletableFuture::completedFuture)
                  .orElseGet(() -> CompletableFuture.failedFuture(cause));
            });
  }

  private CompletableFuture<Message> ask(Message query) {
    try {
      return link.request(query, timeout);
    } catch (NotConnectedException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** The object in a reply, or a {@link QueryException} carrying the cloud's Status. */
  private static JsonNode payload(Message reply) {
    JsonNode c = reply.content();
    if (c.isString()) {
      try {
        c = Json.parse(c.asString());
      } catch (RuntimeException e) {
        throw new CompletionException(new QueryException(500, "cloud answered: " + c.asString()));
      }
    }
    if (c.has("Object") || c.has("Err")) { // KubeEdge's ObjectResp
      ObjectNode err = KubeStatus.fromErrStatus(c.path("Err"));
      if (err != null) {
        throw new CompletionException(
            new QueryException(KubeStatus.code(err), err.path("message").asString("")));
      }
      c = c.path("Object");
    }
    ObjectNode err = KubeStatus.fromErrStatus(c);
    if (err != null) {
      throw new CompletionException(
          new QueryException(KubeStatus.code(err), err.path("message").asString("")));
    }
    if (!c.isObject()) {
      throw new CompletionException(new QueryException(500, "cloud answered without an object"));
    }
    return c;
  }

  private static boolean offline(Throwable e) {
    Throwable c = unwrap(e);
    return c instanceof NotConnectedException || c instanceof TimeoutException;
  }

  private static Throwable unwrap(Throwable e) {
    while ((e instanceof CompletionException
            || e instanceof java.util.concurrent.ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  private static boolean unexpired(JsonNode tokenRequest) {
    return unexpired(tokenRequest, Instant.now());
  }

  private static boolean unexpired(JsonNode tokenRequest, Instant at) {
    String exp = tokenRequest.path("status").path("expirationTimestamp").asString("");
    try {
      return !exp.isEmpty() && Instant.parse(exp).isAfter(at);
    } catch (DateTimeParseException e) {
      return false;
    }
  }

  private static String digest(JsonNode spec) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(d.digest(Json.bytes(spec))).substring(0, 32);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The cloud refused or could not answer a query; {@code code} is the HTTP status. */
  public static final class QueryException extends RuntimeException {
    private final int code;

    public QueryException(int code, String message) {
      super(message);
      this.code = code;
    }

    public int code() {
      return code;
    }
  }
}
