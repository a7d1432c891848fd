package io.kedge.cloud.hub;

import io.kedge.protocol.message.Message;
import java.util.Set;

/**
 * The operations a KubeEdge edge sends upstream. The vocabulary is closed: a message with another
 * operation is a protocol error (the session ends), not something to guess about.
 */
final class UpstreamVocabulary {
  private UpstreamVocabulary() {}

  static final Set<String> OPERATIONS =
      Set.of(
          // beehive
          "insert",
          "update",
          "patch",
          "delete",
          "query",
          "response",
          "error",
          "upload",
          // edge modules
          "keepalive",
          "connect",
          "subscribe",
          "publish",
          "message",
          "get_result",
          "start",
          "stop",
          // MetaServer Applications
          "null",
          "applicationResponse",
          // viaduct control messages (answered with "ack")
          "config",
          "ping",
          "pong",
          // node task reports
          "prepull",
          "upgrade",
          "rollback",
          "backup");

  /** Why {@code m} is not an acceptable upstream message, or null when it is. */
  static String problem(Message m) {
    String op = m.operation();
    if (op.isEmpty()) {
      return "no operation";
    }
    if (!OPERATIONS.contains(op)) {
      return "unknown operation '" + HubHandshakeHandler.clip(op) + "'";
    }
    return null;
  }
}
