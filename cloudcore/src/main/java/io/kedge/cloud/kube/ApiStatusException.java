package io.kedge.cloud.kube;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kedge.protocol.Json;
import io.kedge.protocol.status.KubeStatus;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A failure that reaches the client as a Kubernetes {@code Status} (code, reason, message), either
 * the apiserver's own or one cloudcore decided on.
 */
public class ApiStatusException extends RuntimeException {
  private final transient ObjectNode status;

  public ApiStatusException(ObjectNode status) {
    super(status.path("message").asString(""), null, false, false);
    this.status = status;
  }

  public static ApiStatusException of(int code, String message) {
    return new ApiStatusException(KubeStatus.failure(code, message));
  }

  public static ApiStatusException of(int code, String reason, String message) {
    return new ApiStatusException(KubeStatus.failure(code, reason, message));
  }

  public int code() {
    return KubeStatus.code(status);
  }

  /** The Status (with kind/apiVersion). Callers must not modify it. */
  public ObjectNode status() {
    return status;
  }

  /**
   * The Status a failure stands for: an {@code ApiStatusException} as it is, a fabric8 error with
   * the apiserver's Status, anything else as a 500 naming {@code what} failed.
   */
  public static ApiStatusException from(Throwable t, KubernetesClient client, String what) {
    Throwable c = unwrap(t);
    if (c instanceof ApiStatusException s) {
      return s;
    }
    if (c instanceof KubernetesClientException k) {
      if (k.getStatus() != null && k.getStatus().getCode() != null) {
        JsonNode n = Json.parse(client.getKubernetesSerialization().asJson(k.getStatus()));
        if (n instanceof ObjectNode o) {
          o.put("kind", "Status");
          o.put("apiVersion", "v1");
          return new ApiStatusException(o);
        }
      }
      int code = k.getCode() > 0 ? k.getCode() : 500;
      return of(code, what + ": " + k.getMessage());
    }
    return of(500, what + ": " + c);
  }

  public static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }
}
