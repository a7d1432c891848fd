package io.kedge.edge.metaserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Lists written as the apiserver writes them, from the objects as the store keeps them. */
class EncodingTest {
  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String s(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void anObjectLosesItsLeadingTypeWithTheRestKeptByteForByte() {
    String rest =
        "\"metadata\":{\"name\":\"c1\",\"labels\":{\"kind\":\"x\"}},\"data\":{\"a\":\"b\"}}";
    // as the apiserver writes an object, and as the store puts the type when it adds it
    assertThat(s(Encoding.untyped(b("{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\"," + rest))))
        .isEqualTo("{" + rest);
    assertThat(s(Encoding.untyped(b("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"," + rest))))
        .isEqualTo("{" + rest);
  }

  @Test
  void anObjectWrittenOtherwiseIsRewrittenWithoutItsType() {
    for (String o :
        List.of(
            "{ \"kind\": \"ConfigMap\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": \"c1\"}}",
            "{\"metadata\":{\"name\":\"c1\"},\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"}",
            "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c1\"},\"apiVersion\":\"v1\"}",
            "{\"kind\":\"Config\\u004dap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"c1\"}}",
            "{\"kind\":\"ConfigMap\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c1\"}}")) {
      JsonNode n = Json.parse(Encoding.untyped(b(o)));
      assertThat(n.has("kind")).as(o).isFalse();
      assertThat(n.has("apiVersion")).as(o).isFalse();
      assertThat(n.path("metadata").path("name").asString()).as(o).isEqualTo("c1");
    }
    byte[] none = b("{\"metadata\":{\"name\":\"c1\"}}");
    assertThat(Encoding.untyped(none)).isSameAs(none);
  }

  private static JsonNode list(
      boolean custom, String cont, long remaining, Negotiation.Choice choice, byte[]... items) {
    return Json.parse(
        Encoding.list(
            custom ? "Widget" : "ConfigMap",
            custom ? "example.com/v1" : "v1",
            custom,
            "42",
            cont,
            remaining,
            List.of(items),
            choice,
            null));
  }

  @Test
  void aBuiltInTypesListHasItemsWithoutTypeAndCountsWhatRemainsWithAToken() {
    byte[] c1 = b("{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"c1\"}}");
    JsonNode paged = list(false, "tok", 3, Negotiation.JSON, c1);
    assertThat(paged.path("kind").asString()).isEqualTo("ConfigMapList");
    assertThat(paged.path("apiVersion").asString()).isEqualTo("v1");
    assertThat(Json.string(paged.path("metadata")))
        .isEqualTo("{\"resourceVersion\":\"42\",\"continue\":\"tok\",\"remainingItemCount\":3}");
    assertThat(Json.string(paged.path("items").get(0)))
        .isEqualTo("{\"metadata\":{\"name\":\"c1\"}}");
    // not counted (selectors): no count; the last page: no token, no count
    assertThat(Json.string(list(false, "tok", -1, Negotiation.JSON, c1).path("metadata")))
        .isEqualTo("{\"resourceVersion\":\"42\",\"continue\":\"tok\"}");
    assertThat(Json.string(list(false, "", -1, Negotiation.JSON, c1).path("metadata")))
        .isEqualTo("{\"resourceVersion\":\"42\"}");
    // YAML is the same list
    String yaml =
        s(
            Encoding.list(
                "ConfigMap",
                "v1",
                false,
                "42",
                "tok",
                3,
                List.of(c1),
                new Negotiation.Choice(Negotiation.Format.YAML, "", ""),
                null));
    assertThat(yaml).contains("remainingItemCount: 3").doesNotContain("kind: ConfigMap\n");
  }

  @Test
  void aCustomResourcesListKeepsItsItemsTypesAndAlwaysHasAContinue() {
    byte[] w1 =
        b("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w1\"}}");
    JsonNode last = list(true, "", -1, Negotiation.JSON, w1);
    assertThat(last.path("kind").asString()).isEqualTo("WidgetList");
    assertThat(Json.string(last.path("metadata")))
        .isEqualTo("{\"continue\":\"\",\"resourceVersion\":\"42\"}");
    assertThat(last.path("items").get(0).path("kind").asString()).isEqualTo("Widget");
    assertThat(last.path("items").get(0).path("apiVersion").asString()).isEqualTo("example.com/v1");
    assertThat(Json.string(list(true, "tok", 1, Negotiation.JSON, w1).path("metadata")))
        .isEqualTo("{\"continue\":\"tok\",\"remainingItemCount\":1,\"resourceVersion\":\"42\"}");
  }

  @Test
  void aTableCountsWhatRemainsAndItsRowsKeepTheFullObject() {
    byte[] c1 = b("{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"c1\"}}");
    Negotiation.Choice table = new Negotiation.Choice(Negotiation.Format.TABLE, "v1", "");
    JsonNode t =
        Json.parse(
            Encoding.list("ConfigMap", "v1", false, "42", "tok", 2, List.of(c1), table, "Object"));
    assertThat(Json.string(t.path("metadata")))
        .isEqualTo("{\"resourceVersion\":\"42\",\"continue\":\"tok\",\"remainingItemCount\":2}");
    // the apiserver's rows with includeObject=Object carry the object with its type
    assertThat(t.path("rows").get(0).path("object").path("kind").asString()).isEqualTo("ConfigMap");
  }
}
