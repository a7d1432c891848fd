package io.kedge.cloud.csr;

import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestBuilder;
import io.kedge.pki.CertificateRequests;
import io.kedge.pki.KeyPairs;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.Base64;
import java.util.List;

/** CSR objects shaped as an edge's MetaServer sends them, with variations. */
final class TestCsrs {
  private TestCsrs() {}

  static String request(String cn, List<String> orgs, List<String> ips, List<String> dns) {
    String pem = CertificateRequests.pem(KeyPairs.ecP256(), cn, orgs, ips, dns);
    return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII));
  }

  static String request(String node, List<String> ips) {
    return request("system:node:" + node, List.of("system:nodes"), ips, List.of());
  }

  /** A node's request signed with {@code key} (the same key makes a compatible request). */
  static String request(KeyPair key, String node, List<String> ips) {
    String pem =
        CertificateRequests.pem(
            key, "system:node:" + node, List.of("system:nodes"), ips, List.of());
    return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII));
  }

  static CertificateSigningRequest csr(
      String name, String request, List<String> usages, String user, List<String> groups) {
    return new CertificateSigningRequestBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withSignerName(MetaServerCsrPolicy.SIGNER)
        .withRequest(request)
        .withUsages(usages)
        .withUsername(user)
        .withGroups(groups)
        .endSpec()
        .build();
  }

  /** Where KubeEdge's MetaServer serves by default: {@code server} and {@code dummyServer}. */
  static final List<String> DEFAULT_IPS = List.of("127.0.0.1", "169.254.30.10");

  static final List<String> USAGES =
      List.of("digital signature", "key encipherment", "server auth");

  static CertificateSigningRequest valid(String node) {
    return csr(
        "metaserver-csr-" + node,
        request(node, DEFAULT_IPS),
        USAGES,
        "system:node:" + node,
        List.of("system:nodes", "system:authenticated"));
  }
}
