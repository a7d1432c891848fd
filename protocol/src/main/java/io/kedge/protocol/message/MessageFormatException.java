package io.kedge.protocol.message;

/** A frame that is not a KubeEdge message (not JSON, wrong shape, too large, ...). */
public class MessageFormatException extends RuntimeException {
  public MessageFormatException(String message) {
    super(message);
  }

  public MessageFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
