package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ApiPathTest {

  @Test
  void namespacedObject() throws Exception {
    ApiPath p = ApiPath.parse("/api/v1/namespaces/demo/configmaps/cfg");
    assertThat(p.resourceRequest()).isTrue();
    assertThat(p.group()).isEmpty();
    assertThat(p.version()).isEqualTo("v1");
    assertThat(p.resource()).isEqualTo("configmaps");
    assertThat(p.namespace()).isEqualTo("demo");
    assertThat(p.name()).isEqualTo("cfg");
    assertThat(p.subresource()).isNull();
    assertThat(p.apiVersion()).isEqualTo("v1");
  }

  @Test
  void groupsSubresourcesAndClusterScope() throws Exception {
    ApiPath d = ApiPath.parse("/apis/apps/v1/namespaces/demo/deployments/web/scale");
    assertThat(d.group()).isEqualTo("apps");
    assertThat(d.subresource()).isEqualTo("scale");
    ApiPath all = ApiPath.parse("/apis/apps/v1/deployments");
    assertThat(all.namespace()).isNull();
    assertThat(all.name()).isNull();
    ApiPath node = ApiPath.parse("/api/v1/nodes/edge-1/status");
    assertThat(node.resource()).isEqualTo("nodes");
    assertThat(node.subresource()).isEqualTo("status");
    ApiPath role = ApiPath.parse("/apis/rbac.authorization.k8s.io/v1/clusterroles/system:node");
    assertThat(role.name()).isEqualTo("system:node");
  }

  @Test
  void theNamespaceObjectItself() throws Exception {
    ApiPath ns = ApiPath.parse("/api/v1/namespaces/demo");
    assertThat(ns.resource()).isEqualTo("namespaces");
    assertThat(ns.name()).isEqualTo("demo");
    assertThat(ns.namespace()).isNull();
    ApiPath fin = ApiPath.parse("/api/v1/namespaces/demo/finalize");
    assertThat(fin.resource()).isEqualTo("namespaces");
    assertThat(fin.subresource()).isEqualTo("finalize");
    ApiPath list = ApiPath.parse("/api/v1/namespaces");
    assertThat(list.resource()).isEqualTo("namespaces");
    assertThat(list.name()).isNull();
  }

  @Test
  void legacyWatchPrefix() throws Exception {
    ApiPath w = ApiPath.parse("/api/v1/watch/namespaces/demo/pods");
    assertThat(w.watchPrefix()).isTrue();
    assertThat(w.resource()).isEqualTo("pods");
    assertThat(w.namespace()).isEqualTo("demo");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/api",
        "/apis",
        "/api/v1",
        "/apis/apps",
        "/apis/apps/v1",
        "/version",
        "/openapi/v2",
        "/openapi/v3",
        "/openapi/v3/apis/apps/v1",
        "/healthz",
        "/livez/ping",
        "/readyz"
      })
  void nonResourcePathsThatAreServed(String path) throws Exception {
    assertThat(ApiPath.parse(path).resourceRequest()).isFalse();
  }

  @ParameterizedTest
  @CsvSource({
    "/metrics, 404",
    "/logs/kube-apiserver.log, 404",
    "/debug/pprof, 404",
    "api/v1, 400",
    "'', 400",
    "/api/v1/namespaces/demo/pods/p/exec, 403",
    "/api/v1/namespaces/demo/pods/p/attach, 403",
    "/api/v1/namespaces/demo/pods/p/portforward, 403",
    "/api/v1/namespaces/demo/services/s/proxy/x, 403",
    "/api/v1/nodes/n/proxy/metrics, 403",
    "/api/v1/namespaces/../secrets, 400",
    "/api/v1/namespaces/./secrets, 400",
    "//api/v1, 400",
    "/api//v1/pods, 400",
    "/api/v1/namespaces/%2e%2e/secrets, 400",
    "/api/v1/namespaces/demo/configmaps%2Fx, 400",
    "/api/v1/namespaces/demo/configmaps/a b, 400",
    "/api/v1/watch, 404"
  })
  void refused(String path, int code) {
    assertThatThrownBy(() -> ApiPath.parse(path))
        .isInstanceOfSatisfying(ApiPath.Refused.class, e -> assertThat(e.code()).isEqualTo(code));
  }

  @Test
  void format() {
    assertThat(ApiPath.format("", "v1", "configmaps", "demo", "cfg", null))
        .isEqualTo("/api/v1/namespaces/demo/configmaps/cfg");
    assertThat(ApiPath.format("apps", "v1", "deployments", null, null, null))
        .isEqualTo("/apis/apps/v1/deployments");
    assertThat(ApiPath.format("", "v1", "pods", "demo", "p", "status"))
        .isEqualTo("/api/v1/namespaces/demo/pods/p/status");
  }
}
