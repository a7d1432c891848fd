package io.kedge.edge.metaserver;

import io.kedge.protocol.config.EdgeCoreConfig;
import java.time.Duration;

/**
 * MetaServer's settings: where it listens and its limits and timers. {@link #from} takes the
 * user-facing ones from {@code edgecore.yaml}; the rest have defaults that tests shorten.
 *
 * @param host address to listen on (from {@code metaServer.server})
 * @param port port to listen on; 0 picks a free one
 * @param node this edge's node name
 * @param maxRequestBytes largest accepted request body (413 beyond)
 * @param cloudTimeout how long a request to the cloud may take
 * @param syncWait how long a cache read waits for its type to be synced before it is served from
 *     what the edge has
 * @param retryFailedSubscription how long a subscription the cloud refused is not retried
 * @param bookmarkInterval how often a watch that asked for bookmarks gets one (when it progressed)
 * @param watchQueue events a watch may fall behind before it is ended with an ERROR event
 * @param listPage page size when the edge lists a type from the cloud
 * @param retryAfterSeconds {@code Retry-After} of 503 answers to writes while offline
 * @param minWatchTimeout a watch without {@code timeoutSeconds} ends after between this and twice
 *     this (as the apiserver's {@code --min-request-timeout})
 * @param requestHeaderTimeout how long a request's headers may take to arrive (408 beyond; the
 *     first request's from the connection's opening)
 * @param requestBodyTimeout how long a request's body may take to arrive after its headers
 * @param idleTimeout how long a connection may wait for its next request
 */
public record MetaServerSettings(
    String host,
    int port,
    String node,
    long maxRequestBytes,
    Duration cloudTimeout,
    Duration syncWait,
    Duration retryFailedSubscription,
    Duration bookmarkInterval,
    int watchQueue,
    int listPage,
    int retryAfterSeconds,
    Duration minWatchTimeout,
    Duration requestHeaderTimeout,
    Duration requestBodyTimeout,
    Duration idleTimeout) {

  public static MetaServerSettings defaults(String node) {
    return new MetaServerSettings(
        "127.0.0.1",
        10550,
        node,
        3L << 20,
        Duration.ofSeconds(30),
        Duration.ofSeconds(30),
        Duration.ofSeconds(30),
        Duration.ofSeconds(60),
        1000,
        500,
        1,
        Duration.ofSeconds(1800),
        Duration.ofSeconds(30),
        Duration.ofSeconds(60),
        Duration.ofSeconds(90));
  }

  public static MetaServerSettings from(EdgeCoreConfig config) {
    return from(config, config.nodeName());
  }

  /** As {@link #from(EdgeCoreConfig)}, for the node name edgecore settled on. */
  public static MetaServerSettings from(EdgeCoreConfig config, String node) {
    EdgeCoreConfig.MetaServerConfig m = config.modules().metaManager().metaServer();
    HostPort address = HostPort.parse(m.server(), "127.0.0.1", 10550);
    String host = address.host();
    int port = address.port();
    MetaServerSettings d = defaults(node);
    return new MetaServerSettings(
        host,
        port,
        node,
        m.maxRequestBytes() > 0 ? m.maxRequestBytes() : d.maxRequestBytes(),
        d.cloudTimeout(),
        d.syncWait(),
        d.retryFailedSubscription(),
        d.bookmarkInterval(),
        d.watchQueue(),
        d.listPage(),
        d.retryAfterSeconds(),
        d.minWatchTimeout(),
        m.requestHeaderTimeout() > 0
            ? Duration.ofSeconds(m.requestHeaderTimeout())
            : d.requestHeaderTimeout(),
        m.requestBodyTimeout() > 0
            ? Duration.ofSeconds(m.requestBodyTimeout())
            : d.requestBodyTimeout(),
        d.idleTimeout());
  }

  public MetaServerSettings withPort(int p) {
    return new MetaServerSettings(
        host,
        p,
        node,
        maxRequestBytes,
        cloudTimeout,
        syncWait,
        retryFailedSubscription,
        bookmarkInterval,
        watchQueue,
        listPage,
        retryAfterSeconds,
        minWatchTimeout,
        requestHeaderTimeout,
        requestBodyTimeout,
        idleTimeout);
  }

  public MetaServerSettings withBookmarkInterval(Duration d) {
    return new MetaServerSettings(
        host,
        port,
        node,
        maxRequestBytes,
        cloudTimeout,
        syncWait,
        retryFailedSubscription,
        d,
        watchQueue,
        listPage,
        retryAfterSeconds,
        minWatchTimeout,
        requestHeaderTimeout,
        requestBodyTimeout,
        idleTimeout);
  }

  public MetaServerSettings withWatchQueue(int n) {
    return new MetaServerSettings(
        host,
        port,
        node,
        maxRequestBytes,
        cloudTimeout,
        syncWait,
        retryFailedSubscription,
        bookmarkInterval,
        n,
        listPage,
        retryAfterSeconds,
        minWatchTimeout,
        requestHeaderTimeout,
        requestBodyTimeout,
        idleTimeout);
  }

  public MetaServerSettings withMaxRequestBytes(long n) {
    return new MetaServerSettings(
        host,
        port,
        node,
        n,
        cloudTimeout,
        syncWait,
        retryFailedSubscription,
        bookmarkInterval,
        watchQueue,
        listPage,
        retryAfterSeconds,
        minWatchTimeout,
        requestHeaderTimeout,
        requestBodyTimeout,
        idleTimeout);
  }

  public MetaServerSettings withTimeouts(Duration cloud, Duration sync) {
    return new MetaServerSettings(
        host,
        port,
        node,
        maxRequestBytes,
        cloud,
        sync,
        retryFailedSubscription,
        bookmarkInterval,
        watchQueue,
        listPage,
        retryAfterSeconds,
        minWatchTimeout,
        requestHeaderTimeout,
        requestBodyTimeout,
        idleTimeout);
  }

  public MetaServerSettings withListPage(int n) {
    return new MetaServerSettings(
        host,
        port,
        node,
        maxRequestBytes,
        cloudTimeout,
        syncWait,
        retryFailedSubscription,
        bookmarkInterval,
        watchQueue,
        n,
        retryAfterSeconds,
        minWatchTimeout,
        requestHeaderTimeout,
        requestBodyTimeout,
        idleTimeout);
  }

  public MetaServerSettings withRequestTimeouts(Duration header, Duration body, Duration idle) {
    return new MetaServerSettings(
        host,
        port,
        node,
        maxRequestBytes,
        cloudTimeout,
        syncWait,
        retryFailedSubscription,
        bookmarkInterval,
        watchQueue,
        listPage,
        retryAfterSeconds,
        minWatchTimeout,
        header,
        body,
        idle);
  }
}
