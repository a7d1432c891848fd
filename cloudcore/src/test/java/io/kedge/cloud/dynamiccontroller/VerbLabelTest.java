package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.application.Application;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The {@code verb} label of kedge_dynamiccontroller_requests_total: the apiserver's verb. */
class VerbLabelTest {

  private static String kedge(String method, String pathAndQuery) {
    Application app =
        SimulatedMetaServer.kedge(
            method,
            pathAndQuery,
            "",
            "application/json",
            method.equals("GET") ? null : "{}".getBytes(StandardCharsets.UTF_8),
            "t");
    return DynamicController.verbOf(app, RequestTranslator.translate(app));
  }

  @Test
  void kedgeRequestsAreNamedAsTheApiserverNamesThem() {
    assertThat(kedge("GET", "/api/v1/namespaces/a/configmaps/x")).isEqualTo("get");
    assertThat(kedge("GET", "/api/v1/namespaces/a/configmaps")).isEqualTo("list");
    assertThat(kedge("GET", "/api/v1/configmaps")).isEqualTo("list");
    assertThat(kedge("GET", "/api/v1/namespaces/a/configmaps?watch=true")).isEqualTo("watch");
    assertThat(kedge("GET", "/version")).isEqualTo("get");
    assertThat(kedge("POST", "/api/v1/namespaces/a/configmaps")).isEqualTo("create");
    assertThat(kedge("PUT", "/api/v1/namespaces/a/configmaps/x")).isEqualTo("update");
    assertThat(kedge("PATCH", "/api/v1/namespaces/a/configmaps/x")).isEqualTo("patch");
    assertThat(kedge("DELETE", "/api/v1/namespaces/a/configmaps/x")).isEqualTo("delete");
    assertThat(kedge("DELETE", "/api/v1/namespaces/a/configmaps")).isEqualTo("deletecollection");
  }

  @Test
  void kubeEdgeRequestsKeepTheirVerb() {
    Application app =
        SimulatedMetaServer.kubeEdgeApp("list", "/core/v1/configmaps/demo/null", "{}", null, "");
    assertThat(DynamicController.verbOf(app, RequestTranslator.translate(app))).isEqualTo("list");
  }
}
