package io.kedge.pki;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A CA: its certificate and private key, able to issue leaf certificates. */
public record CertificateAuthority(X509Certificate certificate, PrivateKey privateKey) {

  private static final SecureRandom RANDOM = new SecureRandom();

  /** A new self-signed CA with the given CN and key. */
  public static CertificateAuthority create(String commonName, KeyPair key, Duration validity) {
    X500Name name = name(commonName, List.of());
    Instant now = Instant.now();
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              name,
              serial(),
              Date.from(now.minus(Duration.ofMinutes(1))),
              Date.from(now.plus(validity)),
              name,
              key.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
      b.addExtension(
          Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key.getPublic()));
      X509Certificate cert = sign(b, key.getPrivate());
      return new CertificateAuthority(cert, key.getPrivate());
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot create CA " + commonName, e);
    }
  }

  /** Issues a certificate for {@code subjectKey} as described by {@code spec}. */
  public X509Certificate issue(CertSpec spec, PublicKey subjectKey) {
    Instant now = Instant.now();
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              certificate,
              serial(),
              Date.from(now.minus(Duration.ofMinutes(1))),
              Date.from(now.plus(spec.validity())),
              name(spec.commonName(), spec.organizations()),
              subjectKey);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      List<KeyPurposeId> usages = new ArrayList<>();
      if (spec.serverAuth()) {
        usages.add(KeyPurposeId.id_kp_serverAuth);
      }
      if (spec.clientAuth()) {
        usages.add(KeyPurposeId.id_kp_clientAuth);
      }
      if (!usages.isEmpty()) {
        b.addExtension(
            Extension.extendedKeyUsage,
            false,
            new ExtendedKeyUsage(usages.toArray(KeyPurposeId[]::new)));
      }
      List<GeneralName> sans = new ArrayList<>();
      for (String ip : spec.ipAddresses()) {
        sans.add(new GeneralName(GeneralName.iPAddress, ipLiteral(ip)));
      }
      for (String dns : spec.dnsNames()) {
        if (!dns.isBlank()) {
          sans.add(new GeneralName(GeneralName.dNSName, dns));
        }
      }
      if (!sans.isEmpty()) {
        b.addExtension(
            Extension.subjectAlternativeName,
            false,
            new GeneralNames(sans.toArray(GeneralName[]::new)));
      }
      b.addExtension(
          Extension.authorityKeyIdentifier,
          false,
          ext.createAuthorityKeyIdentifier(certificate.getPublicKey()));
      return sign(b, privateKey);
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot issue certificate for " + spec.commonName(), e);
    }
  }

  /** Issues a certificate with a fresh key of the same algorithm family as {@code keyFactory}. */
  public IssuedCertificate issueWithNewKey(CertSpec spec, KeyPair key) {
    return new IssuedCertificate(issue(spec, key.getPublic()), key.getPrivate());
  }

  static X500Name name(String cn, List<String> orgs) {
    X500NameBuilder nb = new X500NameBuilder(BCStyle.INSTANCE);
    for (String o : orgs) {
      nb.addRDN(BCStyle.O, o);
    }
    nb.addRDN(BCStyle.CN, cn);
    return nb.build();
  }

  private static String ipLiteral(String ip) {
    try {
      // Validates the literal (no DNS lookup happens for a literal address).
      return InetAddress.getByName(ip).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address: " + ip, e);
    }
  }

  private static BigInteger serial() {
    return new BigInteger(63, RANDOM).add(BigInteger.ONE);
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key)
      throws GeneralSecurityException {
    String alg = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
    try {
      X509CertificateHolder holder = b.build(new JcaContentSignerBuilder(alg).build(key));
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  /** A certificate with its private key. */
  public record IssuedCertificate(X509Certificate certificate, PrivateKey privateKey) {}
}
