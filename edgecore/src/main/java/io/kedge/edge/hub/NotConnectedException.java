package io.kedge.edge.hub;

/** The edge has no connection to the cloud right now. */
public class NotConnectedException extends RuntimeException {
  public NotConnectedException(String message) {
    super(message);
  }
}
