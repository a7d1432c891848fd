package io.kedge.protocol.stream;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * One message of KubeEdge's stream tunnel (cloudStream ⇄ edgeStream), carried in one WebSocket text
 * frame: the connection id and the type as unsigned varints (Go's {@code binary.PutUvarint}), then
 * the data.
 *
 * @param connectId the apiserver connection the message belongs to (0: the tunnel itself)
 */
public record TunnelMessage(long connectId, Type type, byte[] data) {

  /** KubeEdge's message types, in the order of their wire numbers. */
  public enum Type {
    LOGS_CONNECT,
    EXEC_CONNECT,
    METRIC_CONNECT,
    DATA,
    REMOVE_CONNECT,
    CLOSE_CONNECT,
    ATTACH_CONNECT;

    public boolean isConnect() {
      return this == LOGS_CONNECT
          || this == EXEC_CONNECT
          || this == METRIC_CONNECT
          || this == ATTACH_CONNECT;
    }
  }

  public TunnelMessage {
    data = data == null ? new byte[0] : data;
  }

  public static TunnelMessage data(long id, byte[] data) {
    return new TunnelMessage(id, Type.DATA, data);
  }

  public static TunnelMessage remove(long id) {
    return new TunnelMessage(id, Type.REMOVE_CONNECT, null);
  }

  public byte[] encode() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(data.length + 12);
    putUvarint(out, connectId);
    putUvarint(out, type.ordinal());
    out.writeBytes(data);
    return out.toByteArray();
  }

  /**
   * @throws IllegalArgumentException when the bytes are not a message of a known type
   */
  public static TunnelMessage decode(byte[] b) {
    int[] pos = {0};
    long id = uvarint(b, pos);
    long t = uvarint(b, pos);
    if (t < 0 || t >= Type.values().length) {
      throw new IllegalArgumentException("unknown stream message type " + t);
    }
    return new TunnelMessage(id, Type.values()[(int) t], Arrays.copyOfRange(b, pos[0], b.length));
  }

  private static void putUvarint(ByteArrayOutputStream out, long v) {
    while (Long.compareUnsigned(v, 0x80) >= 0) {
      out.write((int) (v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.write((int) v);
  }

  private static long uvarint(byte[] b, int[] pos) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos[0] >= b.length) {
        throw new IllegalArgumentException("truncated stream message header");
      }
      int x = b[pos[0]++] & 0xff;
      v |= (long) (x & 0x7f) << shift;
      if (x < 0x80) {
        return v;
      }
    }
    throw new IllegalArgumentException("stream message header overflows 64 bits");
  }

  @Override
  public String toString() {
    return "TunnelMessage[" + connectId + " " + type + " " + data.length + " bytes]";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TunnelMessage m
        && m.connectId == connectId
        && m.type == type
        && Arrays.equals(m.data, data);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(connectId) * 31 + type.hashCode() * 17 + Arrays.hashCode(data);
  }
}
