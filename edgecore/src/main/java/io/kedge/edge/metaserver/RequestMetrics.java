package io.kedge.edge.metaserver;

/**
 * What MetaServer reports of each request it answers: for edgecore's {@code /metrics}. Called on
 * the connection's event loop once per request, when its answer (or its watch stream) starts; must
 * be cheap and must not block.
 */
public interface RequestMetrics {

  /** Counts nothing: MetaServer without metrics. */
  RequestMetrics NONE = (info, code, startNanos, fromCloud) -> {};

  /**
   * @param info the parsed request; null when the request could not be parsed
   * @param code the HTTP status of the answer (200 for a watch that started)
   * @param startNanos {@link System#nanoTime()} when the request was read
   * @param fromCloud whether the request went to the cloud (else the edge answered it alone)
   */
  void answered(RequestInfo info, int code, long startNanos, boolean fromCloud);
}
