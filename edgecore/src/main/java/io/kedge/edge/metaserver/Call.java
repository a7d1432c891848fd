package io.kedge.edge.metaserver;

import java.util.concurrent.Executor;

/**
 * One request as MetaServer handles it.
 *
 * @param token the caller's bearer token when it is to be forwarded, or empty
 * @param loop the connection's event loop: the cloud's answers are handed over there
 */
record Call(
    RequestInfo info,
    QueryParams query,
    String accept,
    String contentType,
    byte[] body,
    String token,
    Executor loop) {

  CloudApi.Request toCloud() {
    return new CloudApi.Request(info, query.raw(), accept, contentType, body, token);
  }
}
