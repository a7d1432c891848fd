package io.kedge.protocol.application;

import io.kedge.protocol.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

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
public record KedgeExchange(
    String method,
    String path,
    String query,
    String accept,
    String contentType,
    String token,
    int code,
    String responseContentType) {

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

  /** Reads the JSON object {@link #toJson} writes. */
  public static KedgeExchange fromJson(JsonNode n) {
    JsonNode o = GoFields.object(n, "Kedge");
    return new KedgeExchange(
        GoFields.string(o, "method"),
        GoFields.string(o, "path"),
        GoFields.string(o, "query"),
        GoFields.string(o, "accept"),
        GoFields.string(o, "contentType"),
        GoFields.string(o, "token"),
        GoFields.integer(o, "code"),
        GoFields.string(o, "responseContentType"));
  }

  /** The JSON object: empty strings and a zero code left out. */
  public ObjectNode toJson() {
    ObjectNode o = Json.object();
    putIfNotEmpty(o, "method", method);
    putIfNotEmpty(o, "path", path);
    putIfNotEmpty(o, "query", query);
    putIfNotEmpty(o, "accept", accept);
    putIfNotEmpty(o, "contentType", contentType);
    putIfNotEmpty(o, "token", token);
    if (code != 0) {
      o.put("code", code);
    }
    putIfNotEmpty(o, "responseContentType", responseContentType);
    return o;
  }

  private static void putIfNotEmpty(ObjectNode o, String name, String value) {
    if (!value.isEmpty()) {
      o.put(name, value);
    }
  }

  public boolean hasToken() {
    return !token.isEmpty();
  }
}
