package io.kedge.cloud.authz;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.cloud.kube.ApiStatusException;
import io.kedge.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Verifies pod-bound ServiceAccount tokens with a TokenReview (cloudcore's identity). Verdicts are
 * kept for a short time, keyed by a SHA-256 of the token (the token itself is never stored), never
 * past the token's own expiry; concurrent reviews of one token share one call. A token that is not
 * a ServiceAccount token bound to a pod is refused: only such a token ties the caller to a pod that
 * cloudcore can check against the requesting node.
 */
public final class PodTokenReviewer {
  private static final Logger LOG = LoggerFactory.getLogger(PodTokenReviewer.class);

  static final String POD_NAME_KEY = "authentication.kubernetes.io/pod-name";
  static final String POD_UID_KEY = "authentication.kubernetes.io/pod-uid";
  private static final String SA_PREFIX = "system:serviceaccount:";
  private static final Duration NEGATIVE_TTL = Duration.ofSeconds(10);

  private record Entry(CompletableFuture<PodTokenIdentity> verdict, long expiresAt) {}

  private final KubernetesClient client;
  private final Executor blocking;
  private final long ttlNanos;
  private final LongSupplier clock;
  private final Map<String, Entry> cache = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong nextSweep =
      new java.util.concurrent.atomic.AtomicLong();

  public PodTokenReviewer(KubernetesClient client, Executor blocking, Duration ttl) {
    this(client, blocking, ttl, System::nanoTime);
  }

  PodTokenReviewer(KubernetesClient client, Executor blocking, Duration ttl, LongSupplier clock) {
    this.client = client;
    this.blocking = blocking;
    this.ttlNanos = ttl.toNanos();
    this.clock = clock;
  }

  /**
   * The identity of {@code token}, or a failed future with a 401 {@link ApiStatusException} (or
   * 500/503 when the review itself could not be made).
   */
  public CompletableFuture<PodTokenIdentity> review(String token) {
    String key = hash(token);
    long now = clock.getAsLong();
    @SuppressWarnings("unchecked")
    CompletableFuture<PodTokenIdentity>[] mine = new CompletableFuture[1];
    Entry entry =
        cache.compute(
            key,
            (k, cur) -> {
              if (cur != null && now - cur.expiresAt < 0) {
                return cur;
              }
              mine[0] = new CompletableFuture<>();
              return new Entry(mine[0], now + Math.min(ttlNanos, untilExpiry(token)));
            });
    if (mine[0] == null) {
      return entry.verdict;
    }
    sweep(now);
    CompletableFuture<PodTokenIdentity> f = mine[0];
    blocking.execute(
        () -> {
          try {
            f.complete(call(token));
          } catch (ApiStatusException e) {
            if (e.code() == 401) {
              cache.replace(key, entry, new Entry(f, clock.getAsLong() + NEGATIVE_TTL.toNanos()));
            } else {
              cache.remove(key, entry); // the review failed, not the token: ask again next time
            }
            f.completeExceptionally(e);
          } catch (RuntimeException e) {
            cache.remove(key, entry);
            f.completeExceptionally(ApiStatusException.from(e, client, "TokenReview failed"));
          }
        });
    return f;
  }

  /** Drops expired verdicts now and then (tokens rotate; nothing else would remove them). */
  private void sweep(long now) {
    long due = nextSweep.get();
    if (now - due >= 0 && nextSweep.compareAndSet(due, now + ttlNanos)) {
      cache.values().removeIf(e -> now - e.expiresAt >= 0);
    }
  }

  /** Drops verdicts about tokens of a pod that is gone. */
  public void forgetPod(String podUid) {
    cache
        .entrySet()
        .removeIf(
            e -> {
              CompletableFuture<PodTokenIdentity> v = e.getValue().verdict;
              return v.isDone()
                  && !v.isCompletedExceptionally()
                  && podUid.equals(v.join().podUid());
            });
  }

  int cached() {
    return cache.size();
  }

  private PodTokenIdentity call(String token) {
    TokenReview tr =
        client
            .authentication()
            .v1()
            .tokenReviews()
            .create(new TokenReviewBuilder().withNewSpec().withToken(token).endSpec().build());
    var status = tr.getStatus();
    if (status == null || !Boolean.TRUE.equals(status.getAuthenticated())) {
      String why = status == null || status.getError() == null ? "" : ": " + status.getError();
      throw ApiStatusException.of(401, "Unauthorized", "the pod's token is not valid" + why);
    }
    UserInfo u = status.getUser();
    String username = u == null || u.getUsername() == null ? "" : u.getUsername();
    if (!username.startsWith(SA_PREFIX)) {
      throw ApiStatusException.of(
          401, "Unauthorized", "the token does not belong to a service account");
    }
    String[] nsSa = username.substring(SA_PREFIX.length()).split(":", 2);
    if (nsSa.length != 2) {
      throw ApiStatusException.of(401, "Unauthorized", "malformed service account user name");
    }
    Map<String, List<String>> extra = u.getExtra() == null ? Map.of() : u.getExtra();
    String podName = first(extra.get(POD_NAME_KEY));
    String podUid = first(extra.get(POD_UID_KEY));
    if (podName.isEmpty() || podUid.isEmpty()) {
      // Older apiservers leave the pod out of extra; the (now verified) claims carry it.
      JsonNode pod = claims(token).path("kubernetes.io").path("pod");
      podName = pod.path("name").asString("");
      podUid = pod.path("uid").asString("");
    }
    if (podName.isEmpty() || podUid.isEmpty()) {
      throw ApiStatusException.of(
          401,
          "Unauthorized",
          "the token of "
              + username
              + " is not bound to a pod (a pod's projected token is needed)");
    }
    LOG.debug("token of {} for pod {}/{} verified", username, nsSa[0], podName);
    return new PodTokenIdentity(
        username, u.getUid(), u.getGroups(), extra, nsSa[0], nsSa[1], podName, podUid);
  }

  private static String first(List<String> l) {
    return l == null || l.isEmpty() || l.get(0) == null ? "" : l.get(0);
  }

  /** The JWT payload, unverified; empty when the token is not a JWT. */
  static JsonNode claims(String token) {
    String[] parts = token.split("\\.");
    if (parts.length != 3) {
      return Json.object();
    }
    try {
      return Json.parse(Base64.getUrlDecoder().decode(parts[1]));
    } catch (RuntimeException e) {
      return Json.object();
    }
  }

  /** Nanoseconds until the token's {@code exp}, or "long" when it has none. */
  private long untilExpiry(String token) {
    JsonNode exp = claims(token).path("exp");
    if (!exp.isNumber()) {
      return Long.MAX_VALUE;
    }
    long millis = exp.asLong() * 1000 - System.currentTimeMillis();
    return Math.max(0, millis) * 1_000_000L;
  }

  static String hash(String token) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(d.digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
