package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.controlplane.ControlPlane;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The shipped RBAC (deploy/rbac/cloudcore-dynamic.yaml, aggregated into ClusterRole cloudcore)
 * covers every call the DynamicController makes with cloudcore's own identity — asked of the
 * apiserver as cloudcore itself — and no more than it needs where that matters.
 */
@WithControlPlane
class DynamicControllerRbacIT {
  @TempDir static Path tmp;
  static KubeClients cloudcore;

  @BeforeAll
  static void setUp(ControlPlane plane) {
    cloudcore = ClusterFixture.cloudcore(plane, tmp);
  }

  @AfterAll
  static void tearDown() {
    if (cloudcore != null) {
      cloudcore.close();
    }
  }

  static boolean allowed(String verb, String group, String resource, String name) {
    SelfSubjectAccessReview r =
        cloudcore
            .own()
            .authorization()
            .v1()
            .selfSubjectAccessReview()
            .create(
                new SelfSubjectAccessReviewBuilder()
                    .withNewSpec()
                    .withNewResourceAttributes()
                    .withVerb(verb)
                    .withGroup(group)
                    .withResource(resource)
                    .withName(name == null || name.isEmpty() ? null : name)
                    .endResourceAttributes()
                    .endSpec()
                    .build());
    return Boolean.TRUE.equals(r.getStatus().getAllowed());
  }

  @ParameterizedTest(name = "{0} {1}/{2} {3}")
  @CsvSource({
    // identity pod: verify tokens, authorize watches, check pods against nodes
    "create, authentication.k8s.io, tokenreviews, ''",
    "create, authorization.k8s.io, subjectaccessreviews, ''",
    "get, '', pods, ''",
    "list, '', pods, ''",
    "watch, '', pods, ''",
    // RBAC changes invalidate cached access reviews
    "list, rbac.authorization.k8s.io, roles, ''",
    "watch, rbac.authorization.k8s.io, roles, ''",
    "list, rbac.authorization.k8s.io, rolebindings, ''",
    "watch, rbac.authorization.k8s.io, rolebindings, ''",
    "list, rbac.authorization.k8s.io, clusterroles, ''",
    "watch, rbac.authorization.k8s.io, clusterroles, ''",
    "list, rbac.authorization.k8s.io, clusterrolebindings, ''",
    "watch, rbac.authorization.k8s.io, clusterrolebindings, ''",
    // identity node
    "impersonate, '', users, system:node:edge-1",
    "impersonate, '', groups, system:nodes",
    // shared informers of the types edges commonly watch
    "list, '', configmaps, ''",
    "watch, '', configmaps, ''",
    "list, '', services, ''",
    "watch, '', services, ''",
    "list, '', endpoints, ''",
    "watch, '', endpoints, ''",
    "list, '', nodes, ''",
    "watch, '', nodes, ''",
    "list, '', namespaces, ''",
    "watch, '', namespaces, ''",
    "list, discovery.k8s.io, endpointslices, ''",
    "watch, discovery.k8s.io, endpointslices, ''"
  })
  void cloudcoreMayMakeItsOwnCalls(String verb, String group, String resource, String name) {
    assertThat(allowed(verb, group, resource, name)).isTrue();
  }

  @Test
  void impersonationCannotReachBeyondTheNodesGroup() {
    assertThat(allowed("impersonate", "", "groups", "system:masters")).isFalse();
    assertThat(allowed("impersonate", "", "serviceaccounts", "")).isFalse();
    assertThat(allowed("impersonate", "authentication.k8s.io", "userextras", "")).isFalse();
  }

  @Test
  void cloudcoreIsNotAdmin() {
    for (List<String> r :
        List.of(
            List.of("escalate", "rbac.authorization.k8s.io", "clusterroles"),
            List.of("bind", "rbac.authorization.k8s.io", "clusterroles"),
            List.of("*", "*", "*"))) {
      assertThat(allowed(r.get(0), r.get(1), r.get(2), null)).as(r.toString()).isFalse();
    }
  }
}
