package io.kedge.cloud.dynamiccontroller;

import io.kedge.cloud.authz.PodBindings;
import io.kedge.cloud.authz.PodTokenReviewer;
import io.kedge.cloud.kube.ApiStatusException;
import java.util.concurrent.CompletableFuture;

/**
 * Decides whose rights an edge request runs with, from cloudcore's configuration and the token the
 * edge forwarded — never from anything else the edge says. In {@code pod} mode a token must be a
 * pod-bound ServiceAccount token whose pod exists and runs on the requesting node (checked on every
 * request); a request without a token gets {@code tokenlessIdentity}. The other modes ignore
 * tokens, so that leaving the token out never gains anything.
 */
final class IdentityResolver {
  private final DynamicControllerOptions.Identity identity;
  private final DynamicControllerOptions.Tokenless tokenless;
  private final PodTokenReviewer reviewer;
  private final PodBindings bindings;

  IdentityResolver(
      DynamicControllerOptions options, PodTokenReviewer reviewer, PodBindings bindings) {
    this.identity = options.identity();
    this.tokenless = options.tokenlessIdentity();
    this.reviewer = reviewer;
    this.bindings = bindings;
  }

  CompletableFuture<Caller> resolve(String node, String token) {
    switch (identity) {
      case NODE:
        return CompletableFuture.completedFuture(new Caller.Node(node));
      case CLOUDCORE:
        return CompletableFuture.completedFuture(new Caller.CloudCore());
      default:
        break;
    }
    if (token == null || token.isEmpty()) {
      return switch (tokenless) {
        case NODE -> CompletableFuture.completedFuture(new Caller.Node(node));
        case CLOUDCORE -> CompletableFuture.completedFuture(new Caller.CloudCore());
        case DENY ->
            CompletableFuture.failedFuture(
                ApiStatusException.of(
                    401,
                    "Unauthorized",
                    "requests without a service account token are refused"
                        + " (modules.dynamicController.tokenlessIdentity: deny)"));
      };
    }
    return reviewer
        .review(token)
        .thenCompose(
            id -> bindings.check(id, node).thenApply(v -> (Caller) new Caller.Pod(id, token)));
  }
}
