package io.kedge.edge.hub;

/** The edge could not obtain or renew its certificate; the message says why in one line. */
public class BootstrapException extends RuntimeException {
  public BootstrapException(String message) {
    super(message);
  }

  public BootstrapException(String message, Throwable cause) {
    super(message, cause);
  }
}
