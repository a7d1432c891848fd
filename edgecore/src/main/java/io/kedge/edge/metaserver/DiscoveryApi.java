package io.kedge.edge.metaserver;

import io.kedge.edge.auth.DiscoveryPaths;
import io.kedge.edge.store.Blob;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.ResourceCatalog;
import io.kedge.protocol.Json;
import io.kedge.protocol.status.KubeStatus;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Non-resource paths: discovery ({@code /api}, {@code /apis}, {@code /api/<v>}, {@code
 * /apis/<g>[/<v>]}), {@code /version}, health and {@code /openapi/v2}. Online they are fetched
 * through the cloud with the client's {@code Accept} (so protobuf OpenAPI and plain-JSON discovery
 * come back exactly as the apiserver makes them) and kept per path and {@code Accept}; offline, or
 * when the cloud cannot reach the apiserver, the kept answer is served. {@code /openapi/v3} is a
 * 404, as on a 1.20 apiserver. Discovery documents of group/versions also teach the {@link
 * ResourceCatalog}.
 *
 * <p>A cloud that cannot answer discovery documents (KubeEdge's cloudcore rejects {@code /api} and
 * {@code /apis}), or an offline edge that never fetched them, gets them from {@link
 * BuiltInDiscovery}: the v1.20 apiserver's built-in groups and what the edge has learned.
 */
final class DiscoveryApi {
  private static final Logger LOG = LoggerFactory.getLogger(DiscoveryApi.class);
  static final String PREFIX = "nonresource|";

  private final ObjectStore store;
  private final CloudApi cloud;
  private final ResourceCatalog catalog;

  private final Readiness readiness;
  private final BuiltInDiscovery builtIn;

  DiscoveryApi(ObjectStore store, CloudApi cloud, ResourceCatalog catalog) {
    this(store, cloud, catalog, Readiness.ready());
  }

  DiscoveryApi(ObjectStore store, CloudApi cloud, ResourceCatalog catalog, Readiness readiness) {
    this.readiness = readiness;
    this.store = store;
    this.cloud = cloud;
    this.catalog = catalog;
    this.builtIn = new BuiltInDiscovery(catalog);
  }

  static boolean health(String path) {
    for (String h : List.of("/healthz", "/livez", "/readyz")) {
      if (path.equals(h) || path.startsWith(h + "/")) {
        return true;
      }
    }
    return false;
  }

  static boolean served(String path) {
    return DiscoveryPaths.isDiscovery("get", path) && !path.startsWith("/openapi/v3")
        || health(path);
  }

  CompletableFuture<Outcome> handle(Call c) {
    RequestInfo info = c.info();
    String path = info.path();
    if (path.equals("/openapi/v3") || path.startsWith("/openapi/v3/")) {
      return done(notFound());
    }
    if (!served(path)) {
      return done(notFound());
    }
    if (!info.method().equals("GET") && !info.method().equals("HEAD")) {
      return done(
          Outcome.Response.status(
              KubeStatus.failure(
                  405, "MethodNotAllowed", "the server does not allow this method on " + path)));
    }
    if (path.equals("/readyz") || path.startsWith("/readyz/")) {
      List<Readiness.Problem> problems = readiness.problems();
      if (!problems.isEmpty()) {
        // the apiserver's format for failed checks
        StringBuilder sb = new StringBuilder();
        for (Readiness.Problem p : problems) {
          sb.append("[-]").append(p.check()).append(" failed: ").append(p.message()).append('\n');
        }
        sb.append("readyz check failed\n");
        return done(Outcome.Response.text(500, sb.toString()));
      }
    }
    String accept = c.accept() == null ? "" : c.accept().trim();
    if (!cloud.online()) {
      return done(cached(path, accept, false));
    }
    return cloud
        .send(c.toCloud())
        .handle(
            (r, err) -> {
              if (err != null || r.unavailable()) {
                return cached(path, accept, false);
              }
              if (r.code() == 200) {
                keep(path, accept, r);
              } else if (r.code() != 404 && document(path)) {
                // KubeEdge's cloud has no answer for discovery (it rejects it as a malformed
                // resource request); the apiserver's 404 for an unknown group passes as it is.
                LOG.debug(
                    "metaserver: the cloud answered {} with {}; answering it here", path, r.code());
                return cached(path, accept, true);
              }
              return Outcome.Response.of(r.code(), r.contentType(), r.body());
            });
  }

  /**
   * Fetches the discovery document of {@code groupVersion} ({@code v1} or {@code group/version})
   * through the cloud and teaches it to the catalog; completes with whether it is now known.
   */
  CompletableFuture<Boolean> learn(String groupVersion) {
    String path = groupVersion.indexOf('/') < 0 ? "/api/" + groupVersion : "/apis/" + groupVersion;
    RequestInfo info = RequestInfo.parse("GET", path, QueryParams.parse(""));
    return cloud
        .send(new CloudApi.Request(info, "", "application/json", "", null, ""))
        .handle(
            (r, err) -> {
              if (err != null || r.code() != 200) {
                if (err != null || r.code() != 404) {
                  // no answer from the cloud: the built-in document, if it is a built-in group
                  builtIn
                      .resourceList(groupVersion)
                      .ifPresent(d -> catalog.assume(groupVersion, d));
                }
                return catalog.learned(groupVersion);
              }
              keep(path, "application/json", r);
              return catalog.learned(groupVersion);
            });
  }

  private void keep(String path, String accept, CloudApi.Reply r) {
    store.putBlob(PREFIX + path + "|" + accept, r.contentType(), r.body());
    if (r.json()) {
      store.putBlob(PREFIX + path + "|json", r.contentType(), r.body());
      String gv = groupVersion(path);
      if (gv != null && !catalog.learn(gv, r.body())) {
        LOG.debug("metaserver: {} is not an APIResourceList", path);
      }
    }
  }

  /**
   * A discovery document: {@code /api}, {@code /api/<v>}, {@code /apis}, {@code /apis/<g>[/<v>]}.
   */
  static boolean document(String path) {
    return (path.equals("/api")
            || path.startsWith("/api/")
            || path.equals("/apis")
            || path.startsWith("/apis/"))
        && DiscoveryPaths.isDiscovery("get", path);
  }

  /** {@code v1} for {@code /api/v1}, {@code g/v} for {@code /apis/g/v}; null otherwise. */
  static String groupVersion(String path) {
    String[] p = path.substring(1).split("/");
    if (p.length == 2 && p[0].equals("api")) {
      return p[1];
    }
    if (p.length == 3 && p[0].equals("apis")) {
      return p[1] + "/" + p[2];
    }
    return null;
  }

  /**
   * The kept answer, else the built-in one; else 404 when the cloud answered but cannot know (an
   * unknown group), and 503 when it could not be asked.
   */
  private Outcome cached(String path, String accept, boolean cloudAnswered) {
    Optional<Blob> b = store.blob(PREFIX + path + "|" + accept);
    if (b.isEmpty() && Negotiation.acceptsJson(accept)) {
      b = store.blob(PREFIX + path + "|json");
    }
    if (b.isPresent()) {
      return Outcome.Response.of(200, b.get().contentType(), b.get().value());
    }
    if (document(path)) {
      Optional<byte[]> known = builtIn.answer(path);
      if (known.isPresent()) {
        return Outcome.Response.of(200, "application/json", known.get());
      }
      if (cloudAnswered) {
        return notFound();
      }
    }
    if (health(path)) {
      return Outcome.Response.text(200, "ok");
    }
    ObjectNode s =
        KubeStatus.failure(
            503,
            "ServiceUnavailable",
            "the cloud is unreachable and " + path + " was never fetched for " + describe(accept));
    return Outcome.Response.status(s);
  }

  private static String describe(String accept) {
    return accept.isEmpty() ? "this client" : "Accept \"" + accept.toLowerCase(Locale.ROOT) + "\"";
  }

  static Outcome.Response notFound() {
    ObjectNode s =
        KubeStatus.failure(404, "NotFound", "the server could not find the requested resource");
    s.set("details", Json.object());
    return Outcome.Response.status(s);
  }

  private static CompletableFuture<Outcome> done(Outcome o) {
    return CompletableFuture.completedFuture(o);
  }
}
