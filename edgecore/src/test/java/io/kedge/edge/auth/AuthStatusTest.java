package io.kedge.edge.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import org.junit.jupiter.api.Test;

class AuthStatusTest {
  static final UserInfo SA = UserInfo.serviceAccount("ns", "sa", "u", "", "");

  @Test
  void forbiddenListInNamespace() {
    var s =
        AuthStatus.forbidden(
            RequestAttributesResolver.resolve(SA, "GET", "/api/v1/namespaces/ns/configmaps", ""),
            "");
    assertThat(Json.string(s))
        .isEqualTo(
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                + "\"message\":\"configmaps is forbidden: User \\\"system:serviceaccount:ns:sa\\\" cannot"
                + " list resource \\\"configmaps\\\" in API group \\\"\\\" in the namespace \\\"ns\\\"\","
                + "\"reason\":\"Forbidden\",\"details\":{\"kind\":\"configmaps\"},\"code\":403}");
  }

  @Test
  void forbiddenNamedGroupedClusterScopedAndSubresource() {
    var s =
        AuthStatus.forbidden(
            RequestAttributesResolver.resolve(
                SA, "PUT", "/apis/apps/v1/namespaces/ns/deployments/d/scale", ""),
            "");
    assertThat(s.get("message").asString())
        .isEqualTo(
            "deployments.apps \"d\" is forbidden: User \"system:serviceaccount:ns:sa\" cannot update"
                + " resource \"deployments/scale\" in API group \"apps\" in the namespace \"ns\"");
    assertThat(Json.string(s.get("details")))
        .isEqualTo("{\"name\":\"d\",\"group\":\"apps\",\"kind\":\"deployments\"}");
    var n =
        AuthStatus.forbidden(
            RequestAttributesResolver.resolve(SA, "GET", "/api/v1/nodes", ""), "x");
    assertThat(n.get("message").asString())
        .isEqualTo(
            "nodes is forbidden: User \"system:serviceaccount:ns:sa\" cannot list resource \"nodes\""
                + " in API group \"\" at the cluster scope: x");
  }

  @Test
  void forbiddenPath() {
    var s = AuthStatus.forbidden(RequestAttributes.nonResource(SA, "get", "/x"), "");
    assertThat(s.get("message").asString())
        .isEqualTo("forbidden: User \"system:serviceaccount:ns:sa\" cannot get path \"/x\"");
    assertThat(Json.string(s.get("details"))).isEqualTo("{}");
    var esc = AuthStatus.forbidden(RequestAttributes.nonResource(SA, "get", "/<b>&"), "");
    assertThat(esc.get("message").asString()).endsWith("path \"/&lt;b&gt;&amp;\"");
  }

  @Test
  void unauthorized() {
    assertThat(Json.string(AuthStatus.unauthorized()))
        .isEqualTo(
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                + "\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}");
  }
}
