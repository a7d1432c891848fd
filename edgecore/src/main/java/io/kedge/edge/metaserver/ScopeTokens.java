package io.kedge.edge.metaserver;

import io.kedge.edge.store.Blob;
import io.kedge.edge.store.EventType;
import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.Scope;
import io.kedge.edge.store.StoreEvent;
import io.kedge.edge.store.StoreListener;
import io.kedge.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The bearer tokens with which the cloud may keep each cached scope current: those of the clients
 * that read the scope, the newest token per pod. They are kept in the store beside the pods' other
 * tokens ({@code scopetoken/} blobs), so that an edgecore restarted with no pod reading registers
 * every scope again with one of them rather than without a token. A pod's tokens go when the pod
 * leaves this node (its object is deleted from the store), when they expire, and for one scope when
 * the cloud refuses them for it. Tokens are secrets: they are never logged; a holder is described
 * by its pod and user.
 */
final class ScopeTokens implements StoreListener {
  private static final Logger LOG = LoggerFactory.getLogger(ScopeTokens.class);
  static final String PREFIX = "scopetoken/";
  private static final Gvr PODS = Gvr.core("pods");

  /** A token is no candidate any more this long before it expires. */
  static final long EXPIRY_MARGIN_SECONDS = 30;

  /**
   * One token that may keep a scope current.
   *
   * @param key the pod's UID for a pod-bound token, else a digest of the token
   * @param token the bearer token
   * @param podUid the pod it is bound to, or empty
   * @param who for logs: the pod and user it speaks for (never the token)
   * @param expires {@code exp} in epoch seconds, 0 when unknown
   * @param added when it was last offered (epoch millis): the newest is tried first
   */
  record Holder(String key, String token, String podUid, String who, long expires, long added) {}

  private final ObjectStore store;
  private final Clock clock;
  private final Map<Scope, Map<String, Holder>> byScope = new ConcurrentHashMap<>();

  /**
   * How long a token the cloud refused for a scope is not offered for it again. A refusal says what
   * RBAC allowed then: a RoleBinding given back makes the token good again, and a token kept out
   * for good would leave the scope to the other holders (or none: the scope would not be current
   * although a pod that reads it may keep it so).
   */
  static final long REFUSAL_HOLD_MILLIS = 5_000;

  /** When the cloud refused a token for a scope, and its answer. */
  record Refusal(long at, ObjectNode status) {}

  /**
   * Tokens the cloud refused for a scope (by digest, memory only): not offered again for {@link
   * #REFUSAL_HOLD_MILLIS}, unless the cloud answers a read of the scope with the token meanwhile.
   */
  private final Map<Scope, Map<String, Refusal>> refused = new ConcurrentHashMap<>();

  ScopeTokens(ObjectStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
    for (Blob b : store.blobs(PREFIX)) {
      try {
        JsonNode n = Json.parse(b.value());
        Scope scope =
            new Scope(Gvr.parse(n.path("gvr").asString("")), n.path("namespace").asString(""));
        Holder h =
            new Holder(
                n.path("key").asString(""),
                n.path("token").asString(""),
                n.path("podUid").asString(""),
                n.path("who").asString(""),
                n.path("expires").asLong(0),
                n.path("added").asLong(0));
        if (h.key().isEmpty() || h.token().isEmpty() || expired(h)) {
          store.deleteBlob(b.key()); // secrets are not kept longer than they are of use
        } else {
          byScope.computeIfAbsent(scope, k -> new ConcurrentHashMap<>()).put(h.key(), h);
        }
      } catch (RuntimeException e) {
        LOG.warn(
            "metaserver: dropping an unreadable kept scope token {}: {}", b.key(), e.toString());
        store.deleteBlob(b.key());
      }
    }
  }

  /**
   * A client with {@code token} reads {@code scope}: it becomes a candidate, replacing its pod's
   * older token. Returns whether it is new to the scope (not just a newer token of a known pod).
   */
  boolean offer(Scope scope, String token) {
    if (token == null || token.isEmpty()) {
      return false;
    }
    Map<String, Holder> known = byScope.get(scope);
    if (known != null) {
      // Every read of the scope offers its token: the usual answer is "known", found cheaply.
      for (Holder h : known.values()) {
        if (h.token().equals(token)) {
          return false;
        }
      }
    }
    if (recentRefusal(scope, token) != null) {
      return false;
    }
    Holder h = describe(token, clock.millis());
    if (expired(h)) {
      return false;
    }
    Map<String, Holder> m = byScope.computeIfAbsent(scope, k -> new ConcurrentHashMap<>());
    Holder old = m.get(h.key());
    if (old != null && old.token().equals(token)) {
      return false;
    }
    m.put(h.key(), h);
    save(scope, h);
    return old == null;
  }

  /**
   * The unexpired candidates for {@code scope}: {@code preferred} first when it is one, then the
   * newest first. Expired ones are forgotten on the way.
   */
  List<Holder> candidates(Scope scope, String preferred) {
    Map<String, Holder> m = byScope.get(scope);
    if (m == null) {
      return List.of();
    }
    List<Holder> out = new ArrayList<>();
    for (Holder h : List.copyOf(m.values())) {
      if (expired(h)) {
        forget(scope, h.key(), "it expired");
      } else {
        out.add(h);
      }
    }
    out.sort(
        Comparator.comparing((Holder h) -> !h.key().equals(preferred))
            .thenComparing(Comparator.comparingLong(Holder::added).reversed()));
    return out;
  }

  /** The holder {@code key} of {@code scope}, or null. */
  Holder get(Scope scope, String key) {
    Map<String, Holder> m = byScope.get(scope);
    return m == null ? null : m.get(key);
  }

  /**
   * The cloud refused {@code key}'s token for {@code scope} with {@code status}: it is no candidate
   * for it for a while.
   */
  void refuse(Scope scope, String key, ObjectNode status) {
    Holder h = get(scope, key);
    if (h != null) {
      refused
          .computeIfAbsent(scope, k -> new ConcurrentHashMap<>())
          .put(digest(h.token()), new Refusal(clock.millis(), status));
      forget(scope, key, "the cloud refused it");
    }
  }

  /**
   * The cloud's refusal of {@code token} for {@code scope} in the last {@link
   * #REFUSAL_HOLD_MILLIS}, or null.
   */
  ObjectNode recentRefusal(Scope scope, String token) {
    Map<String, Refusal> no = refused.get(scope);
    if (no == null || no.isEmpty() || token == null || token.isEmpty()) {
      return null;
    }
    // Every read of the scope asks: held refusals go as they end, so that once none is left the
    // answer costs no digest of the token.
    long now = clock.millis();
    no.values().removeIf(r -> now - r.at() >= REFUSAL_HOLD_MILLIS);
    if (no.isEmpty()) {
      return null;
    }
    Refusal r = no.get(digest(token));
    return r == null ? null : r.status();
  }

  /** The cloud answered a read of {@code scope} with {@code token}: a refusal of it is over. */
  void allowed(Scope scope, String token) {
    Map<String, Refusal> no = refused.get(scope);
    if (no != null && token != null && !token.isEmpty()) {
      no.remove(digest(token));
    }
  }

  /** The scope is no longer cached: its tokens go. */
  void forgetScope(Scope scope) {
    Map<String, Holder> m = byScope.remove(scope);
    if (m != null) {
      for (Holder h : m.values()) {
        store.deleteBlob(blobKey(scope, h.key()));
      }
    }
    refused.remove(scope);
  }

  /** Pods deleted from the store have left this node: their tokens go from every scope. */
  @Override
  public void committed(List<StoreEvent> events) {
    for (StoreEvent e : events) {
      if (e.type() == EventType.DELETED && e.gvr().equals(PODS) && e.object() != null) {
        String uid;
        try {
          uid = Json.parse(e.object()).path("metadata").path("uid").asString("");
        } catch (RuntimeException x) {
          continue;
        }
        if (!uid.isEmpty()) {
          podGone(uid);
        }
      }
    }
  }

  void podGone(String podUid) {
    for (Map.Entry<Scope, Map<String, Holder>> e : byScope.entrySet()) {
      Holder h = e.getValue().get(podUid);
      if (h != null && h.podUid().equals(podUid)) {
        forget(e.getKey(), podUid, "its pod left the node");
      }
    }
  }

  private void forget(Scope scope, String key, String why) {
    Map<String, Holder> m = byScope.get(scope);
    Holder h = m == null ? null : m.remove(key);
    if (h != null) {
      LOG.info("metaserver: {} no longer keeps {} current: {}", h.who(), scope, why);
      store.deleteBlob(blobKey(scope, key));
    }
  }

  private void save(Scope scope, Holder h) {
    ObjectNode n = Json.object();
    n.put("gvr", scope.gvr().toString());
    n.put("namespace", scope.namespace());
    n.put("key", h.key());
    n.put("token", h.token());
    n.put("podUid", h.podUid());
    n.put("who", h.who());
    n.put("expires", h.expires());
    n.put("added", h.added());
    store.putBlob(blobKey(scope, h.key()), "application/json", Json.bytes(n));
  }

  private boolean expired(Holder h) {
    return h.expires() > 0 && h.expires() - EXPIRY_MARGIN_SECONDS <= clock.millis() / 1000;
  }

  static String blobKey(Scope scope, String key) {
    return PREFIX + scope.gvr() + "|" + scope.namespace() + "|" + key;
  }

  /**
   * What a token says of itself, read from its claims (it was verified, or is the cloud's to
   * verify): the pod it is bound to and when it expires. A token that is no JWT is known by its
   * digest.
   */
  static Holder describe(String token, long now) {
    String[] parts = token.split("\\.");
    if (parts.length == 3) {
      try {
        JsonNode c = Json.parse(Base64.getUrlDecoder().decode(parts[1]));
        JsonNode k8s = c.path("kubernetes.io");
        String ns = k8s.path("namespace").asString("");
        String pod = k8s.path("pod").path("name").asString("");
        String podUid = k8s.path("pod").path("uid").asString("");
        String sub = c.path("sub").asString("");
        long exp = c.path("exp").asLong(0);
        String key = podUid.isEmpty() ? digest(token) : podUid;
        String who =
            pod.isEmpty()
                ? (sub.isEmpty() ? "a client token (" + key + ")" : sub)
                : "pod " + ns + "/" + pod + " (" + sub + ")";
        return new Holder(key, token, podUid, who, exp, now);
      } catch (RuntimeException e) {
        // not a JWT after all
      }
    }
    String key = digest(token);
    return new Holder(key, token, "", "a client token (" + key + ")", 0, now);
  }

  static String digest(String token) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
      return "sha256-" + HexFormat.of().formatHex(d, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
