package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.cloud.kube.ApiResource;
import io.kedge.cloud.kube.SharedInformers.EventType;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.selector.FieldSelector;
import io.kedge.protocol.selector.LabelSelector;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class WatchRegistryTest {
  private static final ApiResource CM =
      new ApiResource("", "v1", "configmaps", "ConfigMap", true, List.of("watch"));

  private static JsonNode cm(String ns, String name, String app) {
    return Json.parse(
        "{\"metadata\":{\"namespace\":\""
            + ns
            + "\",\"name\":\""
            + name
            + "\",\"labels\":{\"app\":\""
            + app
            + "\"}}}");
  }

  private static WatchRegistry.Listener listener(String ns, String labels) {
    return new WatchRegistry.Listener(
        "n",
        "id",
        CM,
        ns,
        null,
        LabelSelector.parse(labels),
        FieldSelector.everything(),
        new Caller.Node("n"),
        false);
  }

  @Test
  void selectorTransitionsBecomeInsertsAndDeletes() {
    WatchRegistry.Listener l = listener("demo", "app=web");
    assertThat(WatchRegistry.opFor(l, EventType.ADDED, null, cm("demo", "a", "web")))
        .isEqualTo(Operations.INSERT);
    assertThat(WatchRegistry.opFor(l, EventType.ADDED, null, cm("other", "a", "web"))).isNull();
    assertThat(
            WatchRegistry.opFor(
                l, EventType.MODIFIED, cm("demo", "a", "web"), cm("demo", "a", "web")))
        .isEqualTo(Operations.UPDATE);
    assertThat(
            WatchRegistry.opFor(
                l, EventType.MODIFIED, cm("demo", "a", "db"), cm("demo", "a", "web")))
        .isEqualTo(Operations.INSERT);
    assertThat(
            WatchRegistry.opFor(
                l, EventType.MODIFIED, cm("demo", "a", "web"), cm("demo", "a", "db")))
        .isEqualTo(Operations.DELETE);
    assertThat(
            WatchRegistry.opFor(
                l, EventType.MODIFIED, cm("demo", "a", "db"), cm("demo", "a", "db")))
        .isNull();
    assertThat(WatchRegistry.opFor(l, EventType.DELETED, null, cm("demo", "a", "web")))
        .isEqualTo(Operations.DELETE);
  }

  @Test
  void aNodeThatStillSeesTheObjectThroughAnotherWatchGetsNoDelete() {
    assertThat(WatchRegistry.stronger(Operations.DELETE, Operations.UPDATE))
        .isEqualTo(Operations.UPDATE);
    assertThat(WatchRegistry.stronger(Operations.INSERT, Operations.DELETE))
        .isEqualTo(Operations.INSERT);
    assertThat(WatchRegistry.stronger(Operations.INSERT, Operations.UPDATE))
        .isEqualTo(Operations.UPDATE);
    assertThat(WatchRegistry.stronger(Operations.DELETE, Operations.DELETE))
        .isEqualTo(Operations.DELETE);
  }
}
