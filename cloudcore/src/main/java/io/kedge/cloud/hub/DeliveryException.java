package io.kedge.cloud.hub;

/** Why an ACK-required delivery did not reach the edge; callers branch on {@link #reason()}. */
public final class DeliveryException extends RuntimeException {

  public enum Reason {
    /** A newer version of the same object replaced this message before it was acknowledged. */
    SUPERSEDED,
    /** The node has no session. */
    NOT_CONNECTED,
    /** The session ended before the edge acknowledged the message. */
    SESSION_CLOSED,
    /** The node's delivery queue is full; the sync controller delivers the object later. */
    QUEUE_FULL,
    /** The message cannot be delivered reliably (e.g. no resourceversion). */
    INVALID
  }

  private final Reason reason;

  public DeliveryException(Reason reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
