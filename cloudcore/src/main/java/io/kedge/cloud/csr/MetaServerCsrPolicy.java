package io.kedge.cloud.csr;

import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestSpec;
import io.kedge.pki.Pem;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * Which CSRs Kedge approves: only a MetaServer serving certificate request named {@code
 * metaserver-csr-<node>}, for signer {@code kubernetes.io/kubelet-serving}, requested by that very
 * node ({@code system:node:<node>} in {@code system:nodes}), with subject {@code
 * CN=system:node:<node>, O=system:nodes}, the usages a kubelet serving certificate has, no DNS,
 * e-mail or URI names, and exactly the expected IP SANs. KubeEdge approves any kubelet-serving CSR.
 */
public final class MetaServerCsrPolicy {
  private MetaServerCsrPolicy() {}

  public static final String NAME_PREFIX = "metaserver-csr-";
  public static final String SIGNER = "kubernetes.io/kubelet-serving";

  /**
   * Node annotation listing the IPs a node's MetaServer serves on ({@code server} and {@code
   * dummyServer} hosts, comma-separated), when they differ from KubeEdge's defaults.
   */
  public static final String IPS_ANNOTATION = "metaserver.kedge.io/ips";

  public static final List<String> DEFAULT_IPS = List.of("127.0.0.1", "169.254.30.10");

  private static final Set<Set<String>> USAGES =
      Set.of(
          Set.of("digital signature", "key encipherment", "server auth"),
          Set.of("digital signature", "server auth"));

  /** The outcome for one CSR. */
  public record Verdict(Kind kind, String node, String reason) {
    public enum Kind {
      /** Not a MetaServer CSR: none of Kedge's business, left as it is. */
      IGNORE,
      APPROVE,
      DENY
    }

    static Verdict ignore(String why) {
      return new Verdict(Kind.IGNORE, "", why);
    }

    static Verdict deny(String node, String why) {
      return new Verdict(Kind.DENY, node, why);
    }
  }

  /** The node a CSR name is for, or null when it is not a MetaServer CSR name. */
  public static String nodeOf(String csrName) {
    if (csrName == null || !csrName.startsWith(NAME_PREFIX)) {
      return null;
    }
    String n = csrName.substring(NAME_PREFIX.length());
    return n.isEmpty() ? null : n;
  }

  /**
   * @param expectedIps the node's MetaServer IPs (see {@link #expectedIps})
   */
  public static Verdict judge(CertificateSigningRequest csr, List<String> expectedIps) {
    String name = csr.getMetadata().getName();
    CertificateSigningRequestSpec spec = csr.getSpec();
    if (spec == null || !SIGNER.equals(spec.getSignerName())) {
      return Verdict.ignore("signer is not " + SIGNER);
    }
    String node = nodeOf(name);
    if (node == null) {
      return Verdict.ignore("not a MetaServer CSR name");
    }
    String user = "system:node:" + node;
    if (!user.equals(spec.getUsername())) {
      return Verdict.deny(node, "requested by \"" + spec.getUsername() + "\", not by node " + node);
    }
    if (spec.getGroups() == null || !spec.getGroups().contains("system:nodes")) {
      return Verdict.deny(node, "requester is not in group system:nodes");
    }
    Set<String> usages = new HashSet<>(spec.getUsages() == null ? List.of() : spec.getUsages());
    if (!USAGES.contains(usages)) {
      return Verdict.deny(
          node, "usages " + spec.getUsages() + " are not those of a serving certificate");
    }
    PKCS10CertificationRequest req;
    try {
      String pem =
          new String(Base64.getDecoder().decode(spec.getRequest()), StandardCharsets.US_ASCII);
      req = Pem.csr(pem);
    } catch (RuntimeException e) {
      return Verdict.deny(node, "request is not a PEM certificate request");
    }
    X500Name subject = req.getSubject();
    List<String> cns = values(subject, BCStyle.CN);
    List<String> orgs = values(subject, BCStyle.O);
    if (!cns.equals(List.of(user))) {
      return Verdict.deny(node, "subject CN " + cns + " is not " + user);
    }
    if (!orgs.equals(List.of("system:nodes"))) {
      return Verdict.deny(node, "subject O " + orgs + " is not [system:nodes]");
    }
    List<String> ips = new ArrayList<>();
    List<String> others = new ArrayList<>();
    sans(req, ips, others);
    if (!others.isEmpty()) {
      return Verdict.deny(node, "unexpected names " + others);
    }
    Set<String> want = new HashSet<>(canonical(expectedIps));
    Set<String> got = new HashSet<>(ips);
    if (ips.size() != got.size() || !got.equals(want)) {
      return Verdict.deny(node, "IP SANs " + ips + " are not exactly " + expectedIps);
    }
    return new Verdict(Verdict.Kind.APPROVE, node, "");
  }

  /** The node's expected MetaServer IPs: its annotation if set, else KubeEdge's defaults. */
  public static List<String> expectedIps(io.fabric8.kubernetes.api.model.Node node) {
    if (node != null
        && node.getMetadata().getAnnotations() != null
        && node.getMetadata().getAnnotations().get(IPS_ANNOTATION) != null) {
      List<String> out = new ArrayList<>();
      for (String s : node.getMetadata().getAnnotations().get(IPS_ANNOTATION).split(",")) {
        if (!s.isBlank()) {
          out.add(s.strip());
        }
      }
      return out;
    }
    return DEFAULT_IPS;
  }

  private static List<String> values(X500Name name, ASN1ObjectIdentifier type) {
    List<String> out = new ArrayList<>();
    for (RDN rdn : name.getRDNs(type)) {
      out.add(IETFUtils.valueToString(rdn.getFirst().getValue()));
    }
    return out;
  }

  /** The IP SANs a CSR asks for; empty when its request cannot be read. */
  public static List<String> requestedIps(CertificateSigningRequest csr) {
    List<String> ips = new ArrayList<>();
    try {
      String pem =
          new String(
              Base64.getDecoder().decode(csr.getSpec().getRequest()), StandardCharsets.US_ASCII);
      sans(Pem.csr(pem), ips, new ArrayList<>());
    } catch (RuntimeException e) {
      return List.of();
    }
    return ips;
  }

  private static void sans(PKCS10CertificationRequest req, List<String> ips, List<String> others) {
    for (var attr : req.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
      Extensions exts = Extensions.getInstance(attr.getAttrValues().getObjectAt(0));
      Extension san = exts.getExtension(Extension.subjectAlternativeName);
      if (san == null) {
        continue;
      }
      GeneralNames names = GeneralNames.getInstance(san.getParsedValue());
      for (GeneralName g : names.getNames()) {
        if (g.getTagNo() == GeneralName.iPAddress) {
          byte[] raw = ASN1OctetString.getInstance(g.getName()).getOctets();
          try {
            ips.add(InetAddress.getByAddress(raw).getHostAddress());
          } catch (UnknownHostException e) {
            others.add("bad IP");
          }
        } else {
          others.add(g.toString());
        }
      }
    }
  }

  private static List<String> canonical(List<String> ips) {
    List<String> out = new ArrayList<>();
    for (String ip : ips) {
      try {
        out.add(InetAddress.getByName(ip).getHostAddress());
      } catch (UnknownHostException e) {
        out.add(ip);
      }
    }
    return out;
  }
}
