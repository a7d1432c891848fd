package io.kedge.cloud.csr;

import static io.kedge.cloud.csr.MetaServerCsrRequests.incompatibility;
import static io.kedge.cloud.csr.TestCsrs.DEFAULT_IPS;
import static io.kedge.cloud.csr.TestCsrs.USAGES;
import static io.kedge.cloud.csr.TestCsrs.csr;
import static io.kedge.cloud.csr.TestCsrs.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestConditionBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestStatusBuilder;
import io.kedge.pki.KeyPairs;
import java.security.KeyPair;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * When an existing {@code metaserver-csr-<node>} is one KubeEdge's edge reuses (its certificate
 * manager's {@code ensureCompatible}): same key, subject and signer, made by the node, not decided
 * against. Only then does the edge get 409 AlreadyExists instead of a replacement.
 */
class MetaServerCsrRequestsTest {
  static final String NODE = "e";
  static final List<String> NODE_GROUPS = List.of("system:nodes", "system:authenticated");
  final KeyPair key = KeyPairs.ecP256();

  CertificateSigningRequest byNode(String request) {
    return csr("metaserver-csr-" + NODE, request, USAGES, "system:node:" + NODE, NODE_GROUPS);
  }

  /** As the edge sends it: no requester yet. */
  CertificateSigningRequest wanted(KeyPair k) {
    return csr("metaserver-csr-" + NODE, request(k, NODE, DEFAULT_IPS), USAGES, null, null);
  }

  static CertificateSigningRequest withCondition(CertificateSigningRequest c, String type) {
    c.setStatus(
        new CertificateSigningRequestStatusBuilder()
            .withConditions(
                new CertificateSigningRequestConditionBuilder()
                    .withType(type)
                    .withStatus("True")
                    .withReason("Test")
                    .build())
            .build());
    return c;
  }

  @Test
  void theSameKeyIsReusedPendingOrApproved() {
    var existing = byNode(request(key, NODE, DEFAULT_IPS));
    assertThat(incompatibility(NODE, existing, wanted(key))).isNull();
    assertThat(incompatibility(NODE, withCondition(existing, "Approved"), wanted(key))).isNull();
  }

  @Test
  void anythingElseIsReplacedWithTheReason() {
    var existing = byNode(request(key, NODE, DEFAULT_IPS));
    assertThat(incompatibility(NODE, existing, wanted(KeyPairs.ecP256())))
        .isEqualTo("the existing one was made with another key");
    assertThat(
            incompatibility(
                NODE,
                withCondition(byNode(request(key, NODE, DEFAULT_IPS)), "Denied"),
                wanted(key)))
        .contains("denied");
    assertThat(
            incompatibility(
                NODE,
                withCondition(byNode(request(key, NODE, DEFAULT_IPS)), "Failed"),
                wanted(key)))
        .contains("failed");
    var byAdmin =
        csr(
            "metaserver-csr-" + NODE,
            request(key, NODE, DEFAULT_IPS),
            USAGES,
            "admin",
            List.of("system:masters"));
    assertThat(incompatibility(NODE, byAdmin, wanted(key))).contains("requested by \"admin\"");
    var otherSigner = byNode(request(key, NODE, DEFAULT_IPS));
    otherSigner.getSpec().setSignerName("kubernetes.io/kube-apiserver-client-kubelet");
    assertThat(incompatibility(NODE, otherSigner, wanted(key))).contains("signer");
    var otherSubject = byNode(request(key, "x", DEFAULT_IPS));
    assertThat(incompatibility(NODE, otherSubject, wanted(key))).contains("subject");
    var garbage = byNode("bm90IGEgUEVN");
    assertThat(incompatibility(NODE, garbage, wanted(key))).contains("cannot be read");
  }
}
