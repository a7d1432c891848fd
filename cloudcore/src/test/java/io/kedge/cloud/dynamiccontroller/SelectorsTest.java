package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.protocol.Json;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class SelectorsTest {
  private static final JsonNode OBJ =
      Json.parse(
          "{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"demo\","
              + "\"labels\":{\"app\":\"web\",\"tier\":\"front\",\"replicas\":\"3\"}},"
              + "\"spec\":{\"nodeName\":\"edge-1\",\"hostNetwork\":true},\"status\":{\"phase\":\"Running\"}}");

  @Test
  void labelRequirements() {
    assertThat(LabelSelector.parse("").matches(OBJ)).isTrue();
    assertThat(LabelSelector.parse("app=web").matches(OBJ)).isTrue();
    assertThat(LabelSelector.parse("app==web,tier=front").matches(OBJ)).isTrue();
    assertThat(LabelSelector.parse("app=db").matches(OBJ)).isFalse();
    assertThat(LabelSelector.parse("app!=db").matches(OBJ)).isTrue();
    assertThat(LabelSelector.parse("missing!=x").matches(OBJ)).isTrue();
    assertThat(LabelSelector.parse("app in (web, db)").matches(OBJ)).isTrue();
    assertThat(LabelSelector.parse("app notin (web,db)").matches(OBJ)).isFalse();
    assertThat(LabelSelector.parse("missing notin (a)").matches(OBJ)).isTrue();
    assertThat(LabelSelector.parse("tier").matches(OBJ)).isTrue();
    assertThat(LabelSelector.parse("!tier").matches(OBJ)).isFalse();
    assertThat(LabelSelector.parse("!missing, app").matches(OBJ)).isTrue();
    assertThat(LabelSelector.parse("replicas>2").matches(OBJ)).isTrue();
    assertThat(LabelSelector.parse("replicas<3").matches(OBJ)).isFalse();
    assertThat(LabelSelector.parse("example.com/role").matches(OBJ)).isFalse();
  }

  @Test
  void badLabelSelectors() {
    for (String bad : new String[] {"app=", "=web", "app in web", "app in (a", "a b", "app=(x)"}) {
      if (bad.equals("app=")) {
        assertThat(LabelSelector.parse(bad).matches(OBJ)).isFalse(); // empty value is valid
        continue;
      }
      assertThatThrownBy(() -> LabelSelector.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void fieldSelectors() {
    assertThat(FieldSelector.parse("metadata.name=web-1").matches(OBJ)).isTrue();
    assertThat(FieldSelector.parse("metadata.namespace==demo,spec.nodeName=edge-1").matches(OBJ))
        .isTrue();
    assertThat(FieldSelector.parse("status.phase!=Running").matches(OBJ)).isFalse();
    assertThat(FieldSelector.parse("spec.hostNetwork=true").matches(OBJ)).isTrue();
    assertThat(FieldSelector.parse("spec.missing=").matches(OBJ)).isTrue();
    assertThat(FieldSelector.parse("metadata.name=web\\,1").matches(OBJ)).isFalse();
    assertThat(FieldSelector.parse("metadata.name=web-1").required("metadata.name"))
        .isEqualTo("web-1");
    assertThat(FieldSelector.parse("metadata.name!=web-1").required("metadata.name")).isNull();
    assertThatThrownBy(() -> FieldSelector.parse("metadata.name"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FieldSelector.parse("=x"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
