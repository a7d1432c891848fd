package io.kedge.edge.metaserver;

import io.kedge.protocol.status.KubeStatus;
import tools.jackson.databind.node.ObjectNode;

/** A request that ends in a Kubernetes {@code Status}; thrown where the answer is decided. */
public final class ApiException extends RuntimeException {
  private final transient ObjectNode status;

  public ApiException(ObjectNode status) {
    super(status.path("message").asString(""), null, false, false);
    this.status = status;
  }

  public static ApiException of(int code, String message) {
    return new ApiException(KubeStatus.failure(code, message));
  }

  public static ApiException badRequest(String message) {
    return of(400, message);
  }

  public ObjectNode status() {
    return status;
  }

  public int code() {
    return KubeStatus.code(status);
  }
}
