package io.kedge.cloud.hub;

import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import java.net.InetAddress;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * Signs edge certificate requests as KubeEdge's {@code /edge.crt} does — CN, O and SANs copied from
 * the CSR, key usage digital signature + key encipherment, the requested extended usages — but only
 * for the node asking: CN must be {@code system:node:<NodeName>} and O {@code system:nodes}, so a
 * join token cannot mint a certificate for another node.
 */
final class EdgeCertificateSigner {
  /** A request that cannot be signed; the message says why (for a 400 and the log). */
  static final class BadRequest extends Exception {
    BadRequest(String message) {
      super(message, null, false, false);
    }
  }

  private final CertificateAuthority ca;
  private final Duration validity;

  EdgeCertificateSigner(CertificateAuthority ca, Duration validity) {
    this.ca = ca;
    this.validity = validity;
  }

  X509Certificate sign(byte[] csrDer, String node, boolean serverAuth, boolean clientAuth)
      throws BadRequest {
    PKCS10CertificationRequest csr;
    PublicKey key;
    try {
      csr = new PKCS10CertificationRequest(csrDer);
      key = new JcaPEMKeyConverter().getPublicKey(csr.getSubjectPublicKeyInfo());
      if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
        throw new BadRequest("the CSR's signature is invalid");
      }
    } catch (BadRequest e) {
      throw e;
    } catch (Exception e) {
      throw new BadRequest("the body is not a DER certificate request (" + e.getMessage() + ")");
    }
    X500Name subject = csr.getSubject();
    String cn = first(subject, BCStyle.CN);
    List<String> orgs = all(subject, BCStyle.O);
    if (!NodeName.user(node).equals(cn)) {
      throw new BadRequest(
          "CSR CN '"
              + HubHandshakeHandler.clip(String.valueOf(cn))
              + "' is not '"
              + NodeName.user(node)
              + "'");
    }
    if (!orgs.equals(List.of(NodeName.NODES_GROUP))) {
      throw new BadRequest("CSR O " + orgs + " is not [" + NodeName.NODES_GROUP + "]");
    }
    List<String> ips = new ArrayList<>();
    List<String> dns = new ArrayList<>();
    for (Attribute a : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
      for (ASN1Encodable v : a.getAttributeValues()) {
        Extensions exts = Extensions.getInstance(v);
        GeneralNames names = GeneralNames.fromExtensions(exts, Extension.subjectAlternativeName);
        if (names == null) {
          continue;
        }
        for (GeneralName n : names.getNames()) {
          if (n.getTagNo() == GeneralName.iPAddress) {
            try {
              ips.add(
                  InetAddress.getByAddress(ASN1OctetString.getInstance(n.getName()).getOctets())
                      .getHostAddress());
            } catch (Exception e) {
              throw new BadRequest("invalid IP SAN in the CSR");
            }
          } else if (n.getTagNo() == GeneralName.dNSName) {
            dns.add(n.getName().toString());
          } else {
            throw new BadRequest("the CSR asks for a SAN other than IP or DNS");
          }
        }
      }
    }
    return ca.issue(new CertSpec(cn, orgs, ips, dns, serverAuth, clientAuth, validity), key);
  }

  private static String first(X500Name n, org.bouncycastle.asn1.ASN1ObjectIdentifier type) {
    RDN[] rdns = n.getRDNs(type);
    return rdns.length == 0 ? null : IETFUtils.valueToString(rdns[0].getFirst().getValue());
  }

  private static List<String> all(X500Name n, org.bouncycastle.asn1.ASN1ObjectIdentifier type) {
    List<String> out = new ArrayList<>();
    for (RDN r : n.getRDNs(type)) {
      out.add(IETFUtils.valueToString(r.getFirst().getValue()));
    }
    return out;
  }
}
