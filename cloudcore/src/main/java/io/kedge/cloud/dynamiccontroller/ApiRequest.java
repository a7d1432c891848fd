package io.kedge.cloud.dynamiccontroller;

import java.util.Objects;

/**
 * One HTTP request to the kube-apiserver, as an edge asked for it (Kedge edges) or as derived from
 * a KubeEdge Application. Carries no credentials: the {@link Caller} decides those.
 *
 * @param method HTTP method
 * @param path request path (validated by {@link ApiPath})
 * @param query raw query string without '?', or empty
 * @param accept Accept header, or empty for the apiserver's default (JSON)
 * @param contentType Content-Type of {@code body}, or empty
 * @param body request body, or null
 * @param target what the path addresses
 */
public record ApiRequest(
    String method,
    String path,
    String query,
    String accept,
    String contentType,
    byte[] body,
    ApiPath target) {

  public ApiRequest {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(target, "target");
    query = query == null ? "" : query;
    accept = accept == null ? "" : accept;
    contentType = contentType == null ? "" : contentType;
  }

  public String pathAndQuery() {
    return query.isEmpty() ? path : path + "?" + query;
  }

  @Override
  public String toString() {
    return method + " " + pathAndQuery();
  }
}
