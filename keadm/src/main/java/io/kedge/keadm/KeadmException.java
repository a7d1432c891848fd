package io.kedge.keadm;

/** A failure keadm reports in one line; the message says what went wrong and what to do. */
public class KeadmException extends RuntimeException {
  private final int exitCode;

  public KeadmException(String message) {
    this(message, null, 1);
  }

  public KeadmException(String message, Throwable cause) {
    this(message, cause, 1);
  }

  public KeadmException(String message, Throwable cause, int exitCode) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  public int exitCode() {
    return exitCode;
  }
}
