package io.kedge.protocol.application;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Kedge's extension of an Application (JSON field {@code Kedge}). In a request it carries the
 * original HTTP request as the pod made it to MetaServer; in a reply, the HTTP status and content
 * type of the apiserver's answer ({@code token} is never sent back).
 *
 * @param method HTTP method (GET, POST, PUT, PATCH, DELETE)
 * @param path request path, e.g. {@code /api/v1/namespaces/demo/configmaps}
 * @param query raw query string without '?', or empty
 * @param accept the request's Accept header, or empty
 * @param contentType the request body's Content-Type, or empty
 * @param token the calling pod's bearer token, or empty (tokenless request)
 * @param code reply only: the apiserver's HTTP status code
 * @param responseContentType reply only: the apiserver's Content-Type
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record KedgeExchange(
    @JsonProperty("method") String method,
    @JsonProperty("path") String path,
    @JsonProperty("query") String query,
    @JsonProperty("accept") String accept,
    @JsonProperty("contentType") String contentType,
    @JsonProperty("token") String token,
    @JsonProperty("code") @JsonInclude(JsonInclude.Include.NON_DEFAULT) int code,
    @JsonProperty("responseContentType") String responseContentType) {

  public KedgeExchange {
    method = method == null ? "" : method;
    path = path == null ? "" : path;
    query = query == null ? "" : query;
    accept = accept == null ? "" : accept;
    contentType = contentType == null ? "" : contentType;
    token = token == null ? "" : token;
    responseContentType = responseContentType == null ? "" : responseContentType;
  }

  public static KedgeExchange request(
      String method, String path, String query, String accept, String contentType, String token) {
    return new KedgeExchange(method, path, query, accept, contentType, token, 0, "");
  }

  public static KedgeExchange response(int code, String contentType) {
    return new KedgeExchange("", "", "", "", "", "", code, contentType);
  }

  public boolean hasToken() {
    return !token.isEmpty();
  }
}
