package io.kedge.cloud.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import org.junit.jupiter.api.Test;

class SyncedObjectTest {
  static final String UID = "0b6c1c7e-1111-2222-3333-444455556666";

  @Test
  void namesAreNodeDotUidEvenWhenTheNodeHasDots() {
    String name = "edge.example.com." + UID;
    assertThat(SyncedObject.nodeOf(name)).isEqualTo("edge.example.com");
    assertThat(SyncedObject.uidOf(name)).isEqualTo(UID);
    assertThat(SyncedObject.nodeOf("no-uid-here")).isNull();
  }

  @Test
  void deliveredObjectsAreRecognised() {
    Message m =
        new Message(
            MessageHeader.create().withResourceVersion("42"),
            new MessageRoute("edgecontroller", "resource", "update", "demo/configmap/cfg"),
            Json.parse(
                "{\"metadata\":{\"name\":\"cfg\",\"namespace\":\"demo\",\"uid\":\""
                    + UID
                    + "\"}}"));
    assertThat(SyncedObject.fromDelivered("edge-1", m))
        .isEqualTo(new SyncedObject("edge-1", UID, "demo", "v1", "ConfigMap", "cfg", "42"));
    Message node =
        new Message(
            MessageHeader.create().withResourceVersion("7"),
            new MessageRoute("edgecontroller", "resource", "update", "null/node/edge-1"),
            Json.parse(
                "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"edge-1\",\"uid\":\""
                    + UID
                    + "\"}}"));
    assertThat(SyncedObject.fromDelivered("edge-1", node).clusterScoped()).isTrue();
    Message noUid =
        new Message(
            MessageHeader.create().withResourceVersion("7"),
            new MessageRoute("edgecontroller", "resource", "update", "demo/configmap/x"),
            Json.parse("{\"metadata\":{\"name\":\"x\"}}"));
    assertThat(SyncedObject.fromDelivered("edge-1", noUid)).isNull();
  }

  @Test
  void versionsCompareNumerically() {
    assertThat(SyncedObject.newer("10", "9")).isTrue();
    assertThat(SyncedObject.newer("9", "10")).isFalse();
    assertThat(SyncedObject.newer("5", "")).isTrue();
    assertThat(SyncedObject.newer("", "5")).isFalse();
  }
}
