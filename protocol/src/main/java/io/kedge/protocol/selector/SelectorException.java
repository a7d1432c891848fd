package io.kedge.protocol.selector;

/**
 * A label or field selector the kube-apiserver refuses: it answers such a request with 400 {@code
 * BadRequest} and this message.
 */
public final class SelectorException extends IllegalArgumentException {
  public SelectorException(String message) {
    super(message);
  }

  /** The HTTP code the apiserver answers a refused selector with. */
  public int code() {
    return 400;
  }

  /** The {@code Status} reason the apiserver gives. */
  public String reason() {
    return "BadRequest";
  }
}
