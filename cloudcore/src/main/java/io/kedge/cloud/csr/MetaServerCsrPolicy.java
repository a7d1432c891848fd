package io.kedge.cloud.csr;

import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestSpec;
import io.kedge.pki.Pem;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
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
 * e-mail or URI names, and IP SANs cloudcore can vouch for. KubeEdge approves any kubelet-serving
 * CSR.
 *
 * <p>An IP SAN is vouched for when it never leaves the node's host — loopback ({@code 127.0.0.0/8},
 * {@code ::1}: MetaServer's {@code server}) or link-local ({@code 169.254.0.0/16}, {@code
 * fe80::/10}: its {@code dummyServer}) — or when it is the address the node's own connection to
 * cloudcore comes from ({@link NodeAddresses}). Nothing the node writes about itself (annotations,
 * status addresses) counts: a certificate the cluster CA signs for {@code 10.96.0.1} or another
 * node's address would let the node impersonate that server to anyone trusting the cluster CA.
 */
public final class MetaServerCsrPolicy {
  private MetaServerCsrPolicy() {}

  public static final String NAME_PREFIX = "metaserver-csr-";
  public static final String SIGNER = "kubernetes.io/kubelet-serving";

  private static final Set<Set<String>> USAGES =
      Set.of(
          Set.of("digital signature", "key encipherment", "server auth"),
          Set.of("digital signature", "server auth"));

  /** The outcome for one CSR. */
  public record Verdict(Kind kind, String node, String reason, String code) {
    public enum Kind {
      /** Not a MetaServer CSR: none of Kedge's business, left as it is. */
      IGNORE,
      APPROVE,
      DENY,
      /**
       * Everything passes but IP SANs that only the node's connection could vouch for, and
       * cloudcore knows no connection of the node: the approver may wait for one, then denies.
       */
      UNCONFIRMED
    }

    /**
     * @param code a short name of the reason, from a fixed list (a metric's label)
     */
    public Verdict {}

    public Verdict(Kind kind, String node, String reason) {
      this(kind, node, reason, kind == Kind.APPROVE ? "valid" : "");
    }

    static Verdict ignore(String why) {
      return new Verdict(Kind.IGNORE, "", why);
    }

    static Verdict deny(String node, String code, String why) {
      return new Verdict(Kind.DENY, node, why, code);
    }

    /** This verdict as a denial, with the same reason. */
    public Verdict denied() {
      return new Verdict(Kind.DENY, node, reason, code);
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
   * @param connection the addresses cloudcore sees the node connect from (empty: not connected)
   */
  public static Verdict judge(CertificateSigningRequest csr, Set<InetAddress> connection) {
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
      return Verdict.deny(
          node, "requester", "requested by \"" + spec.getUsername() + "\", not by node " + node);
    }
    if (spec.getGroups() == null || !spec.getGroups().contains("system:nodes")) {
      return Verdict.deny(node, "requester", "requester is not in group system:nodes");
    }
    Set<String> usages = new HashSet<>(spec.getUsages() == null ? List.of() : spec.getUsages());
    if (!USAGES.contains(usages)) {
      return Verdict.deny(
          node, "usages", "usages " + spec.getUsages() + " are not those of a serving certificate");
    }
    PKCS10CertificationRequest req;
    try {
      String pem =
          new String(Base64.getDecoder().decode(spec.getRequest()), StandardCharsets.US_ASCII);
      req = Pem.csr(pem);
    } catch (RuntimeException e) {
      return Verdict.deny(node, "malformed", "request is not a PEM certificate request");
    }
    X500Name subject = req.getSubject();
    List<String> cns = values(subject, BCStyle.CN);
    List<String> orgs = values(subject, BCStyle.O);
    if (!cns.equals(List.of(user))) {
      return Verdict.deny(node, "subject", "subject CN " + cns + " is not " + user);
    }
    if (!orgs.equals(List.of("system:nodes"))) {
      return Verdict.deny(node, "subject", "subject O " + orgs + " is not [system:nodes]");
    }
    List<InetAddress> ips = new ArrayList<>();
    List<String> others = new ArrayList<>();
    sans(req, ips, others);
    if (!others.isEmpty()) {
      return Verdict.deny(node, "names", "unexpected names " + others);
    }
    if (ips.isEmpty()) {
      return Verdict.deny(node, "no-ip-sans", "no IP SANs: a MetaServer serves on IP addresses");
    }
    if (new HashSet<>(ips).size() != ips.size()) {
      return Verdict.deny(
          node, "duplicate-ip-sans", "IP SANs " + text(ips) + " name an address twice");
    }
    List<InetAddress> unusable = new ArrayList<>();
    for (InetAddress ip : ips) {
      if (ip.isAnyLocalAddress() || ip.isMulticastAddress()) {
        unusable.add(ip);
      }
    }
    if (!unusable.isEmpty()) {
      return Verdict.deny(
          node, "unusable-ip-sans", "IP SANs " + text(unusable) + " are no address a server has");
    }
    Set<InetAddress> seen = new HashSet<>();
    for (InetAddress a : connection) {
      seen.add(plain(a));
    }
    List<InetAddress> unvouched = new ArrayList<>();
    for (InetAddress ip : ips) {
      if (!onHost(ip) && !seen.contains(ip)) {
        unvouched.add(ip);
      }
    }
    if (unvouched.isEmpty()) {
      return new Verdict(Verdict.Kind.APPROVE, node, "");
    }
    if (seen.isEmpty()) {
      return new Verdict(
          Verdict.Kind.UNCONFIRMED,
          node,
          "IP SANs "
              + text(unvouched)
              + " are neither loopback nor link-local, and node "
              + node
              + " has no connection to cloudcore that could show them to be its own",
          "no-connection");
    }
    return Verdict.deny(
        node,
        "unvouched-ip-sans",
        "IP SANs "
            + text(unvouched)
            + " are neither loopback nor link-local nor the address node "
            + node
            + " connects from "
            + text(new ArrayList<>(seen)));
  }

  /** Whether traffic to {@code ip} stays on the node's host (or its link, for link-local). */
  static boolean onHost(InetAddress ip) {
    return ip.isLoopbackAddress() || ip.isLinkLocalAddress();
  }

  /** An IPv4-mapped IPv6 address as the IPv4 address it is; others unchanged. */
  static InetAddress plain(InetAddress a) {
    byte[] b = a.getAddress();
    if (b.length == 16) {
      boolean mapped = b[10] == (byte) 0xff && b[11] == (byte) 0xff;
      for (int i = 0; i < 10 && mapped; i++) {
        mapped = b[i] == 0;
      }
      if (mapped) {
        try {
          return InetAddress.getByAddress(Arrays.copyOfRange(b, 12, 16));
        } catch (UnknownHostException e) {
          throw new IllegalStateException(e); // four bytes are always an address
        }
      }
    }
    return a;
  }

  private static String text(List<InetAddress> ips) {
    List<String> out = new ArrayList<>();
    for (InetAddress a : ips) {
      out.add(a.getHostAddress());
    }
    return out.toString();
  }

  private static List<String> values(X500Name name, ASN1ObjectIdentifier type) {
    List<String> out = new ArrayList<>();
    for (RDN rdn : name.getRDNs(type)) {
      out.add(IETFUtils.valueToString(rdn.getFirst().getValue()));
    }
    return out;
  }

  private static void sans(
      PKCS10CertificationRequest req, List<InetAddress> ips, List<String> others) {
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
            ips.add(plain(InetAddress.getByAddress(raw)));
          } catch (UnknownHostException e) {
            others.add("bad IP");
          }
        } else {
          others.add(g.toString());
        }
      }
    }
  }
}
