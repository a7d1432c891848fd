package io.kedge.cloud.kube;

import io.fabric8.kubernetes.api.model.APIResource;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * Resource types by group/version/resource, from the apiserver's discovery documents (with
 * cloudcore's identity; every authenticated user may read them). Cached per group-version; a
 * group-version that does not exist is remembered briefly so that a CRD created later is found.
 */
public final class ApiDiscovery {
  private static final Duration NEGATIVE_TTL = Duration.ofSeconds(5);

  private record Entry(CompletableFuture<Map<String, ApiResource>> resources, long expiresAt) {}

  private final KubernetesClient client;
  private final Executor blocking;
  private final long ttlNanos;
  private final LongSupplier clock;
  private final Map<String, Entry> cache = new ConcurrentHashMap<>();

  public ApiDiscovery(KubernetesClient client, Executor blocking, Duration ttl) {
    this(client, blocking, ttl, System::nanoTime);
  }

  ApiDiscovery(KubernetesClient client, Executor blocking, Duration ttl, LongSupplier clock) {
    this.client = client;
    this.blocking = blocking;
    this.ttlNanos = ttl.toNanos();
    this.clock = clock;
  }

  /**
   * The resource, or a failed future with a 404 {@link ApiStatusException} when the apiserver does
   * not serve it.
   */
  public CompletableFuture<ApiResource> resolve(String group, String version, String resource) {
    return resources(group, version)
        .thenApply(
            m -> {
              ApiResource r = m.get(resource);
              if (r == null) {
                throw notFound(group, version, resource);
              }
              return r;
            });
  }

  /** Cached resources of a group-version (empty map when it does not exist). */
  public CompletableFuture<Map<String, ApiResource>> resources(String group, String version) {
    String gv = group.isEmpty() ? version : group + "/" + version;
    long now = clock.getAsLong();
    @SuppressWarnings("unchecked")
    CompletableFuture<Map<String, ApiResource>>[] mine = new CompletableFuture[1];
    Entry entry =
        cache.compute(
            gv,
            (k, cur) -> {
              if (cur != null && now - cur.expiresAt < 0) {
                return cur;
              }
              mine[0] = new CompletableFuture<>();
              return new Entry(mine[0], now + ttlNanos);
            });
    CompletableFuture<Map<String, ApiResource>> f = mine[0];
    if (f == null) {
      return entry.resources;
    }
    blocking.execute(
        () -> {
          try {
            Map<String, ApiResource> m = load(group, version, gv);
            if (m.isEmpty()) {
              cache.replace(gv, entry, new Entry(f, clock.getAsLong() + NEGATIVE_TTL.toNanos()));
            }
            f.complete(m);
          } catch (RuntimeException ex) {
            cache.remove(gv, entry);
            f.completeExceptionally(ApiStatusException.from(ex, client, "discovery of " + gv));
          }
        });
    return f;
  }

  /** Forgets everything (a CRD appeared or went away). */
  public void invalidate() {
    cache.clear();
  }

  private Map<String, ApiResource> load(String group, String version, String gv) {
    APIResourceList list;
    try {
      list = client.getApiResources(gv);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return Map.of();
      }
      throw e;
    }
    if (list == null || list.getResources() == null) {
      return Map.of();
    }
    Map<String, ApiResource> m = new ConcurrentHashMap<>();
    for (APIResource r : list.getResources()) {
      if (r.getName() == null || r.getName().contains("/")) {
        continue; // subresources
      }
      m.put(
          r.getName(),
          new ApiResource(
              group,
              version,
              r.getName(),
              r.getKind(),
              Boolean.TRUE.equals(r.getNamespaced()),
              r.getVerbs()));
    }
    return m;
  }

  public Optional<ApiResource> cached(String group, String version, String resource) {
    Entry e = cache.get(group.isEmpty() ? version : group + "/" + version);
    if (e == null || !e.resources.isDone() || e.resources.isCompletedExceptionally()) {
      return Optional.empty();
    }
    return Optional.ofNullable(e.resources.join().get(resource));
  }

  static ApiStatusException notFound(String group, String version, String resource) {
    return ApiStatusException.of(
        404,
        "NotFound",
        "the server could not find the requested resource ("
            + resource
            + (group.isEmpty() ? "" : "." + group)
            + "/"
            + version
            + ")");
  }
}
