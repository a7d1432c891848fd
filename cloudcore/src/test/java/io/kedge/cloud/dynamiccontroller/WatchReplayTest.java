package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.cloud.kube.ApiStatusException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class WatchReplayTest {
  static String event(String type, String name, long rv) {
    return "{\"type\":\""
        + type
        + "\",\"object\":{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\""
        + name
        + "\",\"namespace\":\"a\",\"resourceVersion\":\""
        + rv
        + "\"}}}\n";
  }

  @Test
  void eventsAfterTheVersionInOrderWithoutBookmarks() {
    String body =
        event("MODIFIED", "c1", 10)
            + event("ADDED", "c2", 11)
            + "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":"
            + "{\"resourceVersion\":\"12\"}}}\n"
            + event("DELETED", "c2", 13);
    assertThat(WatchReplay.parse(body.getBytes(StandardCharsets.UTF_8), 10))
        .extracting(
            e ->
                e.type()
                    + " "
                    + e.object().at("/metadata/name").asString()
                    + "@"
                    + e.resourceVersion())
        .containsExactly("ADDED c2@11", "DELETED c2@13");
  }

  @Test
  void anErrorEventFailsWithItsStatus() {
    String body =
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
            + "\"status\":\"Failure\",\"message\":\"too old resource version: 1 (300)\","
            + "\"reason\":\"Expired\",\"code\":410}}\n";
    assertThatThrownBy(() -> WatchReplay.parse(body.getBytes(StandardCharsets.UTF_8), 1))
        .isInstanceOfSatisfying(
            ApiStatusException.class,
            e -> {
              assertThat(e.code()).isEqualTo(410);
              assertThat(e.status().path("reason").asString()).isEqualTo("Expired");
            });
  }

  @Test
  void onlyPositiveKedgeVersionsResume() {
    assertThat(
            DynamicController.resumeFrom(
                SimulatedMetaServer.kedge(
                    "GET", "/api/v1/configmaps?watch=true&resourceVersion=42", "", "", null, "")))
        .isEqualTo(42);
    assertThat(
            DynamicController.resumeFrom(
                SimulatedMetaServer.kedge(
                    "GET", "/api/v1/configmaps?watch=true&resourceVersion=0", "", "", null, "")))
        .isZero();
    assertThat(
            DynamicController.resumeFrom(
                SimulatedMetaServer.kedge(
                    "GET", "/api/v1/configmaps?watch=true", "", "", null, "")))
        .isZero();
    assertThat(
            DynamicController.resumeFrom(
                SimulatedMetaServer.kubeEdgeApp(
                    "watch",
                    "/core/v1/configmaps/null/null",
                    "{\"resourceVersion\":\"42\"}",
                    null,
                    "")))
        .isZero();
  }
}
