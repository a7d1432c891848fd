package io.kedge.edge.edged;

/**
 * A container cannot be configured from the pod's spec (missing ConfigMap key, unsupported volume,
 * environment too large, …). The pod's status shows {@code reason} and the message; Edged retries
 * later since the missing piece may still arrive.
 */
public class ContainerConfigException extends Exception {
  public static final String CONFIG_ERROR = "CreateContainerConfigError";

  /** A piece the container needs has not come yet (as a volume the kubelet still sets up). */
  public static final String NOT_READY = "ContainerCreating";

  private final String reason;

  public ContainerConfigException(String message) {
    this(CONFIG_ERROR, message);
  }

  public ContainerConfigException(String reason, String message) {
    super(message);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }
}
