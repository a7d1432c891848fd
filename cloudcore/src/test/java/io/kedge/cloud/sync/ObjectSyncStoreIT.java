package io.kedge.cloud.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.Sources;
import io.kedge.testkit.KedgeManifests;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

/**
 * What the edge holds, as the ObjectSync records tell it, for a message decided from an earlier
 * view of the ACKs (the SyncController's resends): a version or a deletion the edge acknowledged
 * meanwhile is held, so that it is not sent twice.
 */
@WithControlPlane
class ObjectSyncStoreIT {
  static Message pod(String op, String uid, String rv) {
    ObjectNode o = Json.object();
    o.putObject("metadata").put("name", "p").put("namespace", "default").put("uid", uid);
    return new Message(
        MessageHeader.create().withResourceVersion(rv),
        new MessageRoute(Sources.EDGE_CONTROLLER, Sources.GROUP_RESOURCE, op, "default/pod/p"),
        o);
  }

  @Test
  void aDeletionTheEdgeAcknowledgedIsHeld(KubernetesClient admin) {
    KedgeManifests.apply(admin, Path.of(System.getProperty("kedge.home")));
    String node = "sync-" + UUID.randomUUID().toString().substring(0, 8);
    String uid = UUID.randomUUID().toString();
    ObjectSyncStore store = new ObjectSyncStore(admin);
    store.start();
    try {
      store.acknowledged(node, pod(Operations.INSERT, uid, "10"));
      Waits.until(
          "the ObjectSync of version 10",
          Duration.ofSeconds(30),
          () ->
              store.forNode(node).stream()
                  .anyMatch(s -> s.uid().equals(uid) && s.resourceVersion().equals("10")));
      // the edge has the object: a deletion is news to it, an older version is not
      assertThat(store.holds(node, pod(Operations.DELETE, uid, "10"))).isFalse();
      assertThat(store.holds(node, pod(Operations.UPDATE, uid, "9"))).isTrue();
      assertThat(store.holds(node, pod(Operations.UPDATE, uid, "11"))).isFalse();

      store.acknowledged(node, pod(Operations.DELETE, uid, "12"));
      // at once, from what this process recorded, and after the record is gone
      assertThat(store.holds(node, pod(Operations.DELETE, uid, "10"))).isTrue();
      Waits.until(
          "the ObjectSync removed",
          Duration.ofSeconds(30),
          () ->
              store.forNode(node).isEmpty()
                  && admin
                          .genericKubernetesResources(
                              "reliablesyncs.kubeedge.io/v1alpha1", "ObjectSync")
                          .inNamespace("default")
                          .withName(node + "." + uid)
                          .get()
                      == null);
      Waits.until(
          "the deletion held once the cache shows it",
          Duration.ofSeconds(30),
          () -> store.holds(node, pod(Operations.DELETE, uid, "10")));
    } finally {
      store.close();
    }
  }
}
