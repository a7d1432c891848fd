package io.kedge.edge.metaserver;

/**
 * One request as MetaServer handles it.
 *
 * @param token the caller's bearer token when it is to be forwarded, or empty
 */
record Call(
    RequestInfo info,
    QueryParams query,
    String accept,
    String contentType,
    byte[] body,
    String token) {

  CloudApi.Request toCloud() {
    return new CloudApi.Request(info, query.raw(), accept, contentType, body, token);
  }
}
