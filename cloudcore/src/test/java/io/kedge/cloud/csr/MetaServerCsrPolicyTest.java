package io.kedge.cloud.csr;

import static io.kedge.cloud.csr.TestCsrs.DEFAULT_IPS;
import static io.kedge.cloud.csr.TestCsrs.USAGES;
import static io.kedge.cloud.csr.TestCsrs.csr;
import static io.kedge.cloud.csr.TestCsrs.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.kedge.cloud.csr.MetaServerCsrPolicy.Verdict.Kind;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MetaServerCsrPolicyTest {
  static final List<String> NODE_GROUPS = List.of("system:nodes", "system:authenticated");

  static MetaServerCsrPolicy.Verdict judge(CertificateSigningRequest c) {
    return MetaServerCsrPolicy.judge(c, Set.of());
  }

  static MetaServerCsrPolicy.Verdict judge(CertificateSigningRequest c, String connection) {
    return MetaServerCsrPolicy.judge(c, Set.of(ip(connection)));
  }

  static InetAddress ip(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  static CertificateSigningRequest asking(String... ips) {
    return csr(
        "metaserver-csr-e", request("e", List.of(ips)), USAGES, "system:node:e", NODE_GROUPS);
  }

  @Test
  void approvesExactlyTheMetaServerCsrOfTheRequestingNode() {
    assertThat(judge(TestCsrs.valid("edge-1")).kind()).isEqualTo(Kind.APPROVE);
    assertThat(judge(TestCsrs.valid("edge-1")).node()).isEqualTo("edge-1");
    var twoUsages =
        csr(
            "metaserver-csr-e",
            request("e", DEFAULT_IPS),
            List.of("server auth", "digital signature"),
            "system:node:e",
            NODE_GROUPS);
    assertThat(judge(twoUsages).kind()).isEqualTo(Kind.APPROVE);
  }

  @Test
  void refusals() {
    String ok = request("e", DEFAULT_IPS);
    Object[][] cases = {
      {
        "another node's name",
        csr("metaserver-csr-x", ok, USAGES, "system:node:e", NODE_GROUPS),
        "requested by"
      },
      {
        "CN of another node",
        csr("metaserver-csr-e", request("x", DEFAULT_IPS), USAGES, "system:node:e", NODE_GROUPS),
        "CN"
      },
      {
        "a user, not a node",
        csr("metaserver-csr-e", ok, USAGES, "admin", List.of("system:masters")),
        "requested by"
      },
      {
        "node user outside system:nodes",
        csr("metaserver-csr-e", ok, USAGES, "system:node:e", List.of()),
        "system:nodes"
      },
      {"no IP SAN", asking(), "no IP SANs"},
      {"the unspecified address", asking("127.0.0.1", "0.0.0.0"), "IP SANs [0.0.0.0] are no"},
      {"a multicast address", asking("ff02::1"), "IP SANs [ff02:0:0:0:0:0:0:1] are no"},
      {
        "duplicate IP SAN",
        csr(
            "metaserver-csr-e",
            request("e", List.of("127.0.0.1", "127.0.0.1", "169.254.30.10")),
            USAGES,
            "system:node:e",
            NODE_GROUPS),
        "IP SANs"
      },
      {
        "DNS SAN",
        csr(
            "metaserver-csr-e",
            request("system:node:e", List.of("system:nodes"), DEFAULT_IPS, List.of("evil.example")),
            USAGES,
            "system:node:e",
            NODE_GROUPS),
        "unexpected names"
      },
      {
        "wrong O",
        csr(
            "metaserver-csr-e",
            request("system:node:e", List.of("system:masters"), DEFAULT_IPS, List.of()),
            USAGES,
            "system:node:e",
            NODE_GROUPS),
        "subject O"
      },
      {
        "two Os",
        csr(
            "metaserver-csr-e",
            request("system:node:e", List.of("system:nodes", "x"), DEFAULT_IPS, List.of()),
            USAGES,
            "system:node:e",
            NODE_GROUPS),
        "subject O"
      },
      {
        "client auth usage",
        csr(
            "metaserver-csr-e",
            ok,
            List.of("digital signature", "key encipherment", "client auth"),
            "system:node:e",
            NODE_GROUPS),
        "usages"
      },
      {
        "extra usage",
        csr(
            "metaserver-csr-e",
            ok,
            List.of("digital signature", "key encipherment", "server auth", "client auth"),
            "system:node:e",
            NODE_GROUPS),
        "usages"
      },
      {
        "garbage request",
        csr("metaserver-csr-e", "bm90IGEgY3Ny", USAGES, "system:node:e", NODE_GROUPS),
        "not a PEM"
      },
    };
    for (Object[] c : cases) {
      var v = judge((CertificateSigningRequest) c[1]);
      assertThat(v.kind()).as((String) c[0]).isEqualTo(Kind.DENY);
      assertThat(v.reason()).as((String) c[0]).contains((String) c[2]);
    }
  }

  /**
   * Issue 17, item 3: the node announced these IPs on its own Node; the cluster CA must not sign
   * {@code 10.96.0.1} (the kubernetes Service) for it. Another node's dummy address is link-local:
   * traffic to it never leaves that other node's host, so it may stay.
   */
  @Test
  void anIpOnlyTheNodeClaimsIsNotVouchedFor() {
    var attack = asking("127.0.0.1", "169.254.30.10", "10.96.0.1", "169.254.30.11");
    var connected = judge(attack, "192.0.2.2");
    assertThat(connected.kind()).isEqualTo(Kind.DENY);
    assertThat(connected.reason())
        .isEqualTo(
            "IP SANs [10.96.0.1] are neither loopback nor link-local nor the address node e"
                + " connects from [192.0.2.2]");
    var offline = judge(attack);
    assertThat(offline.kind()).isEqualTo(Kind.UNCONFIRMED);
    assertThat(offline.reason()).contains("[10.96.0.1]").contains("no connection");
    assertThat(offline.denied().kind()).isEqualTo(Kind.DENY);
    assertThat(offline.denied().reason()).isEqualTo(offline.reason());
    // The node's own connection address and any other address of its host are not the same.
    assertThat(judge(asking("127.0.0.1", "192.0.2.3"), "192.0.2.2").kind()).isEqualTo(Kind.DENY);
  }

  @Test
  void addressesThatStayOnTheHostOrAreTheConnectionsAreApproved() {
    for (String[] ips :
        new String[][] {
          {"127.0.0.1", "169.254.30.10"},
          {"127.0.0.2"},
          {"169.254.30.11", "127.0.0.1"},
          {"::1", "fe80::1", "169.254.0.1"},
          {"fe80::abcd:1"},
        }) {
      assertThat(judge(asking(ips)).kind()).as(List.of(ips).toString()).isEqualTo(Kind.APPROVE);
    }
    assertThat(judge(asking("127.0.0.1", "192.0.2.2"), "192.0.2.2").kind()).isEqualTo(Kind.APPROVE);
    assertThat(judge(asking("2001:db8::5", "::1"), "2001:db8::5").kind()).isEqualTo(Kind.APPROVE);
    // An IPv4 connection seen on a dual-stack socket is the same IPv4 address.
    assertThat(judge(asking("192.0.2.2"), "::ffff:192.0.2.2").kind()).isEqualTo(Kind.APPROVE);
    // Not link-local: 169.255.x and fec0:: (site-local).
    assertThat(judge(asking("169.255.0.1"), "192.0.2.2").kind()).isEqualTo(Kind.DENY);
    assertThat(judge(asking("fec0::1"), "192.0.2.2").kind()).isEqualTo(Kind.DENY);
  }

  @Test
  void otherCsrsAreNotKedgesBusiness() {
    var kubelet = TestCsrs.valid("e");
    kubelet.getMetadata().setName("csr-abcde");
    assertThat(judge(kubelet).kind()).isEqualTo(Kind.IGNORE);
    var client = TestCsrs.valid("e");
    client.getSpec().setSignerName("kubernetes.io/kube-apiserver-client-kubelet");
    assertThat(judge(client).kind()).isEqualTo(Kind.IGNORE);
    var bare = TestCsrs.valid("e");
    bare.getMetadata().setName("metaserver-csr-");
    assertThat(judge(bare).kind()).isEqualTo(Kind.IGNORE);
  }
}
