package io.kedge.protocol.config;

import java.util.List;

/**
 * {@code modules.cloudHub} of cloudcore.yaml.
 *
 * @param keepaliveInterval seconds without a message from an edge before its session ends
 * @param edgeCertSigningDuration days an edge certificate is valid
 * @param tokenRefreshDuration hours between join-token refreshes
 * @param ackTimeout Kedge: seconds before an unacknowledged message is sent again
 * @param maxMessageBytes Kedge: largest accepted WebSocket message
 * @param messageRateLimit Kedge: sustained messages per second one edge connection may send
 * @param messageBurst Kedge: messages one edge connection may send at once above the rate
 * @param deliveryQueueLimit Kedge: objects waiting for delivery to one node before further ones are
 *     refused (and left to the sync controller)
 */
public record CloudHubConfig(
    boolean enable,
    int keepaliveInterval,
    int nodeLimit,
    String tlsCAFile,
    String tlsCAKeyFile,
    String tlsCertFile,
    String tlsPrivateKeyFile,
    int writeTimeout,
    List<String> advertiseAddress,
    List<String> dnsNames,
    int edgeCertSigningDuration,
    int tokenRefreshDuration,
    Server websocket,
    Quic quic,
    Server https,
    UnixSocket unixsocket,
    Authorization authorization,
    int ackTimeout,
    int maxMessageBytes,
    int messageRateLimit,
    int messageBurst,
    int deliveryQueueLimit) {

  public record Server(boolean enable, String address, int port) {}

  public record Quic(boolean enable, String address, int port, int maxIncomingStreams) {}

  public record UnixSocket(boolean enable, String address) {}

  public record Authorization(boolean enable, boolean debug, List<Object> modes) {}
}
