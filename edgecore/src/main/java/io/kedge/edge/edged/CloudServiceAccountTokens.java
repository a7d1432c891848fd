package io.kedge.edge.edged;

import io.kedge.edge.metamanager.CloudQueries;
import io.kedge.protocol.Json;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Pod tokens from the cloud's TokenRequest ({@code edged/meta/query <ns>/serviceaccounttoken/<sa>}
 * with a TokenRequest bound to the pod, as KubeEdge's edged sends it); CloudQueries keeps the last
 * one for offline restarts.
 */
public final class CloudServiceAccountTokens implements ServiceAccountTokens {
  private final CloudQueries queries;

  public CloudServiceAccountTokens(CloudQueries queries) {
    this.queries = queries;
  }

  @Override
  public CompletionStage<Token> token(
      String namespace,
      String serviceAccount,
      List<String> audiences,
      long expirationSeconds,
      String podName,
      String podUid) {
    return queries
        .serviceAccountToken(
            namespace, serviceAccount, tokenRequest(audiences, expirationSeconds, podName, podUid))
        .thenApply(CloudServiceAccountTokens::toToken);
  }

  /** The pod's tokens are no longer valid anywhere: drop the kept copies. */
  @Override
  public void podRemoved(String namespace, String podName, String podUid) {
    queries.forgetServiceAccountTokens(podUid);
  }

  static ObjectNode tokenRequest(
      List<String> audiences, long expirationSeconds, String podName, String podUid) {
    ObjectNode r = Json.object();
    r.putObject("metadata").putNull("creationTimestamp");
    ObjectNode spec = r.putObject("spec");
    if (audiences.isEmpty()) {
      spec.putNull("audiences");
    } else {
      audiences.forEach(spec.putArray("audiences")::add);
    }
    spec.put("expirationSeconds", expirationSeconds);
    ObjectNode ref = spec.putObject("boundObjectRef");
    ref.put("kind", "Pod").put("apiVersion", "v1").put("name", podName).put("uid", podUid);
    ObjectNode status = r.putObject("status");
    status.put("token", "");
    status.putNull("expirationTimestamp");
    return r;
  }

  static Token toToken(JsonNode tokenRequest) {
    JsonNode st = tokenRequest.path("status");
    String exp = st.path("expirationTimestamp").asString("");
    return new Token(
        st.path("token").asString(""),
        exp.isEmpty() ? Instant.now().plusSeconds(600) : Instant.parse(exp));
  }
}
