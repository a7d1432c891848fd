package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.cloud.kube.ApiStatusException;
import io.kedge.protocol.Json;
import io.kedge.protocol.application.Application;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class RequestTranslatorTest {

  private static RequestTranslator.Translated kubeEdge(
      String verb, String key, String option, String body, String sub) {
    return RequestTranslator.translate(
        SimulatedMetaServer.kubeEdgeApp(verb, key, option, body, sub));
  }

  private static RequestTranslator.Translated kedge(
      String method, String pq, String ct, String body) {
    return RequestTranslator.translate(
        SimulatedMetaServer.kedge(
            method, pq, "", ct, body == null ? null : body.getBytes(StandardCharsets.UTF_8), "t"));
  }

  @Test
  void recordedKubeEdgeGetAndList() {
    var get = kubeEdge("get", "/core/v1/configmaps/demo/cfg1", "{}", null, "");
    assertThat(get.http().method()).isEqualTo("GET");
    assertThat(get.http().pathAndQuery()).isEqualTo("/api/v1/namespaces/demo/configmaps/cfg1");
    assertThat(get.http().accept()).isEqualTo("application/json");
    assertThat(get.kubeEdge()).isTrue();
    var list =
        kubeEdge(
            "list",
            "/apps/v1/deployments/null/null",
            "{\"labelSelector\":\"app=web\",\"limit\":500,\"watch\":false,\"resourceVersion\":\"\"}",
            null,
            "");
    assertThat(list.http().path()).isEqualTo("/apis/apps/v1/deployments");
    assertThat(list.http().query()).isEqualTo("labelSelector=app%3Dweb&limit=500");
  }

  @Test
  void recordedKubeEdgeWritesBecomeTheirHttpRequests() {
    var create =
        kubeEdge(
            "create",
            "/core/v1/configmaps/demo/null",
            "{\"kind\":\"CreateOptions\",\"apiVersion\":\"meta.k8s.io/v1\",\"dryRun\":[\"All\"],"
                + "\"fieldManager\":\"m\"}",
            "{\"metadata\":{\"name\":\"x\"}}",
            "");
    assertThat(create.http().method()).isEqualTo("POST");
    assertThat(create.http().pathAndQuery())
        .isEqualTo("/api/v1/namespaces/demo/configmaps?dryRun=All&fieldManager=m");
    assertThat(create.http().contentType()).isEqualTo("application/json");

    // golden seq 1454: a merge patch
    String patchInfo =
        "{\"Name\":\"made-at-edge\",\"PatchType\":\"application/merge-patch+json\",\"Data\":\""
            + Base64.getEncoder().encodeToString("{\"data\":{\"b\":\"2\"}}".getBytes())
            + "\",\"Options\":{\"kind\":\"PatchOptions\",\"apiVersion\":\"meta.k8s.io/v1\"},"
            + "\"Subresources\":[\"\"]}";
    var patch = kubeEdge("patch", "/core/v1/configmaps/demo/made-at-edge", patchInfo, null, "");
    assertThat(patch.http().method()).isEqualTo("PATCH");
    assertThat(patch.http().path()).isEqualTo("/api/v1/namespaces/demo/configmaps/made-at-edge");
    assertThat(patch.http().query()).isEmpty();
    assertThat(patch.http().contentType()).isEqualTo("application/merge-patch+json");
    assertThat(new String(patch.http().body())).isEqualTo("{\"data\":{\"b\":\"2\"}}");

    var status =
        kubeEdge(
            "updatestatus", "/core/v1/pods/demo/null", "{}", "{\"metadata\":{\"name\":\"p\"}}", "");
    assertThat(status.http().method()).isEqualTo("PUT");
    assertThat(status.http().path()).isEqualTo("/api/v1/namespaces/demo/pods/p/status");

    var delete =
        kubeEdge(
            "delete",
            "/core/v1/configmaps/demo/made-at-edge",
            "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"meta.k8s.io/v1\"}",
            null,
            "");
    assertThat(delete.http().method()).isEqualTo("DELETE");
    assertThat(Json.parse(delete.http().body()).path("kind").asString()).isEqualTo("DeleteOptions");

    var dc =
        kubeEdge(
            "deletecollection",
            "/core/v1/configmaps/demo/null",
            "{\"labelSelector\":\"x=y\"}",
            "{\"propagationPolicy\":\"Background\"}",
            "");
    assertThat(dc.http().pathAndQuery())
        .isEqualTo("/api/v1/namespaces/demo/configmaps?labelSelector=x%3Dy");
  }

  @Test
  void kubeEdgeWatchAndRawPaths() {
    var w =
        kubeEdge(
            "watch",
            "/core/v1/configmaps/demo/null",
            "{\"watch\":true,\"labelSelector\":\"a=b\",\"fieldSelector\":\"metadata.name=x\"}",
            null,
            "");
    assertThat(w.watch()).isNotNull();
    assertThat(w.watch().namespace()).isEqualTo("demo");
    assertThat(w.watch().name()).isEqualTo("x");
    assertThat(w.watch().labels().toString()).isEqualTo("a=b");
    var version = kubeEdge("get", "/version", null, null, "");
    assertThat(version.http().path()).isEqualTo("/version");
    assertThat(version.watch()).isNull();
    assertThatThrownBy(() -> kubeEdge("create", "/api/v1", null, "{}", ""))
        .isInstanceOfSatisfying(ApiStatusException.class, e -> assertThat(e.code()).isEqualTo(405));
  }

  @Test
  void kubeEdgeBadInput() {
    assertThatThrownBy(() -> kubeEdge("frobnicate", "/core/v1/pods/demo/p", null, null, ""))
        .isInstanceOfSatisfying(ApiStatusException.class, e -> assertThat(e.code()).isEqualTo(405));
    assertThatThrownBy(() -> kubeEdge("get", "/core/v1/pods", null, null, ""))
        .isInstanceOfSatisfying(ApiStatusException.class, e -> assertThat(e.code()).isEqualTo(400));
    assertThatThrownBy(() -> kubeEdge("list", "/core/v1/pods/demo/null", "{not json", null, ""))
        .isInstanceOfSatisfying(ApiStatusException.class, e -> assertThat(e.code()).isEqualTo(400));
    assertThatThrownBy(() -> kubeEdge("patch", "/core/v1/pods/demo/p", "{}", null, ""))
        .isInstanceOfSatisfying(ApiStatusException.class, e -> assertThat(e.code()).isEqualTo(400));
    assertThatThrownBy(
            () ->
                kubeEdge(
                    "watch", "/core/v1/pods/demo/null", "{\"labelSelector\":\"a in b\"}", null, ""))
        .isInstanceOfSatisfying(ApiStatusException.class, e -> assertThat(e.code()).isEqualTo(400));
    assertThatThrownBy(() -> kubeEdge("update", "/core/v1/pods/demo/null", "{}", "{}", ""))
        .isInstanceOfSatisfying(ApiStatusException.class, e -> assertThat(e.code()).isEqualTo(400));
  }

  @Test
  void kedgeRequestsAreReplayedAsTheyCame() {
    var apply =
        kedge(
            "PATCH",
            "/api/v1/namespaces/demo/configmaps/c?fieldManager=fabric8&dryRun=All",
            "application/apply-patch+yaml",
            "data: {a: b}\n");
    assertThat(apply.http().method()).isEqualTo("PATCH");
    assertThat(apply.http().query()).isEqualTo("fieldManager=fabric8&dryRun=All");
    assertThat(apply.http().contentType()).isEqualTo("application/apply-patch+yaml");
    assertThat(new String(apply.http().body())).isEqualTo("data: {a: b}\n");
    assertThat(apply.watch()).isNull();
    assertThat(apply.kubeEdge()).isFalse();

    var watch =
        kedge(
            "GET",
            "/api/v1/namespaces/demo/configmaps?watch=True&labelSelector=app%3Dweb",
            "",
            null);
    assertThat(watch.watch()).isNotNull();
    assertThat(watch.watch().namespace()).isEqualTo("demo");
    assertThat(watch.watch().labels().toString()).isEqualTo("app=web");
    var single =
        kedge(
            "GET",
            "/api/v1/namespaces/demo/configmaps?watch=1&fieldSelector=metadata.name%3Dx",
            "",
            null);
    assertThat(single.watch().name()).isEqualTo("x");
    var get = kedge("GET", "/api/v1/namespaces/demo/configmaps", "", "ignored");
    assertThat(get.watch()).isNull();
    assertThat(get.http().body()).isNull();
  }

  @Test
  void kedgeBadInput() {
    assertThatThrownBy(() -> kedge("OPTIONS", "/api/v1/pods", "", null))
        .isInstanceOfSatisfying(ApiStatusException.class, e -> assertThat(e.code()).isEqualTo(405));
    assertThatThrownBy(() -> kedge("POST", "/version", "application/json", "{}"))
        .isInstanceOfSatisfying(ApiStatusException.class, e -> assertThat(e.code()).isEqualTo(405));
    assertThatThrownBy(() -> kedge("GET", "/api/v1/namespaces/d/pods/p/log?follow=true", "", null))
        .isInstanceOfSatisfying(ApiStatusException.class, e -> assertThat(e.code()).isEqualTo(400));
    assertThatThrownBy(() -> kedge("POST", "/api/v1/namespaces/d/pods/p/exec?command=sh", "", null))
        .isInstanceOfSatisfying(ApiStatusException.class, e -> assertThat(e.code()).isEqualTo(403));
    assertThatThrownBy(() -> kedge("GET", "/metrics", "", null))
        .isInstanceOfSatisfying(ApiStatusException.class, e -> assertThat(e.code()).isEqualTo(404));
  }

  @Test
  void optionsBecomeQueryParameters() {
    assertThat(
            RequestTranslator.query(
                Json.parse(
                    "{\"kind\":\"ListOptions\",\"apiVersion\":\"meta.k8s.io/v1\",\"timeoutSeconds\":5,"
                        + "\"allowWatchBookmarks\":true,\"dryRun\":[\"All\"],\"preconditions\":{\"uid\":\"u\"}}"),
                java.util.Set.of("allowWatchBookmarks")))
        .isEqualTo("timeoutSeconds=5&dryRun=All");
  }

  @Test
  void applicationIdAndNodeAreKept() {
    Application a = SimulatedMetaServer.kubeEdgeApp("get", "/core/v1/pods/demo/p", null, null, "");
    assertThat(RequestTranslator.translate(a).verb()).isEqualTo("get");
  }
}
