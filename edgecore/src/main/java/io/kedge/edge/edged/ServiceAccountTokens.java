package io.kedge.edge.edged;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** Bound service-account tokens for pods (TokenRequest through the cloud, kept for offline use). */
public interface ServiceAccountTokens {

  /**
   * A token for {@code serviceAccount} in {@code namespace}, bound to the pod.
   *
   * @param audiences empty for the API server's default audience
   */
  CompletionStage<Token> token(
      String namespace,
      String serviceAccount,
      List<String> audiences,
      long expirationSeconds,
      String podName,
      String podUid);

  /** Forgets the tokens bound to a pod that is gone. */
  default void podRemoved(String namespace, String podName, String podUid) {}

  record Token(String token, Instant expiration) {}
}
