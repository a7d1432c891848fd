package io.kedge.cloud.dynamiccontroller;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.RequestConfigBuilder;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.kedge.cloud.kube.ApiStatusException;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.pki.Pem;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * Sends {@link ApiRequest}s to the kube-apiserver with a {@link Caller}'s identity and returns the
 * answer unchanged (status, Content-Type, bytes).
 *
 * <p>Pod tokens go through {@link ApiserverConnections}, which trust the cluster CA and present no
 * client certificate: a certificate would authenticate the request as cloudcore whatever token it
 * carries. Node and cloudcore requests go through cloudcore's own fabric8 client (its credentials,
 * token refresh), without retries so that the apiserver's answer is what the edge gets; the node is
 * impersonated with {@code Impersonate-User}/{@code Impersonate-Group}.
 */
final class ApiTransport implements AutoCloseable {
  static final String USER_AGENT = "kedge-cloudcore/dynamiccontroller";

  private final String base;
  private final Duration timeout;
  private final ApiserverConnections podConnections;
  private final HttpClient ownClient;
  // The apiserver allows 250 concurrent HTTP/2 streams per connection by default.
  private final AsyncLimiter podLimit = new AsyncLimiter(200, true);
  private final AsyncLimiter ownLimit = new AsyncLimiter(200, true);

  ApiTransport(KubeClients kube, Duration timeout) {
    Config cfg = kube.config();
    String master = cfg.getMasterUrl();
    this.base = master.endsWith("/") ? master.substring(0, master.length() - 1) : master;
    this.timeout = timeout;
    URI apiserver = URI.create(this.base);
    boolean tls = "https".equalsIgnoreCase(apiserver.getScheme());
    int port = apiserver.getPort() > 0 ? apiserver.getPort() : tls ? 443 : 80;
    this.podConnections =
        new ApiserverConnections(
            apiserver.getHost(), port, tls ? clusterTrust(cfg) : null, 200, timeout);
    this.ownClient =
        kube.own()
            .getHttpClient()
            .newBuilder()
            .tag(
                new RequestConfigBuilder(cfg.getRequestConfig())
                    .withRequestRetryBackoffLimit(0)
                    .build())
            .build();
  }

  CompletableFuture<ApiResponse> send(ApiRequest r, Caller caller) {
    URI uri;
    try {
      uri = URI.create(base + r.pathAndQuery());
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(
          ApiStatusException.of(400, "BadRequest", "malformed request URI: " + e.getMessage()));
    }
    try {
      if (caller instanceof Caller.Pod p) {
        return podLimit.submit(() -> sendAsPod(uri, r, p.token()));
      }
      String node = caller instanceof Caller.Node n ? n.node() : null;
      return ownLimit.submit(() -> sendOwn(uri, r, node));
    } catch (IllegalArgumentException e) {
      // e.g. a header value with control characters
      return CompletableFuture.failedFuture(
          ApiStatusException.of(400, "BadRequest", "malformed request: " + e.getMessage()));
    }
  }

  private CompletableFuture<ApiResponse> sendAsPod(URI uri, ApiRequest r, String token) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Authorization", "Bearer " + token);
    headers.put("User-Agent", USER_AGENT);
    if (!r.accept().isEmpty()) {
      headers.put("Accept", r.accept());
    }
    if (r.body() != null) {
      headers.put("Content-Type", r.contentType().isEmpty() ? "application/json" : r.contentType());
    }
    String target = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    return podConnections
        .send(r.method(), target, headers, r.body())
        .handle(
            (resp, t) -> {
              if (t != null) {
                throw failure(t);
              }
              return resp;
            });
  }

  private CompletableFuture<ApiResponse> sendOwn(URI uri, ApiRequest r, String impersonateNode) {
    HttpRequest.Builder b =
        ownClient
            .newHttpRequestBuilder()
            .uri(uri)
            .timeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    b.setHeader("User-Agent", USER_AGENT);
    if (impersonateNode != null) {
      b.header("Impersonate-User", "system:node:" + impersonateNode);
      b.header("Impersonate-Group", "system:nodes");
    }
    if (!r.accept().isEmpty()) {
      b.setHeader("Accept", r.accept());
    }
    if (r.body() != null) {
      b.method(
          r.method(),
          r.contentType().isEmpty() ? "application/json" : r.contentType(),
          new ByteArrayInputStream(r.body()),
          (long) r.body().length);
    } else {
      b.method(r.method(), null, null);
    }
    return ownClient
        .sendAsync(b.build(), byte[].class)
        .handle(
            (resp, t) -> {
              if (t != null) {
                throw failure(t);
              }
              String ct = resp.header("Content-Type");
              return new ApiResponse(resp.code(), ct, resp.body());
            });
  }

  private static ApiStatusException failure(Throwable t) {
    Throwable c = ApiStatusException.unwrap(t);
    if (c instanceof HttpTimeoutException) {
      return ApiStatusException.of(504, "Timeout", "the apiserver did not answer in time");
    }
    if (c instanceof ApiStatusException s) {
      return s;
    }
    return ApiStatusException.of(
        503, "ServiceUnavailable", "cannot reach the apiserver: " + c.getMessage());
  }

  /**
   * Trusts exactly the cluster CA of cloudcore's kubeconfig (or the JDK's defaults without one).
   */
  private static SslContext clusterTrust(Config cfg) {
    String pem = null;
    if (cfg.getCaCertData() != null && !cfg.getCaCertData().isBlank()) {
      String data = cfg.getCaCertData().trim();
      pem =
          data.startsWith("-----")
              ? data
              : new String(Base64.getDecoder().decode(data), StandardCharsets.UTF_8);
    } else if (cfg.getCaCertFile() != null && !cfg.getCaCertFile().isBlank()) {
      try {
        pem = Files.readString(Path.of(cfg.getCaCertFile()));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the cluster CA " + cfg.getCaCertFile(), e);
      }
    }
    SslContextBuilder b = SslContextBuilder.forClient().sslProvider(SslProvider.JDK);
    if (pem != null) {
      b.trustManager(Pem.certificates(pem).toArray(X509Certificate[]::new));
    }
    try {
      return b.build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot set up TLS toward the apiserver", e);
    }
  }

  @Override
  public void close() {
    podConnections.close();
  }
}
