package io.kedge.protocol.config;

/** A configuration file or override that cannot be used; the message names the key or file. */
public class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
