package io.kedge.edge.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

class RbacAuthorizerTest {
  static final UserInfo READER = UserInfo.serviceAccount("demo", "reader", "u1", "p", "pu");
  static final UserInfo OTHER = UserInfo.serviceAccount("demo", "other", "u2", "p", "pu");

  static final String SAA =
      """
      {"apiVersion":"policy.kubeedge.io/v1alpha1","kind":"ServiceAccountAccess",
       "metadata":{"name":"reader","namespace":"demo","resourceVersion":"7"},
       "spec":{
        "serviceAccount":{"metadata":{"name":"reader","namespace":"demo","uid":"u1"}},
        "serviceAccountUid":"u1",
        "accessRoleBinding":[
         {"roleBinding":{"metadata":{"name":"read-cm","namespace":"demo"},
           "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"cm"},
           "subjects":[{"kind":"ServiceAccount","name":"reader"}]},
          "rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list","watch"]},
                   {"apiGroups":[""],"resources":["secrets"],"resourceNames":["s1"],"verbs":["get"]},
                   {"apiGroups":["apps"],"resources":["deployments/scale"],"verbs":["update"]},
                   {"apiGroups":["*"],"resources":["*/status"],"verbs":["get"]}]}],
        "accessClusterRoleBinding":[
         {"clusterRoleBinding":{"metadata":{"name":"nodes-view"},
           "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"nv"},
           "subjects":[{"kind":"Group","name":"system:serviceaccounts:demo"}]},
          "rules":[{"apiGroups":[""],"resources":["nodes"],"verbs":["*"]},
                   {"nonResourceURLs":["/metrics","/logs/*"],"verbs":["get"]}]}]}}
      """;

  static RbacAuthorizer authorizer() {
    ServiceAccountAccess saa = ServiceAccountAccess.fromJson(Json.parse(SAA));
    return new RbacAuthorizer(() -> List.of(saa));
  }

  static boolean allowed(UserInfo u, String method, String path, String query) {
    return authorizer()
        .authorize(RequestAttributesResolver.resolve(u, method, path, query))
        .allowed();
  }

  @Test
  void parsesServiceAccountAccess() {
    ServiceAccountAccess saa = ServiceAccountAccess.fromJson(Json.parse(SAA));
    assertThat(saa.serviceAccountName()).isEqualTo("reader");
    assertThat(saa.serviceAccountUid()).isEqualTo("u1");
    assertThat(saa.roleBindings()).hasSize(1);
    assertThat(saa.roleBindings().get(0).namespace()).isEqualTo("demo");
    assertThat(saa.clusterRoleBindings().get(0).clusterWide()).isTrue();
  }

  @Test
  void roleBindingGrantsOnlyInItsNamespace() {
    assertThat(allowed(READER, "GET", "/api/v1/namespaces/demo/configmaps", "")).isTrue();
    assertThat(allowed(READER, "GET", "/api/v1/namespaces/demo/configmaps/x", "")).isTrue();
    assertThat(allowed(READER, "GET", "/api/v1/namespaces/demo/configmaps", "watch=true")).isTrue();
    assertThat(allowed(READER, "POST", "/api/v1/namespaces/demo/configmaps", "")).isFalse();
    assertThat(allowed(READER, "GET", "/api/v1/namespaces/other/configmaps", "")).isFalse();
    assertThat(allowed(READER, "GET", "/api/v1/configmaps", "")).isFalse();
  }

  @Test
  void subjectsMatchUserGroupAndServiceAccount() {
    assertThat(allowed(OTHER, "GET", "/api/v1/namespaces/demo/configmaps", "")).isFalse();
    // group system:serviceaccounts:demo covers every service account of demo
    assertThat(allowed(OTHER, "DELETE", "/api/v1/nodes/n1", "")).isTrue();
    UserInfo foreign = UserInfo.serviceAccount("prod", "reader", "u3", "", "");
    assertThat(allowed(foreign, "GET", "/api/v1/nodes", "")).isFalse();
    assertThat(allowed(UserInfo.anonymous(), "GET", "/api/v1/nodes", "")).isFalse();
  }

  @Test
  void resourceNamesSubresourcesAndWildcards() {
    assertThat(allowed(READER, "GET", "/api/v1/namespaces/demo/secrets/s1", "")).isTrue();
    assertThat(allowed(READER, "GET", "/api/v1/namespaces/demo/secrets/s2", "")).isFalse();
    assertThat(allowed(READER, "GET", "/api/v1/namespaces/demo/secrets", "")).isFalse();
    // a list narrowed to one name is still a list: "get" does not grant it
    assertThat(
            allowed(
                READER, "GET", "/api/v1/namespaces/demo/secrets", "fieldSelector=metadata.name=s1"))
        .isFalse();
    assertThat(allowed(READER, "PUT", "/apis/apps/v1/namespaces/demo/deployments/d/scale", ""))
        .isTrue();
    assertThat(allowed(READER, "PUT", "/apis/apps/v1/namespaces/demo/deployments/d", "")).isFalse();
    assertThat(allowed(READER, "GET", "/apis/apps/v1/namespaces/demo/deployments/d/status", ""))
        .isTrue();
    assertThat(allowed(READER, "GET", "/api/v1/namespaces/demo/pods/p/status", "")).isTrue();
    assertThat(allowed(READER, "GET", "/api/v1/namespaces/demo/pods/p", "")).isFalse();
  }

  @Test
  void nonResourceUrls() {
    assertThat(allowed(READER, "GET", "/metrics", "")).isTrue();
    assertThat(allowed(READER, "GET", "/metrics/x", "")).isFalse();
    assertThat(allowed(READER, "GET", "/logs/a/b", "")).isTrue();
    assertThat(allowed(READER, "GET", "/logs", "")).isFalse();
    assertThat(allowed(READER, "POST", "/metrics", "")).isFalse();
  }

  @Test
  void unionWithDiscovery() {
    Authorizer a = Authorizer.union(new DiscoveryPaths(), authorizer());
    for (String p : List.of("/api", "/api/v1", "/apis/apps/v1", "/version", "/readyz", "/apis/")) {
      assertThat(
              a.authorize(RequestAttributes.nonResource(UserInfo.anonymous(), "get", p)).allowed())
          .as(p)
          .isTrue();
    }
    for (String p : List.of("/apis/a/b/c", "/openapi/v3/apis", "/metrics", "/api/v1/../x")) {
      assertThat(
              a.authorize(RequestAttributes.nonResource(UserInfo.anonymous(), "get", p)).allowed())
          .as(p)
          .isFalse();
    }
    assertThat(
            a.authorize(RequestAttributes.nonResource(UserInfo.anonymous(), "post", "/api"))
                .allowed())
        .isFalse();
  }

  @Test
  void emptyOrPartialObjectsGrantNothing() {
    ServiceAccountAccess empty =
        ServiceAccountAccess.fromJson(
            Json.parse("{\"metadata\":{\"name\":\"x\",\"namespace\":\"demo\"}}"));
    RbacAuthorizer a = new RbacAuthorizer(() -> List.of(empty));
    assertThat(
            a.authorize(
                    RequestAttributesResolver.resolve(
                        READER, "GET", "/api/v1/namespaces/demo/configmaps", ""))
                .allowed())
        .isFalse();
  }
}
