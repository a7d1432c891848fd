package io.kedge.cloud.cloudstream;

import io.kedge.protocol.stream.TunnelMessage;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One edge's tunnel connection and the apiserver connections carried over it, by connection id.
 * Messages are KubeEdge's ({@link TunnelMessage}) in WebSocket text frames.
 */
final class TunnelSession {
  private static final Logger LOG = LoggerFactory.getLogger(TunnelSession.class);

  /** An apiserver connection's end of the tunnel. */
  interface Peer {
    /** Data (or a status, for a logs connection of a Kedge edge) the edge sent for it. */
    void data(byte[] data);

    /** The edge ended the connection, or the tunnel went away. */
    void edgeDone(String why);
  }

  private final String node;
  private final String address;
  private final boolean kedgeEdge;
  private final Channel channel;
  private final Map<Long, Peer> peers = new ConcurrentHashMap<>();
  private volatile boolean closed;

  TunnelSession(String node, String address, boolean kedgeEdge, Channel channel) {
    this.node = node;
    this.address = address;
    this.kedgeEdge = kedgeEdge;
    this.channel = channel;
  }

  String node() {
    return node;
  }

  /** The address the edge says it has ({@code SessionInternalIP}), or where it connects from. */
  String address() {
    return address;
  }

  /** The edge is a Kedge edgecore: it answers logs requests with their status first. */
  boolean kedgeEdge() {
    return kedgeEdge;
  }

  /** Registers {@code peer} under {@code id}; false when the tunnel has closed meanwhile. */
  boolean add(long id, Peer peer) {
    peers.put(id, peer);
    if (closed) {
      peers.remove(id);
      return false;
    }
    return true;
  }

  void remove(long id) {
    peers.remove(id);
  }

  int connections() {
    return peers.size();
  }

  ChannelFuture send(TunnelMessage m) {
    return channel.writeAndFlush(new TextWebSocketFrame(Unpooled.wrappedBuffer(m.encode())));
  }

  boolean writable() {
    return channel.isWritable();
  }

  void fromEdge(TunnelMessage m) {
    Peer p = peers.get(m.connectId());
    if (p == null) {
      if (m.type() != TunnelMessage.Type.REMOVE_CONNECT) {
        LOG.debug("cloudstream: {} from node {} for unknown connection", m, node);
      }
      return;
    }
    switch (m.type()) {
      case DATA -> p.data(m.data());
      case REMOVE_CONNECT -> {
        peers.remove(m.connectId());
        p.edgeDone("the edge ended the connection");
      }
      default -> LOG.debug("cloudstream: ignored {} from node {}", m, node);
    }
  }

  /** The tunnel is gone: every connection over it ends. */
  void closed() {
    closed = true;
    for (Long id : peers.keySet()) {
      Peer p = peers.remove(id);
      if (p != null) {
        p.edgeDone("the tunnel of node " + node + " closed");
      }
    }
  }

  void close() {
    channel.close();
  }

  @Override
  public String toString() {
    return "tunnel of node " + node + " (" + address + ")";
  }
}
