package io.kedge.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.pki.KeyPairs;
import io.kedge.pki.Pem;
import io.kedge.testkit.junit.WithControlPlane;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/** The local control plane behaves like a real cluster in everything later issues rely on. */
@WithControlPlane
class ControlPlaneIT {
  private static final Duration WAIT = Duration.ofSeconds(90);

  private final KubernetesClient kube;
  private final ControlPlane plane;

  ControlPlaneIT(ControlPlane plane) {
    this.plane = plane;
    this.kube = plane.adminClient();
  }

  @Test
  void podTokenAuthenticatesAndRbacDecides() {
    String ns = "cp-it-rbac";
    kube.namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    kube.serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("app").endMetadata().build())
        .create();
    Pod pod =
        kube.pods()
            .inNamespace(ns)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName("p1")
                    .endMetadata()
                    .withNewSpec()
                    .withServiceAccountName("app")
                    .addNewContainer()
                    .withName("c")
                    .withImage("busybox")
                    .endContainer()
                    .endSpec()
                    .build())
            .create();

    // The root-CA publisher runs: every namespace gets kube-root-ca.crt.
    Waits.until(
        "kube-root-ca.crt in " + ns,
        WAIT,
        () -> kube.configMaps().inNamespace(ns).withName("kube-root-ca.crt").get() != null);
    ConfigMap rootCa = kube.configMaps().inNamespace(ns).withName("kube-root-ca.crt").get();
    assertThat(Pem.certificate(rootCa.getData().get("ca.crt"))).isEqualTo(plane.pki().ca());

    // A token bound to the pod, as the kubelet requests it.
    TokenRequest tr =
        kube.serviceAccounts()
            .inNamespace(ns)
            .withName("app")
            .tokenRequest(
                new TokenRequestBuilder()
                    .withNewSpec()
                    .withAudiences(ControlPlane.SERVICE_ACCOUNT_ISSUER)
                    .withExpirationSeconds(3600L)
                    .withNewBoundObjectRef()
                    .withApiVersion("v1")
                    .withKind("Pod")
                    .withName("p1")
                    .withUid(pod.getMetadata().getUid())
                    .endBoundObjectRef()
                    .endSpec()
                    .build());
    String token = tr.getStatus().getToken();
    JsonNode claims = jwtClaims(token);
    assertThat(claims.path("iss").asString()).isEqualTo(ControlPlane.SERVICE_ACCOUNT_ISSUER);
    assertThat(claims.path("kubernetes.io").path("pod").path("uid").asString())
        .isEqualTo(pod.getMetadata().getUid());

    TokenReview review =
        kube.authentication()
            .v1()
            .tokenReviews()
            .create(new TokenReviewBuilder().withNewSpec().withToken(token).endSpec().build());
    assertThat(review.getStatus().getAuthenticated()).isTrue();
    assertThat(review.getStatus().getUser().getUsername())
        .isEqualTo("system:serviceaccount:" + ns + ":app");
    assertThat(review.getStatus().getUser().getExtra())
        .containsKey("authentication.kubernetes.io/pod-name");

    TokenReview forged =
        kube.authentication()
            .v1()
            .tokenReviews()
            .create(
                new TokenReviewBuilder()
                    .withNewSpec()
                    .withToken(token.substring(0, token.length() - 4) + "AAAA")
                    .endSpec()
                    .build());
    assertThat(forged.getStatus().getAuthenticated()).isNotEqualTo(Boolean.TRUE);

    // RBAC: denied, then allowed once a RoleBinding grants it.
    assertThat(canListConfigMaps(ns)).isFalse();
    kube.rbac()
        .roles()
        .inNamespace(ns)
        .resource(
            new RoleBuilder()
                .withNewMetadata()
                .withName("cm-reader")
                .endMetadata()
                .addNewRule()
                .withApiGroups("")
                .withResources("configmaps")
                .withVerbs("get", "list")
                .endRule()
                .build())
        .create();
    kube.rbac()
        .roleBindings()
        .inNamespace(ns)
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName("app-cm-reader")
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", "cm-reader")
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("app")
                .withNamespace(ns)
                .endSubject()
                .build())
        .create();
    Waits.until("RoleBinding takes effect", WAIT, () -> canListConfigMaps(ns));
  }

  private boolean canListConfigMaps(String ns) {
    SubjectAccessReview sar =
        kube.authorization()
            .v1()
            .subjectAccessReview()
            .create(
                new SubjectAccessReviewBuilder()
                    .withNewSpec()
                    .withUser("system:serviceaccount:" + ns + ":app")
                    .withGroups("system:serviceaccounts", "system:serviceaccounts:" + ns)
                    .withNewResourceAttributes()
                    .withNamespace(ns)
                    .withVerb("list")
                    .withResource("configmaps")
                    .endResourceAttributes()
                    .endSpec()
                    .build());
    return Boolean.TRUE.equals(sar.getStatus().getAllowed());
  }

  @Test
  void kubeletServingCsrIsSignedByTheClusterCa() throws Exception {
    KeyPair key = KeyPairs.ecP256();
    ExtensionsGenerator ext = new ExtensionsGenerator();
    ext.addExtension(
        Extension.subjectAlternativeName,
        false,
        new GeneralNames(
            new GeneralName(
                GeneralName.iPAddress, InetAddress.getLoopbackAddress().getHostAddress())));
    PKCS10CertificationRequest csr =
        new JcaPKCS10CertificationRequestBuilder(
                new X500Name("O=system:nodes,CN=system:node:n1"), key.getPublic())
            .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate())
            .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate()));
    String csrPem = Pem.encode(csr);
    String name = "cp-it-serving-n1";
    kube.certificates()
        .v1()
        .certificateSigningRequests()
        .resource(
            new CertificateSigningRequestBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withNewSpec()
                .withSignerName("kubernetes.io/kubelet-serving")
                .withUsages("digital signature", "key encipherment", "server auth")
                .withRequest(
                    Base64.getEncoder().encodeToString(csrPem.getBytes(StandardCharsets.US_ASCII)))
                .endSpec()
                .build())
        .create();
    kube.certificates().v1().certificateSigningRequests().withName(name).approve();
    Waits.until(
        "controller-manager signs " + name,
        WAIT,
        () -> {
          CertificateSigningRequest c =
              kube.certificates().v1().certificateSigningRequests().withName(name).get();
          return c.getStatus() != null && c.getStatus().getCertificate() != null;
        });
    CertificateSigningRequest done =
        kube.certificates().v1().certificateSigningRequests().withName(name).get();
    assertThat(done.getStatus().getConditions())
        .anySatisfy(c -> assertThat(c.getType()).isEqualTo("Approved"));
    X509Certificate cert =
        Pem.certificate(
            new String(
                Base64.getDecoder().decode(done.getStatus().getCertificate()),
                StandardCharsets.US_ASCII));
    cert.verify(plane.pki().ca().getPublicKey()); // throws if not signed by the cluster CA
    assertThat(cert.getSubjectX500Principal().getName()).contains("CN=system:node:n1");
    assertThat(cert.getPublicKey()).isEqualTo(key.getPublic());
  }

  @Test
  void issuerDiscoveryServesJwks() {
    String jwks = kube.raw("/openid/v1/jwks");
    JsonNode keys = new ObjectMapper().readTree(jwks).path("keys");
    assertThat(keys.isArray()).isTrue();
    assertThat(keys.size()).isGreaterThanOrEqualTo(1);
    assertThat(keys.get(0).path("kty").asString()).isEqualTo("RSA");
    String discovery = kube.raw("/.well-known/openid-configuration");
    assertThat(new ObjectMapper().readTree(discovery).path("issuer").asString())
        .isEqualTo(ControlPlane.SERVICE_ACCOUNT_ISSUER);
  }

  @Test
  void deploymentPodIsScheduled() {
    String ns = "cp-it-sched";
    kube.namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    String node = "cp-it-node";
    kube.nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName(node)
                .addToLabels("kubernetes.io/hostname", node)
                .endMetadata()
                .build())
        .create();
    // A Ready node with room, as a kubelet would report it. The controller-manager's node
    // controllers change a new node too, so the edit may meet a conflict: try again, as a kubelet
    // would.
    for (int attempt = 1; ; attempt++) {
      try {
        reportReady(kube, node);
        break;
      } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 5) {
          throw e;
        }
      }
    }
    kube.apps()
        .deployments()
        .inNamespace(ns)
        .resource(
            new DeploymentBuilder()
                .withNewMetadata()
                .withName("web")
                .endMetadata()
                .withNewSpec()
                .withReplicas(1)
                .withNewSelector()
                .addToMatchLabels("app", "web")
                .endSelector()
                .withNewTemplate()
                .withNewMetadata()
                .addToLabels("app", "web")
                .endMetadata()
                .withNewSpec()
                .addNewToleration()
                .withOperator("Exists")
                .endToleration()
                .addNewContainer()
                .withName("web")
                .withImage("nginx")
                .endContainer()
                .endSpec()
                .endTemplate()
                .endSpec()
                .build())
        .create();
    Waits.until(
        "deployment pod scheduled on " + node,
        WAIT,
        () ->
            kube.pods().inNamespace(ns).withLabel("app", "web").list().getItems().stream()
                .anyMatch(p -> node.equals(p.getSpec().getNodeName())));
  }

  @Test
  void kubectlReportsServerVersion() throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(
                "kubectl",
                "--kubeconfig",
                plane.adminKubeconfig().toString(),
                "version",
                "-o",
                "json")
            .redirectErrorStream(false)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    JsonNode v = new ObjectMapper().readTree(out);
    assertThat(v.path("serverVersion").path("gitVersion").asString()).isEqualTo("v1.20.2");
  }

  static JsonNode jwtClaims(String jwt) {
    String[] parts = jwt.split("\\.");
    assertThat(parts).hasSize(3);
    return new ObjectMapper().readTree(Base64.getUrlDecoder().decode(parts[1]));
  }

  private static void reportReady(KubernetesClient kube, String node) {
    kube.nodes()
        .withName(node)
        .editStatus(
            n -> {
              n.getStatus()
                  .setCapacity(
                      Map.of(
                          "cpu", new Quantity("4"),
                          "memory", new Quantity("8Gi"),
                          "pods", new Quantity("110")));
              n.getStatus().setAllocatable(n.getStatus().getCapacity());
              n.getStatus()
                  .setConditions(
                      List.of(
                          new NodeConditionBuilder()
                              .withType("Ready")
                              .withStatus("True")
                              .withReason("KubeletReady")
                              .withLastHeartbeatTime(java.time.Instant.now().toString())
                              .withLastTransitionTime(java.time.Instant.now().toString())
                              .build()));
              return n;
            });
  }
}
