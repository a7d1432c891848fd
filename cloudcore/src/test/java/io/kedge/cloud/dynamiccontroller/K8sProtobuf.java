package io.kedge.cloud.dynamiccontroller;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Just enough of Kubernetes' protobuf encoding ({@code k8s\0} + runtime.Unknown) to post a
 * SelfSubjectAccessReview as {@code kubectl auth can-i} does and read the answer.
 */
final class K8sProtobuf {
  private K8sProtobuf() {}

  static final byte[] MAGIC = {'k', '8', 's', 0};

  /** A SelfSubjectAccessReview for {@code verb resource} in {@code namespace}. */
  static byte[] selfSubjectAccessReview(String namespace, String verb, String resource) {
    byte[] attrs =
        concat(string(1, namespace), string(2, verb), string(3, ""), string(5, resource));
    byte[] spec = bytes(1, attrs);
    byte[] ssar = concat(bytes(1, new byte[0]), bytes(2, spec));
    byte[] typeMeta =
        concat(string(1, "authorization.k8s.io/v1"), string(2, "SelfSubjectAccessReview"));
    byte[] unknown = concat(bytes(1, typeMeta), bytes(2, ssar));
    return concat(MAGIC, unknown);
  }

  /** status.allowed of an encoded SelfSubjectAccessReview; null when absent. */
  static Boolean allowed(byte[] encoded) {
    if (!Arrays.equals(Arrays.copyOf(encoded, 4), MAGIC)) {
      throw new IllegalArgumentException("not Kubernetes protobuf");
    }
    byte[] raw = field(Arrays.copyOfRange(encoded, 4, encoded.length), 2);
    byte[] status = field(raw, 3);
    if (status == null) {
      return null;
    }
    int[] pos = {0};
    while (pos[0] < status.length) {
      long key = varint(status, pos);
      int f = (int) (key >>> 3);
      int wt = (int) (key & 7);
      if (wt == 0) {
        long v = varint(status, pos);
        if (f == 1) {
          return v != 0;
        }
      } else if (wt == 2) {
        int len = (int) varint(status, pos);
        pos[0] += len;
      } else {
        throw new IllegalArgumentException("unexpected wire type " + wt);
      }
    }
    return false; // proto: absent bool is false
  }

  static String typeKind(byte[] encoded) {
    byte[] unknown = Arrays.copyOfRange(encoded, 4, encoded.length);
    byte[] tm = field(unknown, 1);
    byte[] kind = tm == null ? null : field(tm, 2);
    return kind == null ? null : new String(kind, StandardCharsets.UTF_8);
  }

  private static byte[] field(byte[] msg, int wanted) {
    int[] pos = {0};
    while (pos[0] < msg.length) {
      long key = varint(msg, pos);
      int f = (int) (key >>> 3);
      int wt = (int) (key & 7);
      if (wt == 2) {
        int len = (int) varint(msg, pos);
        if (f == wanted) {
          return Arrays.copyOfRange(msg, pos[0], pos[0] + len);
        }
        pos[0] += len;
      } else if (wt == 0) {
        varint(msg, pos);
      } else {
        throw new IllegalArgumentException("unexpected wire type " + wt);
      }
    }
    return null;
  }

  private static long varint(byte[] b, int[] pos) {
    long v = 0;
    int shift = 0;
    while (true) {
      int x = b[pos[0]++] & 0xff;
      v |= (long) (x & 0x7f) << shift;
      if ((x & 0x80) == 0) {
        return v;
      }
      shift += 7;
    }
  }

  private static byte[] string(int field, String s) {
    return bytes(field, s.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] bytes(int field, byte[] value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeVarint(out, ((long) field << 3) | 2);
    writeVarint(out, value.length);
    out.writeBytes(value);
    return out.toByteArray();
  }

  private static void writeVarint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7fL) != 0) {
      out.write((int) ((v & 0x7f) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
