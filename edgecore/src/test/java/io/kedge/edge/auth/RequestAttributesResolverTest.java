package io.kedge.edge.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RequestAttributesResolverTest {

  @ParameterizedTest(name = "{0} {1}?{2}")
  @CsvSource(
      delimiter = '|',
      nullValues = "~",
      value = {
        // method | path | query | verb | group | version | resource | sub | ns | name
        "GET|/api/v1/namespaces/ns/configmaps|~|list||v1|configmaps||ns|",
        "GET|/api/v1/namespaces/ns/configmaps|watch=true|watch||v1|configmaps||ns|",
        "GET|/api/v1/namespaces/ns/configmaps|watch=1&resourceVersion=5|watch||v1|configmaps||ns|",
        "GET|/api/v1/namespaces/ns/configmaps|watch=false|list||v1|configmaps||ns|",
        "GET|/api/v1/namespaces/ns/configmaps|fieldSelector=metadata.name%3Dcm1|list||v1|configmaps||ns|cm1",
        "GET|/api/v1/namespaces/ns/configmaps|fieldSelector=metadata.name%3D%3Dcm1,x%3Dy&watch=true|watch||v1|configmaps||ns|cm1",
        // the field selector read as the apiserver reads it: untrimmed, and none when unreadable
        "GET|/api/v1/namespaces/ns/configmaps|fieldSelector=x%3Dy,metadata.name%3Dcm1|list||v1|configmaps||ns|cm1",
        "GET|/api/v1/namespaces/ns/configmaps|fieldSelector=%20metadata.name%3Dcm1|list||v1|configmaps||ns|",
        "GET|/api/v1/namespaces/ns/configmaps|fieldSelector=metadata.name%3Dcm1&labelSelector=!!|list||v1|configmaps||ns|",
        "GET|/api/v1/namespaces/ns/configmaps|fieldSelector=metadata.name%3Dc%5C%3Dm|list||v1|configmaps||ns|c=m",
        "GET|/api/v1/namespaces/ns/configmaps/cm1|~|get||v1|configmaps||ns|cm1",
        "HEAD|/api/v1/namespaces/ns/configmaps/cm1|~|get||v1|configmaps||ns|cm1",
        "POST|/api/v1/namespaces/ns/configmaps|~|create||v1|configmaps||ns|",
        "PUT|/api/v1/namespaces/ns/configmaps/cm1|~|update||v1|configmaps||ns|cm1",
        "PATCH|/api/v1/namespaces/ns/configmaps/cm1|~|patch||v1|configmaps||ns|cm1",
        "DELETE|/api/v1/namespaces/ns/configmaps/cm1|~|delete||v1|configmaps||ns|cm1",
        "DELETE|/api/v1/namespaces/ns/configmaps|~|deletecollection||v1|configmaps||ns|",
        "PUT|/api/v1/namespaces/ns/pods/p1/status|~|update||v1|pods|status|ns|p1",
        "GET|/api/v1/namespaces/ns/pods/p1/log|~|get||v1|pods|log|ns|p1",
        "GET|/api/v1/pods|~|list||v1|pods|||",
        "GET|/api/v1/nodes/n1|~|get||v1|nodes|||n1",
        "GET|/api/v1/namespaces|~|list||v1|namespaces|||",
        "GET|/api/v1/namespaces/ns|~|get||v1|namespaces||ns|ns",
        "PUT|/api/v1/namespaces/ns/status|~|update||v1|namespaces|status|ns|ns",
        "PUT|/api/v1/namespaces/ns/finalize|~|update||v1|namespaces|finalize|ns|ns",
        "GET|/apis/apps/v1/namespaces/ns/deployments/d|~|get|apps|v1|deployments||ns|d",
        "GET|/apis/coordination.k8s.io/v1/namespaces/ns/leases|~|list|coordination.k8s.io|v1|leases||ns|",
        "GET|/apis/policy.kubeedge.io/v1alpha1/serviceaccountaccesses|~|list|policy.kubeedge.io|v1alpha1|serviceaccountaccesses|||",
        "GET|/api/v1/watch/namespaces/ns/configmaps|~|watch||v1|configmaps||ns|",
        "GET|/api/v1/watch/namespaces/ns/configmaps/cm1|~|watch||v1|configmaps||ns|cm1",
        "GET|/api/v1/namespaces/ns/configmaps/|~|list||v1|configmaps||ns|",
      })
  void resourceRequests(
      String method,
      String path,
      String query,
      String verb,
      String group,
      String version,
      String resource,
      String sub,
      String ns,
      String name) {
    RequestAttributes a =
        RequestAttributesResolver.resolve(UserInfo.anonymous(), method, path, query);
    assertThat(a.resourceRequest()).isTrue();
    assertThat(a.verb()).isEqualTo(verb);
    assertThat(a.apiGroup()).isEqualTo(nz(group));
    assertThat(a.apiVersion()).isEqualTo(version);
    assertThat(a.resource()).isEqualTo(resource);
    assertThat(a.subresource()).isEqualTo(nz(sub));
    assertThat(a.namespace()).isEqualTo(nz(ns));
    assertThat(a.name()).isEqualTo(nz(name));
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "GET|/api|get",
        "GET|/api/v1|get",
        "GET|/apis|get",
        "GET|/apis/apps|get",
        "GET|/apis/apps/v1|get",
        "GET|/version|get",
        "GET|/healthz|get",
        "POST|/logs/x|post",
        "GET|/openapi/v2|get",
        "GET|/|get",
        "GET|/foo/bar/baz|get",
        "DELETE|/x|delete",
      })
  void nonResourceRequests(String method, String path, String verb) {
    RequestAttributes a = RequestAttributesResolver.resolve(UserInfo.anonymous(), method, path, "");
    assertThat(a.resourceRequest()).isFalse();
    assertThat(a.verb()).isEqualTo(verb);
    assertThat(a.path()).isEqualTo(path);
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }
}
