package io.kedge.pki;

import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;

/**
 * The common PEM keys read with the JDK alone: an edge reads its kept keys on every start, and
 * BouncyCastle's parser would load a few hundred classes for that. Returns null for anything else
 * (encrypted keys, other block types), which {@link Pem} hands to BouncyCastle.
 */
final class JdkPem {
  private static final byte[] EC_PUBLIC_KEY = { // OID 1.2.840.10045.2.1
    0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01
  };
  private static final byte[] RSA_ENCRYPTION = { // OID 1.2.840.113549.1.1.1, NULL
    0x06,
    0x09,
    0x2a,
    (byte) 0x86,
    0x48,
    (byte) 0x86,
    (byte) 0xf7,
    0x0d,
    0x01,
    0x01,
    0x01,
    0x05,
    0x00
  };

  private JdkPem() {}

  /** A block's type and bytes. */
  record Block(String type, byte[] der) {}

  static PrivateKey privateKey(String pem) {
    Block b = firstBlock(pem);
    if (b == null) {
      return null;
    }
    try {
      return switch (b.type()) {
        case "PRIVATE KEY" -> pkcs8(b.der());
        case "EC PRIVATE KEY" -> {
          byte[] curve = sec1Curve(b.der());
          yield curve == null
              ? null
              : KeyFactory.getInstance("EC")
                  .generatePrivate(
                      new PKCS8EncodedKeySpec(
                          seq(
                              new byte[] {0x02, 0x01, 0x00},
                              seq(EC_PUBLIC_KEY, curve),
                              tlv(0x04, b.der()))));
        }
        case "RSA PRIVATE KEY" ->
            KeyFactory.getInstance("RSA")
                .generatePrivate(
                    new PKCS8EncodedKeySpec(
                        seq(
                            new byte[] {0x02, 0x01, 0x00},
                            seq(RSA_ENCRYPTION),
                            tlv(0x04, b.der()))));
        default -> null;
      };
    } catch (GeneralSecurityException | RuntimeException e) {
      return null; // let BouncyCastle report what is wrong with it
    }
  }

  static PublicKey publicKey(String pem) {
    Block b = firstBlock(pem);
    if (b == null || !b.type().equals("PUBLIC KEY")) {
      return null;
    }
    for (String alg : new String[] {"EC", "RSA"}) {
      try {
        return KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(b.der()));
      } catch (GeneralSecurityException | RuntimeException e) {
        // try the next algorithm
      }
    }
    return null;
  }

  private static PrivateKey pkcs8(byte[] der) {
    for (String alg : new String[] {"EC", "RSA"}) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException | RuntimeException e) {
        // try the next algorithm
      }
    }
    return null;
  }

  /** The first PEM block, or null when there is none or it has headers (encrypted keys). */
  static Block firstBlock(String pem) {
    int begin = pem.indexOf("-----BEGIN ");
    if (begin < 0) {
      return null;
    }
    int typeEnd = pem.indexOf("-----", begin + 11);
    if (typeEnd < 0) {
      return null;
    }
    String type = pem.substring(begin + 11, typeEnd);
    String endMarker = "-----END " + type + "-----";
    int end = pem.indexOf(endMarker, typeEnd);
    if (end < 0) {
      return null;
    }
    String body = pem.substring(typeEnd + 5, end);
    if (body.indexOf(':') >= 0) {
      return null;
    }
    try {
      return new Block(type, Base64.getMimeDecoder().decode(body.strip()));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * The named curve of a SEC1 ECPrivateKey (its {@code [0]} element, an OID TLV), or null. SEC1:
   * {@code SEQUENCE { INTEGER 1, OCTET STRING, [0] OID OPTIONAL, [1] BIT STRING OPTIONAL }}.
   */
  static byte[] sec1Curve(byte[] der) {
    int[] seq = header(der, 0);
    if (der[0] != 0x30 || seq == null) {
      return null;
    }
    int p = seq[0];
    int limit = Math.min(der.length, seq[0] + seq[1]);
    while (p < limit) {
      int[] h = header(der, p);
      if (h == null) {
        return null;
      }
      if ((der[p] & 0xff) == 0xa0) {
        int[] oid = header(der, h[0]);
        if (oid == null || der[h[0]] != 0x06) {
          return null;
        }
        return Arrays.copyOfRange(der, h[0], oid[0] + oid[1]);
      }
      p = h[0] + h[1];
    }
    return null;
  }

  /** {offset of the contents, their length} of the TLV at {@code p}, or null if malformed. */
  private static int[] header(byte[] der, int p) {
    if (p + 2 > der.length) {
      return null;
    }
    int len = der[p + 1] & 0xff;
    int q = p + 2;
    if (len >= 0x80) {
      int n = len & 0x7f;
      if (n == 0 || n > 3 || q + n > der.length) {
        return null;
      }
      len = 0;
      for (int i = 0; i < n; i++) {
        len = (len << 8) | (der[q++] & 0xff);
      }
    }
    return q + len > der.length ? null : new int[] {q, len};
  }

  private static byte[] seq(byte[]... parts) {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      all.writeBytes(part);
    }
    return tlv(0x30, all.toByteArray());
  }

  private static byte[] tlv(int tag, byte[] contents) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int n = contents.length;
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else if (n < 0x10000) {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n);
    } else {
      out.write(0x83);
      out.write(n >> 16);
      out.write(n >> 8);
      out.write(n);
    }
    out.writeBytes(contents);
    return out.toByteArray();
  }
}
