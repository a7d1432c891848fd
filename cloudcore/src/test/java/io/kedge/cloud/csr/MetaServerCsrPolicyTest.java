package io.kedge.cloud.csr;

import static io.kedge.cloud.csr.MetaServerCsrPolicy.DEFAULT_IPS;
import static io.kedge.cloud.csr.TestCsrs.USAGES;
import static io.kedge.cloud.csr.TestCsrs.csr;
import static io.kedge.cloud.csr.TestCsrs.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.kedge.cloud.csr.MetaServerCsrPolicy.Verdict.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetaServerCsrPolicyTest {
  static final List<String> NODE_GROUPS = List.of("system:nodes", "system:authenticated");

  static MetaServerCsrPolicy.Verdict judge(CertificateSigningRequest c) {
    return MetaServerCsrPolicy.judge(c, DEFAULT_IPS);
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
      {
        "extra IP SAN",
        csr(
            "metaserver-csr-e",
            request("e", List.of("127.0.0.1", "169.254.30.10", "10.0.0.1")),
            USAGES,
            "system:node:e",
            NODE_GROUPS),
        "IP SANs"
      },
      {
        "missing IP SAN",
        csr(
            "metaserver-csr-e",
            request("e", List.of("127.0.0.1")),
            USAGES,
            "system:node:e",
            NODE_GROUPS),
        "IP SANs"
      },
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

  @Test
  void expectedIpsFromTheNodeAnnotation() {
    assertThat(MetaServerCsrPolicy.expectedIps(null)).isEqualTo(DEFAULT_IPS);
    var node =
        new NodeBuilder()
            .withNewMetadata()
            .withName("e")
            .addToAnnotations(MetaServerCsrPolicy.IPS_ANNOTATION, "127.0.0.2, 169.254.30.10")
            .endMetadata()
            .build();
    List<String> ips = MetaServerCsrPolicy.expectedIps(node);
    assertThat(ips).containsExactly("127.0.0.2", "169.254.30.10");
    var c =
        csr(
            "metaserver-csr-e",
            request("e", List.of("169.254.30.10", "127.0.0.2")),
            USAGES,
            "system:node:e",
            NODE_GROUPS);
    assertThat(MetaServerCsrPolicy.judge(c, ips).kind()).isEqualTo(Kind.APPROVE);
    assertThat(MetaServerCsrPolicy.judge(c, DEFAULT_IPS).kind()).isEqualTo(Kind.DENY);
  }
}
