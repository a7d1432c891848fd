package io.kedge.protocol.application;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.protocol.Json;
import io.kedge.protocol.message.GoldenSession;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class ApplicationTest {

  @Test
  void recordedApplicationsRoundTrip() {
    int apps = 0;
    for (GoldenSession.Line l : GoldenSession.lines()) {
      if (!l.isMessage() || !l.message().path("content").has("Key")) {
        continue;
      }
      apps++;
      JsonNode content = l.message().get("content");
      Application a = Application.fromJson(content);
      assertThat(a.toJson()).as("seq %d", l.seq()).isEqualTo(content);
      // and in the recorded key order (Go's field order)
      assertThat(Json.string(a.toJson())).as("seq %d", l.seq()).isEqualTo(Json.string(content));
      JsonNode decoded = l.raw().get("content_decoded");
      if (decoded != null && decoded.get("Option").isObject()) {
        assertThat(Json.parse(a.option())).isEqualTo(decoded.get("Option"));
      }
    }
    assertThat(apps).isEqualTo(14);
  }

  @Test
  void kedgeExtensionIsOptionalAndKeepsToken() {
    Application a =
        new Application(
            "id1",
            "/core/v1/configmaps/demo/null",
            "list",
            "edge-1",
            "{}".getBytes(StandardCharsets.UTF_8),
            null,
            "",
            null,
            ApplicationStatus.IN_APPLYING,
            "",
            null,
            null,
            KedgeExchange.request(
                "GET", "/api/v1/namespaces/demo/configmaps", "limit=5", "", "", "tok"));
    JsonNode j = a.toJson();
    assertThat(j.path("Kedge").path("token").asString()).isEqualTo("tok");
    assertThat(j.path("Kedge").has("code")).isFalse();
    assertThat(j.path("Error")).isEqualTo(Json.parse(Application.NO_ERROR_JSON));
    Application back = Application.fromJson(j);
    assertThat(back.kedge().query()).isEqualTo("limit=5");
    Application plain = Application.fromJson(Json.parse("{\"ID\":\"x\",\"Verb\":\"get\"}"));
    assertThat(plain.kedge()).isNull();
    assertThat(plain.toJson().has("Kedge")).isFalse();
  }

  @Test
  void patchInfoIsGosStruct() {
    PatchInfo pi =
        new PatchInfo(
            "cfg1",
            "application/merge-patch+json",
            "{\"data\":{}}".getBytes(StandardCharsets.UTF_8),
            Json.parse("{\"kind\":\"PatchOptions\"}"),
            java.util.List.of("status"));
    assertThat(Json.string(pi.toJson()))
        .isEqualTo(
            "{\"Name\":\"cfg1\",\"PatchType\":\"application/merge-patch+json\","
                + "\"Data\":\"eyJkYXRhIjp7fX0=\",\"Options\":{\"kind\":\"PatchOptions\"},"
                + "\"Subresources\":[\"status\"]}");
    PatchInfo back = PatchInfo.fromJson(pi.toJson());
    assertThat(back.data()).isEqualTo(pi.data());
    assertThat(back.subresources()).containsExactly("status");
    assertThat(PatchInfo.fromJson(Json.parse("null"))).isNull();
    PatchInfo empty = PatchInfo.fromJson(Json.parse("{\"Data\":null}"));
    assertThat(empty.data()).isNull();
    assertThat(Json.string(empty.toJson()))
        .isEqualTo(
            "{\"Name\":null,\"PatchType\":null,\"Data\":null,\"Options\":null,"
                + "\"Subresources\":null}");
    assertThatThrownBy(() -> PatchInfo.fromJson(Json.parse("{\"Data\":{}}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Data");
    assertThatThrownBy(() -> Application.fromJson(Json.parse("[1]")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Application.fromJson(Json.parse("{\"Key\":{\"a\":1}}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Key");
  }

  @Test
  void keys() {
    ApplicationKey k = ApplicationKey.parse("/core/v1/configmaps/demo/cfg1");
    assertThat(k.group()).isEmpty();
    assertThat(k.namespace()).isEqualTo("demo");
    assertThat(k.name()).isEqualTo("cfg1");
    assertThat(k.apiVersion()).isEqualTo("v1");
    assertThat(k.format()).isEqualTo("/core/v1/configmaps/demo/cfg1");
    ApplicationKey all = ApplicationKey.parse("/apps/v1/deployments/null/null");
    assertThat(all.namespace()).isNull();
    assertThat(all.apiVersion()).isEqualTo("apps/v1");
    assertThat(ApplicationKey.parse("/version")).isNull();
    assertThat(ApplicationKey.parse("/api/v1")).isNull();
  }
}
