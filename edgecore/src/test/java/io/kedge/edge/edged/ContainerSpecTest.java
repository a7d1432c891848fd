package io.kedge.edge.edged;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import org.junit.jupiter.api.Test;

/** A running container is restarted for a changed spec, never for how the spec was written. */
class ContainerSpecTest {
  @Test
  void fieldOrderNullsAndEmptyValuesDoNotChangeTheSpec() {
    var a =
        Json.parse(
            "{\"name\":\"c\",\"image\":\"python:3\",\"command\":[\"a\",\"b\"],"
                + "\"env\":[],\"resources\":{},\"stdin\":null}");
    var b = Json.parse("{\"command\":[\"a\",\"b\"],\"image\":\"python:3\",\"name\":\"c\"}");
    assertThat(PodWorker.specOf(a)).isEqualTo(PodWorker.specOf(b));
  }

  @Test
  void aChangedValueOrArgumentOrderChangesTheSpec() {
    var a = Json.parse("{\"name\":\"c\",\"command\":[\"a\",\"b\"]}");
    assertThat(PodWorker.specOf(a))
        .isNotEqualTo(PodWorker.specOf(Json.parse("{\"name\":\"c\",\"command\":[\"b\",\"a\"]}")))
        .isNotEqualTo(PodWorker.specOf(Json.parse("{\"name\":\"d\",\"command\":[\"a\",\"b\"]}")));
  }
}
