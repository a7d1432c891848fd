package io.kedge.cloud.dynamiccontroller;

import io.kedge.cloud.authz.PodBindings;
import io.kedge.cloud.authz.PodTokenReviewer;
import io.kedge.cloud.kube.ApiStatusException;
import io.kedge.protocol.application.Application;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whose rights an edge request runs with, from cloudcore's configuration, the exchange the
 * edge speaks and the token it forwarded — never from anything else the edge says. In {@code pod}
 * mode a token must be a pod-bound ServiceAccount token whose pod exists and runs on the requesting
 * node (checked on every request); a request without a token gets {@code tokenlessIdentity}. The
 * other modes ignore tokens, so that leaving the token out never gains anything.
 *
 * <p>An edge that speaks KubeEdge's exchange (no {@code Kedge} field) has no token to forward: it
 * authenticates and authorizes the pod itself, and KubeEdge's cloud then runs the request as
 * cloudcore. With {@code tokenlessIdentity} unset Kedge does the same for such edges; a Kedge
 * edge's request without a token runs as the node. Which applies to a node is logged once per node.
 */
final class IdentityResolver {
  private static final Logger LOG = LoggerFactory.getLogger(IdentityResolver.class);

  /** The exchanges an edge may speak. */
  enum Exchange {
    KEDGE,
    KUBEEDGE
  }

  private final DynamicControllerOptions.Identity identity;
  private final DynamicControllerOptions.Tokenless tokenless;
  private final PodTokenReviewer reviewer;
  private final PodBindings bindings;
  private final Consumer<String> log;
  private final Map<String, Exchange> announced = new ConcurrentHashMap<>();

  IdentityResolver(
      DynamicControllerOptions options, PodTokenReviewer reviewer, PodBindings bindings) {
    this(options, reviewer, bindings, LOG::info);
  }

  /**
   * @param log where the per-node sentence goes
   */
  IdentityResolver(
      DynamicControllerOptions options,
      PodTokenReviewer reviewer,
      PodBindings bindings,
      Consumer<String> log) {
    this.identity = options.identity();
    this.tokenless = options.tokenlessIdentity();
    this.reviewer = reviewer;
    this.bindings = bindings;
    this.log = log;
  }

  static Exchange exchangeOf(Application app) {
    return app.kedge() == null ? Exchange.KUBEEDGE : Exchange.KEDGE;
  }

  CompletableFuture<Caller> resolve(String node, Application app) {
    Exchange exchange = exchangeOf(app);
    announce(node, exchange);
    String token = app.kedge() == null ? "" : app.kedge().token();
    switch (identity) {
      case NODE:
        return CompletableFuture.completedFuture(new Caller.Node(node));
      case CLOUDCORE:
        return CompletableFuture.completedFuture(new Caller.CloudCore());
      default:
        break;
    }
    if (token == null || token.isEmpty()) {
      return switch (tokenless(exchange)) {
        case NODE -> CompletableFuture.completedFuture(new Caller.Node(node));
        case CLOUDCORE -> CompletableFuture.completedFuture(new Caller.CloudCore());
        case DENY ->
            CompletableFuture.failedFuture(
                ApiStatusException.of(
                    401,
                    "Unauthorized",
                    "requests without a service account token are refused"
                        + " (modules.dynamicController.tokenlessIdentity: deny)"));
        case BY_EXCHANGE -> throw new IllegalStateException("resolved by tokenless()");
      };
    }
    return reviewer
        .review(token)
        .thenCompose(
            id -> bindings.check(id, node).thenApply(v -> (Caller) new Caller.Pod(id, token)));
  }

  /**
   * The identity mode a request runs as, for metrics: {@code pod}, {@code node}, {@code cloudcore}
   * or {@code deny}, decided as {@link #resolve} decides it (without reviewing the token).
   *
   * @param app the request; null for one without its own identity (a watch sync): the mode of a
   *     tokenless Kedge request
   */
  String mode(Application app) {
    switch (identity) {
      case NODE:
        return "node";
      case CLOUDCORE:
        return "cloudcore";
      default:
        break;
    }
    if (app != null && app.kedge() != null && !app.kedge().token().isEmpty()) {
      return "pod";
    }
    return tokenless(app == null ? Exchange.KEDGE : exchangeOf(app)).name().toLowerCase();
  }

  /** The identity of a tokenless request over {@code exchange}: never {@code BY_EXCHANGE}. */
  private DynamicControllerOptions.Tokenless tokenless(Exchange exchange) {
    if (tokenless != DynamicControllerOptions.Tokenless.BY_EXCHANGE) {
      return tokenless;
    }
    return exchange == Exchange.KUBEEDGE
        ? DynamicControllerOptions.Tokenless.CLOUDCORE
        : DynamicControllerOptions.Tokenless.NODE;
  }

  /** Forgets what was logged for {@code node} (it left): it is said again when it comes back. */
  void forget(String node) {
    announced.remove(node);
  }

  /** Says once per node (and again if it changes) which identity its requests run as, and why. */
  private void announce(String node, Exchange exchange) {
    if (announced.put(node, exchange) == exchange) {
      return;
    }
    log.accept(describe(node, exchange));
  }

  /** The sentence {@link #announce} logs. */
  String describe(String node, Exchange exchange) {
    String speaks =
        exchange == Exchange.KUBEEDGE
            ? "node " + node + " speaks KubeEdge's exchange (no pod tokens): "
            : "node " + node + " speaks Kedge's exchange: ";
    String nodeUser = "system:node:" + node;
    switch (identity) {
      case NODE:
        return speaks
            + "its requests run as "
            + nodeUser
            + " (modules.dynamicController.identity: node)";
      case CLOUDCORE:
        return speaks
            + "its requests run as cloudcore (modules.dynamicController.identity: cloudcore)";
      default:
        break;
    }
    String setting =
        tokenless == DynamicControllerOptions.Tokenless.BY_EXCHANGE
            ? "modules.dynamicController.tokenlessIdentity unset"
            : "modules.dynamicController.tokenlessIdentity: "
                + tokenless.name().toLowerCase(Locale.ROOT);
    String outcome =
        switch (tokenless(exchange)) {
          case NODE -> "run as " + nodeUser;
          case CLOUDCORE -> "run as cloudcore";
          default -> "are refused with 401";
        };
    if (exchange == Exchange.KUBEEDGE) {
      String hint =
          tokenless == DynamicControllerOptions.Tokenless.BY_EXCHANGE
              ? "; set it to node to run them as " + nodeUser
              : "";
      return speaks + "its requests " + outcome + " (" + setting + hint + ")";
    }
    return speaks
        + "requests with a pod token run as that pod's ServiceAccount, those without "
        + outcome
        + " ("
        + setting
        + ")";
  }
}
