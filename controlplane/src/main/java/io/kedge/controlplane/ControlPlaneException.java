package io.kedge.controlplane;

/** A control-plane step failed; the message is one line meant for the user. */
public class ControlPlaneException extends RuntimeException {
  public ControlPlaneException(String message) {
    super(message);
  }

  public ControlPlaneException(String message, Throwable cause) {
    super(message, cause);
  }
}
