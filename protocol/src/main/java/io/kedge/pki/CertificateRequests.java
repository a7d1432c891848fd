package io.kedge.pki;

import java.io.IOException;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** PKCS#10 certificate requests (PEM), e.g. for Kubernetes CertificateSigningRequests. */
public final class CertificateRequests {
  private CertificateRequests() {}

  /**
   * A request signed with {@code key} for subject {@code O=<orgs...>, CN=<cn>} with the given IP
   * and DNS subject alternative names.
   */
  public static String pem(
      KeyPair key, String commonName, List<String> orgs, List<String> ips, List<String> dns) {
    try {
      JcaPKCS10CertificationRequestBuilder b =
          new JcaPKCS10CertificationRequestBuilder(
              CertificateAuthority.name(commonName, orgs), key.getPublic());
      List<GeneralName> sans = new ArrayList<>();
      for (String ip : ips) {
        sans.add(new GeneralName(GeneralName.iPAddress, ip));
      }
      for (String d : dns) {
        sans.add(new GeneralName(GeneralName.dNSName, d));
      }
      if (!sans.isEmpty()) {
        ExtensionsGenerator ext = new ExtensionsGenerator();
        ext.addExtension(
            Extension.subjectAlternativeName,
            false,
            new GeneralNames(sans.toArray(GeneralName[]::new)));
        b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate());
      }
      String alg =
          key.getPrivate().getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
      PKCS10CertificationRequest req =
          b.build(new JcaContentSignerBuilder(alg).build(key.getPrivate()));
      return Pem.encode(req);
    } catch (IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot build certificate request for " + commonName, e);
    }
  }
}
