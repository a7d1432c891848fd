package io.kedge.edge.metaserver;

import io.netty.handler.ssl.SslContext;

/**
 * How MetaServer's listener is secured. Plain HTTP while {@code requireAuthorization} is off; HTTPS
 * with a serving certificate that may rotate (the context is asked for on every connection) once it
 * is on.
 */
@FunctionalInterface
public interface ServerTls {
  /** The context for a new connection, or null for plain HTTP. */
  SslContext current();

  static ServerTls plain() {
    return () -> null;
  }
}
