package io.kedge.edge.auth;

/**
 * A bearer token was rejected. The message says why (logged on the edge); clients only ever see the
 * generic 401 {@code Unauthorized} Status, as from the apiserver.
 */
public class InvalidTokenException extends Exception {
  public InvalidTokenException(String reason) {
    super(reason);
  }
}
