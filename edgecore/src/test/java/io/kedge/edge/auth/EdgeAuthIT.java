package io.kedge.edge.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.api.model.rbac.SubjectBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.controlplane.ServiceAccountKubeconfig;
import io.kedge.protocol.Json;
import io.kedge.testkit.junit.WithControlPlane;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The edge's token verification and RBAC evaluation against the real apiserver: tokens it issues
 * verify against its JWKS, and for a table of rules and requests the evaluator decides as the
 * apiserver's SubjectAccessReview does, with the same 403 message.
 */
@WithControlPlane
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EdgeAuthIT {
  private static final Logger LOG = LoggerFactory.getLogger(EdgeAuthIT.class);

  final String suffix = UUID.randomUUID().toString().substring(0, 6);
  final String ns = "auth-it-" + suffix;
  final String otherNs = "auth-it-other-" + suffix;
  final List<HasMetadata> clusterObjects = new ArrayList<>();
  KubernetesClient admin;
  ControlPlane plane;

  @BeforeAll
  void setUp(ControlPlane plane, KubernetesClient admin) {
    this.plane = plane;
    this.admin = admin;
    for (String n : List.of(ns, otherNs)) {
      admin
          .namespaces()
          .resource(new NamespaceBuilder().withNewMetadata().withName(n).endMetadata().build())
          .create();
    }
    for (String sa : List.of("reader", "other")) {
      admin
          .serviceAccounts()
          .inNamespace(ns)
          .resource(
              new ServiceAccountBuilder().withNewMetadata().withName(sa).endMetadata().build())
          .create();
    }
  }

  @AfterAll
  void tearDown() {
    if (admin == null) {
      return;
    }
    for (HasMetadata o : clusterObjects) {
      admin.resource(o).delete();
    }
    admin.namespaces().withName(ns).delete();
    admin.namespaces().withName(otherNs).delete();
  }

  // ------------------------------------------------------------------ tokens

  Pod pod(String name, String sa) {
    Pod p =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .endMetadata()
            .withNewSpec()
            .withServiceAccountName(sa)
            .withNodeName("edge-" + suffix)
            .addNewContainer()
            .withName("c")
            .withImage("busybox")
            .endContainer()
            .endSpec()
            .build();
    // The ServiceAccount admission plugin may not see a fresh ServiceAccount at once.
    for (int i = 0; ; i++) {
      try {
        return admin.pods().inNamespace(ns).resource(p).create();
      } catch (RuntimeException e) {
        if (i > 50) {
          throw e;
        }
        sleep(200);
      }
    }
  }

  String token(Pod pod, List<String> audiences) {
    TokenRequest tr =
        new TokenRequestBuilder()
            .withNewSpec()
            .withAudiences(audiences)
            .withExpirationSeconds(600L)
            .withNewBoundObjectRef()
            .withApiVersion("v1")
            .withKind("Pod")
            .withName(pod.getMetadata().getName())
            .withUid(pod.getMetadata().getUid())
            .endBoundObjectRef()
            .endSpec()
            .build();
    return admin
        .serviceAccounts()
        .inNamespace(ns)
        .withName(pod.getSpec().getServiceAccountName())
        .tokenRequest(tr)
        .getStatus()
        .getToken();
  }

  Jwks clusterJwks() {
    return Jwks.parse(admin.raw(plane.apiserverUrl() + "/openid/v1/jwks"));
  }

  @Test
  void boundTokensFromTheApiserverVerifyAgainstItsJwks() throws Exception {
    Jwks jwks = clusterJwks();
    assertThat(jwks.keys()).isNotEmpty();
    assertThat(jwks.skipped()).isZero();
    Pod p = pod("p1", "reader");
    String token = token(p, List.of());
    TokenVerifier v =
        new TokenVerifier(
            List.of(ControlPlane.SERVICE_ACCOUNT_ISSUER), List.of(), VerificationKeys.of(jwks));
    ServiceAccountClaims c = v.verify(token);
    var sa = admin.serviceAccounts().inNamespace(ns).withName("reader").get();
    assertThat(c.namespace()).isEqualTo(ns);
    assertThat(c.serviceAccountName()).isEqualTo("reader");
    assertThat(c.serviceAccountUid()).isEqualTo(sa.getMetadata().getUid());
    assertThat(c.podName()).isEqualTo("p1");
    assertThat(c.podUid()).isEqualTo(p.getMetadata().getUid());
    assertThat(c.audiences()).contains(ControlPlane.SERVICE_ACCOUNT_ISSUER);
    assertThat(c.expiresAt()).isAfter(c.issuedAt());

    // an audience that is not the apiserver's
    String vault = token(p, List.of("vault"));
    assertThatThrownBy(() -> v.verify(vault)).hasMessageContaining("audiences");
    // the same token, long after it expired
    TokenVerifier later =
        new TokenVerifier(
            List.of(ControlPlane.SERVICE_ACCOUNT_ISSUER),
            List.of(),
            VerificationKeys.of(jwks),
            TokenVerifier.DEFAULT_LEEWAY,
            Clock.fixed(c.expiresAt().plus(Duration.ofMinutes(2)), ZoneOffset.UTC));
    assertThatThrownBy(() -> later.verify(token)).hasMessageContaining("expired");
    // a legacy Secret token has another issuer
    String legacy = ServiceAccountKubeconfig.token(admin, ns, "other");
    assertThatThrownBy(() -> v.verify(legacy)).hasMessageContaining("issuer");
    // a token signed by another key
    String[] parts = token.split("\\.");
    String forged =
        TestTokens.sign(
            (ObjectNode) Json.parse(java.util.Base64.getUrlDecoder().decode(parts[1])),
            TokenVerifierTest.OTHER,
            null);
    assertThatThrownBy(() -> v.verify(forged)).hasMessageContaining("signature");
  }

  // ------------------------------------------------------------------ RBAC

  static io.fabric8.kubernetes.api.model.rbac.PolicyRule rule(
      List<String> groups, List<String> resources, List<String> names, List<String> verbs) {
    return new PolicyRuleBuilder()
        .withApiGroups(groups)
        .withResources(resources)
        .withResourceNames(names)
        .withVerbs(verbs)
        .build();
  }

  static Subject subject(String kind, String name, String namespace) {
    SubjectBuilder b = new SubjectBuilder().withKind(kind).withName(name);
    if (namespace != null) {
      b.withNamespace(namespace);
    }
    if (!"ServiceAccount".equals(kind)) {
      b.withApiGroup("rbac.authorization.k8s.io");
    }
    return b.build();
  }

  void createRbac() {
    Role cm =
        new RoleBuilder()
            .withNewMetadata()
            .withName("cm-reader")
            .endMetadata()
            .withRules(
                rule(
                    List.of(""), List.of("configmaps"), List.of(), List.of("get", "list", "watch")),
                rule(List.of(""), List.of("secrets"), List.of("s1"), List.of("get")))
            .build();
    admin.rbac().roles().inNamespace(ns).resource(cm).create();
    admin.rbac().roles().inNamespace(otherNs).resource(cm).create();
    ClusterRole nodes =
        new ClusterRoleBuilder()
            .withNewMetadata()
            .withName("it-node-viewer-" + suffix)
            .endMetadata()
            .withRules(
                rule(List.of(""), List.of("nodes"), List.of(), List.of("get", "list")),
                new PolicyRuleBuilder()
                    .withNonResourceURLs("/metrics", "/logs/*")
                    .withVerbs("get")
                    .build())
            .build();
    ClusterRole status =
        new ClusterRoleBuilder()
            .withNewMetadata()
            .withName("it-status-" + suffix)
            .endMetadata()
            .withRules(rule(List.of("*"), List.of("*/status"), List.of(), List.of("get")))
            .build();
    ClusterRole scaler =
        new ClusterRoleBuilder()
            .withNewMetadata()
            .withName("it-scaler-" + suffix)
            .endMetadata()
            .withRules(
                rule(List.of("apps"), List.of("deployments/scale"), List.of(), List.of("update")),
                rule(List.of("apps"), List.of("deployments"), List.of("d1"), List.of("*")))
            .build();
    for (ClusterRole cr : List.of(nodes, status, scaler)) {
      clusterObjects.add(admin.rbac().clusterRoles().resource(cr).create());
    }
    admin
        .rbac()
        .roleBindings()
        .inNamespace(ns)
        .resource(
            binding("cm-reader", "Role", "cm-reader", subject("ServiceAccount", "reader", null)))
        .create();
    admin
        .rbac()
        .roleBindings()
        .inNamespace(otherNs)
        .resource(
            binding("cm-reader", "Role", "cm-reader", subject("ServiceAccount", "reader", ns)))
        .create();
    admin
        .rbac()
        .roleBindings()
        .inNamespace(ns)
        .resource(
            binding(
                "scaler",
                "ClusterRole",
                scaler.getMetadata().getName(),
                subject("Group", "system:serviceaccounts:" + ns, null)))
        .create();
    for (ClusterRoleBinding crb :
        List.of(
            clusterBinding(
                "it-nodes-" + suffix,
                nodes.getMetadata().getName(),
                subject("ServiceAccount", "reader", ns)),
            clusterBinding(
                "it-status-" + suffix,
                status.getMetadata().getName(),
                subject("User", "system:serviceaccount:" + ns + ":reader", null)))) {
      clusterObjects.add(admin.rbac().clusterRoleBindings().resource(crb).create());
    }
  }

  static RoleBinding binding(String name, String kind, String role, Subject s) {
    return new RoleBindingBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewRoleRef("rbac.authorization.k8s.io", kind, role)
        .withSubjects(s)
        .build();
  }

  static ClusterRoleBinding clusterBinding(String name, String role, Subject s) {
    return new ClusterRoleBindingBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", role)
        .withSubjects(s)
        .build();
  }

  /** What the cloud's PolicyController sends for a service account: every binding that applies. */
  ServiceAccountAccess accessFor(UserInfo user, String saNs) {
    var ser = admin.getKubernetesSerialization();
    ObjectNode saa = Json.object();
    saa.putObject("metadata").put("name", "reader").put("namespace", saNs);
    ObjectNode spec = saa.putObject("spec");
    ArrayNode rbs = spec.putArray("accessRoleBinding");
    ArrayNode crbs = spec.putArray("accessClusterRoleBinding");
    for (ClusterRoleBinding crb : admin.rbac().clusterRoleBindings().list().getItems()) {
      JsonNode b = Json.parse(ser.asJson(crb));
      if (!RbacBinding.fromJson(b, null, true).appliesTo(user)) {
        continue;
      }
      ClusterRole cr = admin.rbac().clusterRoles().withName(crb.getRoleRef().getName()).get();
      ObjectNode e = crbs.addObject();
      e.set("clusterRoleBinding", b);
      e.set("rules", cr == null ? Json.NODES.arrayNode() : Json.parse(ser.asJson(cr.getRules())));
    }
    for (RoleBinding rb : admin.rbac().roleBindings().inAnyNamespace().list().getItems()) {
      JsonNode b = Json.parse(ser.asJson(rb));
      if (!RbacBinding.fromJson(b, null, false).appliesTo(user)) {
        continue;
      }
      String rns = rb.getMetadata().getNamespace();
      List<io.fabric8.kubernetes.api.model.rbac.PolicyRule> rules;
      if ("Role".equals(rb.getRoleRef().getKind())) {
        Role r = admin.rbac().roles().inNamespace(rns).withName(rb.getRoleRef().getName()).get();
        rules = r == null ? List.of() : r.getRules();
      } else {
        ClusterRole r = admin.rbac().clusterRoles().withName(rb.getRoleRef().getName()).get();
        rules = r == null ? List.of() : r.getRules();
      }
      ObjectNode e = rbs.addObject();
      e.set("roleBinding", b);
      e.set("rules", Json.parse(ser.asJson(rules)));
    }
    return ServiceAccountAccess.fromJson(saa);
  }

  record Req(String method, String path, String query) {}

  @Test
  void rbacDecisionsAndMessagesMatchTheApiserver() throws Exception {
    createRbac();
    List<Req> table = new ArrayList<>();
    String n = "/api/v1/namespaces/" + ns;
    String o = "/api/v1/namespaces/" + otherNs;
    String apps = "/apis/apps/v1/namespaces/" + ns;
    for (String[] r :
        new String[][] {
          {"GET", n + "/configmaps", ""},
          {"GET", n + "/configmaps", "watch=true"},
          {"GET", n + "/configmaps/cm1", ""},
          {"POST", n + "/configmaps", ""},
          {"DELETE", n + "/configmaps/cm1", ""},
          {"DELETE", n + "/configmaps", ""},
          {"GET", o + "/configmaps", ""},
          {"PUT", o + "/configmaps/x", ""},
          {"GET", "/api/v1/namespaces/default/configmaps", ""},
          {"GET", "/api/v1/configmaps", ""},
          {"GET", n + "/secrets/s1", ""},
          {"GET", n + "/secrets/s2", ""},
          {"GET", n + "/secrets", ""},
          {"GET", n + "/secrets", "fieldSelector=metadata.name%3Ds1"},
          {"GET", "/api/v1/nodes", ""},
          {"GET", "/api/v1/nodes/n1", ""},
          {"DELETE", "/api/v1/nodes/n1", ""},
          {"GET", n + "/pods/p/status", ""},
          {"PUT", n + "/pods/p/status", ""},
          {"GET", n + "/pods/p", ""},
          {"GET", apps + "/deployments/d1/status", ""},
          {"PUT", apps + "/deployments/d2/scale", ""},
          {"GET", apps + "/deployments/d1", ""},
          {"PATCH", apps + "/deployments/d1", ""},
          {"DELETE", apps + "/deployments/d2", ""},
          {"GET", apps + "/deployments", ""},
          {"GET", "/apis/coordination.k8s.io/v1/namespaces/" + ns + "/leases", ""},
          {"GET", "/metrics", ""},
          {"GET", "/metrics/x", ""},
          {"GET", "/logs/a/b", ""},
          {"POST", "/logs/a", ""},
          {"GET", "/x", ""},
        }) {
      table.add(new Req(r[0], r[1], r[2]));
    }
    int allowed = 0;
    HttpClient http = HttpClient.newBuilder().sslContext(plane.adminSslContext()).build();
    for (String sa : List.of("reader", "other")) {
      UserInfo user = UserInfo.serviceAccount(ns, sa, "", "", "");
      ServiceAccountAccess saa = accessFor(user, ns);
      RbacAuthorizer edge = new RbacAuthorizer(() -> List.of(saa));
      for (Req r : table) {
        RequestAttributes a = RequestAttributesResolver.resolve(user, r.method, r.path, r.query);
        boolean mine = edge.authorize(a).allowed();
        boolean theirs = subjectAccessReview(user, a);
        assertThat(mine).as("%s %s %s?%s", sa, r.method, r.path, r.query).isEqualTo(theirs);
        allowed += mine ? 1 : 0;
        if (!mine && "GET".equals(r.method)) {
          // The apiserver's own 403 for the same request, made as the service account.
          HttpResponse<String> resp =
              http.send(
                  HttpRequest.newBuilder(
                          URI.create(
                              plane.apiserverUrl()
                                  + r.path
                                  + (r.query.isEmpty() ? "" : "?" + r.query)))
                      .header("Impersonate-User", user.name())
                      .header("Impersonate-Group", "system:serviceaccounts")
                      .header("Impersonate-Group", "system:serviceaccounts:" + ns)
                      .header("Impersonate-Group", "system:authenticated")
                      .GET()
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          assertThat(resp.statusCode()).as(r.path).isEqualTo(403);
          JsonNode real = Json.parse(resp.body());
          ObjectNode ours = AuthStatus.forbidden(a, "");
          assertThat(ours.get("message").asString())
              .as(r.path)
              .isEqualTo(real.get("message").asString());
          assertThat(Json.string(ours.get("details"))).isEqualTo(Json.string(real.get("details")));
          assertThat(ours.get("reason").asString()).isEqualTo(real.get("reason").asString());
        }
      }
    }
    LOG.info(
        "{} requests compared with SubjectAccessReview, {} allowed", 2 * table.size(), allowed);
    assertThat(allowed).isGreaterThan(10);
  }

  boolean subjectAccessReview(UserInfo user, RequestAttributes a) {
    SubjectAccessReviewBuilder b =
        new SubjectAccessReviewBuilder()
            .withNewSpec()
            .withUser(user.name())
            .withGroups(user.groups())
            .endSpec();
    if (a.resourceRequest()) {
      b.editSpec()
          .withNewResourceAttributes()
          .withVerb(a.verb())
          .withGroup(a.apiGroup())
          .withVersion(a.apiVersion())
          .withResource(a.resource())
          .withSubresource(a.subresource())
          .withNamespace(a.namespace())
          .withName(a.name())
          .endResourceAttributes()
          .endSpec();
    } else {
      b.editSpec()
          .withNewNonResourceAttributes()
          .withVerb(a.verb())
          .withPath(a.path())
          .endNonResourceAttributes()
          .endSpec();
    }
    SubjectAccessReview r = admin.authorization().v1().subjectAccessReview().create(b.build());
    return r.getStatus().getAllowed();
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
