package io.kedge.pki;

import io.kedge.protocol.LauncherArchive;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.util.io.pem.PemObject;

/** PEM encoding and decoding of certificates, keys and CSRs. */
public final class Pem {
  private Pem() {}

  public static String encode(Object... objects) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      for (Object o : objects) {
        if (o instanceof ECPrivateKey ec) {
          w.writeObject(new PemObject("EC PRIVATE KEY", sec1(ec)));
        } else {
          w.writeObject(o);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  /**
   * SEC1 form with the curve named and the public point included, as Go's and OpenSSL's parsers
   * require (the JDK's PKCS#8 encoding keeps the curve outside the inner SEC1 structure).
   */
  private static byte[] sec1(ECPrivateKey key) throws IOException {
    PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
    ASN1ObjectIdentifier curve =
        ASN1ObjectIdentifier.getInstance(info.getPrivateKeyAlgorithm().getParameters());
    X9ECParameters params = ECNamedCurveTable.getByOID(curve);
    byte[] point = params.getG().multiply(key.getS()).normalize().getEncoded(false);
    return new org.bouncycastle.asn1.sec.ECPrivateKey(
            params.getN().bitLength(), key.getS(), new DERBitString(point), curve)
        .getEncoded();
  }

  public static List<X509Certificate> certificates(String pem) {
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      Collection<? extends java.security.cert.Certificate> all =
          cf.generateCertificates(
              new java.io.ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
      List<X509Certificate> out = new ArrayList<>();
      for (var c : all) {
        out.add((X509Certificate) c);
      }
      return out;
    } catch (CertificateException e) {
      throw new IllegalArgumentException("not a PEM certificate: " + e.getMessage(), e);
    }
  }

  public static X509Certificate certificate(String pem) {
    List<X509Certificate> all = certificates(pem);
    if (all.isEmpty()) {
      throw new IllegalArgumentException("no certificate in PEM");
    }
    return all.get(0);
  }

  public static X509Certificate certificateFromDer(byte[] der) {
    try {
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new java.io.ByteArrayInputStream(der));
    } catch (CertificateException e) {
      throw new IllegalArgumentException("not a DER certificate: " + e.getMessage(), e);
    }
  }

  /** Reads a private key in PKCS#8, SEC1 ("EC PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY") form. */
  public static PrivateKey privateKey(String pem) {
    PrivateKey plain = JdkPem.privateKey(pem);
    if (plain != null) {
      return plain;
    }
    Object o = parseOne(pem);
    PrivateKeyInfo info;
    if (o instanceof PEMKeyPair kp) {
      // SEC1/PKCS#1 files may omit the public half; only the private key is needed here.
      info = kp.getPrivateKeyInfo();
    } else if (o instanceof PrivateKeyInfo pki) {
      info = pki;
    } else {
      throw new IllegalArgumentException("no private key in PEM");
    }
    String alg =
        X9ObjectIdentifiers.id_ecPublicKey.equals(info.getPrivateKeyAlgorithm().getAlgorithm())
            ? "EC"
            : "RSA";
    try {
      // A JDK key object, so that keys compare and serialize the same wherever they came from.
      return KeyFactory.getInstance(alg)
          .generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("unreadable private key: " + e.getMessage(), e);
    }
  }

  public static PublicKey publicKey(String pem) {
    PublicKey plain = JdkPem.publicKey(pem);
    if (plain != null) {
      return plain;
    }
    Object o = parseOne(pem);
    try {
      if (o instanceof SubjectPublicKeyInfo spki) {
        return new JcaPEMKeyConverter().getPublicKey(spki);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("unreadable public key: " + e.getMessage(), e);
    }
    throw new IllegalArgumentException("no public key in PEM");
  }

  public static PKCS10CertificationRequest csr(String pem) {
    Object o = parseOne(pem);
    if (o instanceof PKCS10CertificationRequest r) {
      return r;
    }
    throw new IllegalArgumentException("no certificate request in PEM");
  }

  private static Object parseOne(String pem) {
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      Object o = p.readObject();
      if (o == null) {
        throw new IllegalArgumentException("empty PEM");
      }
      return o;
    } catch (IOException e) {
      throw new IllegalArgumentException("malformed PEM: " + e.getMessage(), e);
    }
  }

  public static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** Writes atomically (temp file + rename); private material gets mode 0600. */
  public static void write(Path file, String pem, boolean secret) {
    // Credentials are written at a join or a rotation: not what a start of the node does.
    LauncherArchive.notRepresentative("wrote " + file.getFileName());
    try {
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
      if (secret) {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      }
      Files.writeString(tmp, pem, StandardCharsets.US_ASCII);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
