package io.kedge.edge.metaserver;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One request as MetaServer handles it.
 *
 * @param token the caller's bearer token when it is to be forwarded, or empty
 * @param loop the connection's event loop: the cloud's answers are handed over there
 * @param forwarded set once the request is sent to the cloud
 */
record Call(
    RequestInfo info,
    QueryParams query,
    String accept,
    String contentType,
    byte[] body,
    String token,
    Executor loop,
    AtomicBoolean forwarded) {

  Call(
      RequestInfo info,
      QueryParams query,
      String accept,
      String contentType,
      byte[] body,
      String token,
      Executor loop) {
    this(info, query, accept, contentType, body, token, loop, new AtomicBoolean());
  }

  /** The request as it goes to the cloud; marks it as {@link #forwarded} (for metrics). */
  CloudApi.Request toCloud() {
    forwarded.set(true);
    return new CloudApi.Request(info, query.raw(), accept, contentType, body, token);
  }
}
