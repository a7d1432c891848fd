package io.kedge.cloud.dynamiccontroller;

import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.config.ConfigException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * The DynamicController's settings: the two identity switches from {@code
 * modules.dynamicController} and tunables with defaults (tests shorten the timers).
 *
 * @param identity whose rights an edge request is executed with
 * @param tokenlessIdentity in {@code pod} mode, the identity of requests that carry no pod token
 *     ({@link Tokenless#BY_EXCHANGE} when {@code cloudcore.yaml} leaves it unset)
 * @param workers threads for blocking work (TokenReview, SubjectAccessReview, discovery)
 * @param maxInFlightPerNode requests of one node executed at the same time
 * @param maxQueuedPerNode requests of one node waiting; more are answered 429
 * @param maxInFlightTotal requests executed at the same time, all nodes together
 * @param requestTimeout upper bound for one apiserver call
 * @param watchSyncTimeout upper bound for a new shared informer to list its type
 * @param requestDeadline upper bound for a whole request (identity checks, discovery, informer
 *     sync, apiserver call); past it the edge gets 504 and the node's slot is freed
 * @param tokenReviewTtl how long a TokenReview verdict is reused (bounded by the token's expiry)
 * @param accessReviewTtl how long a SubjectAccessReview verdict is reused (cleared on RBAC change)
 * @param discoveryTtl how long a group-version's resource list is reused
 * @param disconnectGrace how long a disconnected node keeps its watch listeners
 * @param progressInterval how often Kedge edges hear up to which version they hold their watches
 * @param metaServerAddress the address edges reach their MetaServer at ({@code default/kubernetes}
 *     endpoints are rewritten to it)
 * @param metaServerPort the MetaServer's port
 */
public record DynamicControllerOptions(
    Identity identity,
    Tokenless tokenlessIdentity,
    int workers,
    int maxInFlightPerNode,
    int maxQueuedPerNode,
    int maxInFlightTotal,
    Duration requestTimeout,
    Duration watchSyncTimeout,
    Duration requestDeadline,
    Duration tokenReviewTtl,
    Duration accessReviewTtl,
    Duration discoveryTtl,
    Duration disconnectGrace,
    Duration progressInterval,
    String metaServerAddress,
    int metaServerPort) {

  /** {@code modules.dynamicController.identity}. */
  public enum Identity {
    /** the calling pod's ServiceAccount (its bound token, verified and tied to the node) */
    POD,
    /** {@code system:node:<node>} in group {@code system:nodes}, impersonated */
    NODE,
    /** cloudcore's own ServiceAccount (KubeEdge's behaviour) */
    CLOUDCORE
  }

  /** {@code modules.dynamicController.tokenlessIdentity}. */
  public enum Tokenless {
    /** {@code system:node:<node>}, for every edge */
    NODE,
    /** refused with 401 */
    DENY,
    /** cloudcore's own ServiceAccount, for every edge */
    CLOUDCORE,
    /**
     * The setting is unset: decided by the exchange the edge speaks. An edge that speaks KubeEdge's
     * (no {@code Kedge} field in its Applications) never forwards a pod's token — it authenticates
     * and authorizes the pod itself — and KubeEdge's cloud runs its requests as cloudcore, so Kedge
     * does the same for it; a Kedge edge's request without a token runs as the node.
     */
    BY_EXCHANGE
  }

  public DynamicControllerOptions {
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(tokenlessIdentity, "tokenlessIdentity");
    Objects.requireNonNull(requestTimeout, "requestTimeout");
    Objects.requireNonNull(watchSyncTimeout, "watchSyncTimeout");
    Objects.requireNonNull(requestDeadline, "requestDeadline");
    Objects.requireNonNull(tokenReviewTtl, "tokenReviewTtl");
    Objects.requireNonNull(accessReviewTtl, "accessReviewTtl");
    Objects.requireNonNull(discoveryTtl, "discoveryTtl");
    Objects.requireNonNull(disconnectGrace, "disconnectGrace");
    Objects.requireNonNull(progressInterval, "progressInterval");
    Objects.requireNonNull(metaServerAddress, "metaServerAddress");
    if (workers < 1 || maxInFlightPerNode < 1 || maxQueuedPerNode < 0 || maxInFlightTotal < 1) {
      throw new IllegalArgumentException("worker and queue limits must be positive");
    }
    if (requestTimeout.isNegative()
        || requestTimeout.isZero()
        || watchSyncTimeout.isNegative()
        || watchSyncTimeout.isZero()
        || requestDeadline.isNegative()
        || requestDeadline.isZero()
        || progressInterval.isNegative()
        || progressInterval.isZero()) {
      throw new IllegalArgumentException("timeouts must be positive");
    }
  }

  public static DynamicControllerOptions defaults() {
    return new DynamicControllerOptions(
        Identity.POD,
        Tokenless.BY_EXCHANGE,
        16,
        16,
        1024,
        512,
        Duration.ofSeconds(30),
        Duration.ofSeconds(30),
        Duration.ofSeconds(45), // the longer of the two above, plus time for reviews and discovery
        Duration.ofMinutes(2),
        Duration.ofSeconds(30),
        Duration.ofSeconds(30),
        Duration.ofMinutes(2),
        Duration.ofSeconds(30), // well inside the apiserver's watch cache at moderate change rates
        "127.0.0.1",
        10550);
  }

  /** Defaults with the identity switches of {@code cloudcore.yaml}. */
  public static DynamicControllerOptions from(CloudCoreConfig.DynamicControllerConfig c) {
    DynamicControllerOptions d = defaults();
    if (c == null) {
      return d;
    }
    return d.withIdentity(
        parse(
            Identity.class,
            c.identity(),
            Identity.POD,
            "identity",
            EnumSet.allOf(Identity.class),
            "pod"),
        parse(
            Tokenless.class,
            c.tokenlessIdentity(),
            Tokenless.BY_EXCHANGE,
            "tokenlessIdentity",
            EnumSet.of(Tokenless.NODE, Tokenless.DENY, Tokenless.CLOUDCORE),
            "unset: cloudcore for edges that speak KubeEdge's exchange, node for Kedge edges"));
  }

  /** {@code value} as one of {@code allowed}; {@code dflt} when it is null or blank. */
  private static <E extends Enum<E>> E parse(
      Class<E> type, String value, E dflt, String key, Set<E> allowed, String dfltText) {
    if (value == null || value.isBlank()) {
      return dflt;
    }
    for (E e : allowed) {
      if (e.name().equalsIgnoreCase(value.trim())) {
        return e;
      }
    }
    List<String> names = new ArrayList<>();
    for (E e : allowed) {
      names.add(e.name().toLowerCase(Locale.ROOT));
    }
    throw new ConfigException(
        "modules.dynamicController."
            + key
            + ": '"
            + value
            + "' is not one of "
            + String.join(", ", names)
            + " (default "
            + dfltText
            + ")");
  }

  public DynamicControllerOptions withIdentity(Identity id, Tokenless tokenless) {
    return with(
        p -> {
          p.identity = id;
          p.tokenlessIdentity = tokenless;
        });
  }

  public DynamicControllerOptions withQueues(int inFlightPerNode, int queuedPerNode, int total) {
    return with(
        p -> {
          p.maxInFlightPerNode = inFlightPerNode;
          p.maxQueuedPerNode = queuedPerNode;
          p.maxInFlightTotal = total;
        });
  }

  public DynamicControllerOptions withDisconnectGrace(Duration grace) {
    return with(p -> p.disconnectGrace = grace);
  }

  public DynamicControllerOptions withTokenReviewTtl(Duration ttl) {
    return with(p -> p.tokenReviewTtl = ttl);
  }

  public DynamicControllerOptions withTimeouts(
      Duration request, Duration watchSync, Duration deadline) {
    return with(
        p -> {
          p.requestTimeout = request;
          p.watchSyncTimeout = watchSync;
          p.requestDeadline = deadline;
        });
  }

  public DynamicControllerOptions withProgressInterval(Duration every) {
    return with(p -> p.progressInterval = every);
  }

  /** These options with {@code change} made to a copy of their parts. */
  private DynamicControllerOptions with(java.util.function.Consumer<Parts> change) {
    Parts p = new Parts(this);
    change.accept(p);
    return p.options();
  }

  /** The components, changeable, for the {@code with…} methods. */
  private static final class Parts {
    Identity identity;
    Tokenless tokenlessIdentity;
    int workers;
    int maxInFlightPerNode;
    int maxQueuedPerNode;
    int maxInFlightTotal;
    Duration requestTimeout;
    Duration watchSyncTimeout;
    Duration requestDeadline;
    Duration tokenReviewTtl;
    Duration accessReviewTtl;
    Duration discoveryTtl;
    Duration disconnectGrace;
    Duration progressInterval;
    String metaServerAddress;
    int metaServerPort;

    Parts(DynamicControllerOptions o) {
      identity = o.identity;
      tokenlessIdentity = o.tokenlessIdentity;
      workers = o.workers;
      maxInFlightPerNode = o.maxInFlightPerNode;
      maxQueuedPerNode = o.maxQueuedPerNode;
      maxInFlightTotal = o.maxInFlightTotal;
      requestTimeout = o.requestTimeout;
      watchSyncTimeout = o.watchSyncTimeout;
      requestDeadline = o.requestDeadline;
      tokenReviewTtl = o.tokenReviewTtl;
      accessReviewTtl = o.accessReviewTtl;
      discoveryTtl = o.discoveryTtl;
      disconnectGrace = o.disconnectGrace;
      progressInterval = o.progressInterval;
      metaServerAddress = o.metaServerAddress;
      metaServerPort = o.metaServerPort;
    }

    DynamicControllerOptions options() {
      return new DynamicControllerOptions(
          identity,
          tokenlessIdentity,
          workers,
          maxInFlightPerNode,
          maxQueuedPerNode,
          maxInFlightTotal,
          requestTimeout,
          watchSyncTimeout,
          requestDeadline,
          tokenReviewTtl,
          accessReviewTtl,
          discoveryTtl,
          disconnectGrace,
          progressInterval,
          metaServerAddress,
          metaServerPort);
    }
  }

  /**
   * Whether a Kedge edge's request can run with cloudcore's own rights (worth a warning at start).
   * Edges that speak KubeEdge's exchange get them by default ({@link Tokenless#BY_EXCHANGE}), as on
   * KubeEdge's cloud; that is said per node when it happens.
   */
  public boolean allowsCloudCoreIdentity() {
    return identity == Identity.CLOUDCORE
        || (identity == Identity.POD && tokenlessIdentity == Tokenless.CLOUDCORE);
  }
}
