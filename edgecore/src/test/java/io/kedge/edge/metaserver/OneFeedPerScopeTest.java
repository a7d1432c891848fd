package io.kedge.edge.metaserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/**
 * Objects of a scope the edge keeps current reach the store only from the watch keeping it so: a
 * newer version arriving another way first (EdgeController's copy, the SyncController's catch-up)
 * would make the versions the watch still brings look stale, and watches would miss them.
 */
class OneFeedPerScopeTest {
  static final String CMS = "/api/v1/namespaces/a/configmaps";

  @TempDir Path dir;
  MetaServerRig rig;

  @BeforeEach
  void start() {
    rig = new MetaServerRig(dir);
  }

  @AfterEach
  void stop() {
    rig.close();
  }

  Message change(String source, long rv, String value) {
    ObjectNode cm = Json.object();
    cm.put("kind", "ConfigMap").put("apiVersion", "v1");
    cm.putObject("metadata")
        .put("name", "cm1")
        .put("namespace", "a")
        .put("uid", "uid-a-cm1")
        .put("resourceVersion", Long.toString(rv));
    cm.putObject("data").put("k", value);
    return new Message(
        MessageHeader.create().withResourceVersion(Long.toString(rv)),
        new MessageRoute(source, "resource", "update", "a/configmap/cm1"),
        cm);
  }

  @Test
  void aNewerVersionFromEdgeControllerDoesNotOvertakeTheWatchsVersions() throws Exception {
    rig.cloud.put("a", "cm1", "k", "0");
    try (MetaServerRig.Stream w = rig.watch(CMS + "?watch=true")) {
      assertThat(w.nextChange().path("type").asString()).isEqualTo("ADDED");
      long v = rig.cloud.resourceVersion();
      // EdgeController's copy (the object is also used by a pod on the node) comes first ...
      rig.cloud
          .downstream
          .handle(change("edgecontroller", v + 3, "3"))
          .toCompletableFuture()
          .join();
      // ... then the watch's versions, in order
      for (int i = 1; i <= 3; i++) {
        rig.cloud
            .downstream
            .handle(change("dynamiccontroller", v + i, Integer.toString(i)))
            .toCompletableFuture()
            .join();
      }
      assertThat(w.nextChanges(3)).containsExactly("MODIFIED cm1", "MODIFIED cm1", "MODIFIED cm1");
    }
    assertThat(rig.store.events(io.kedge.edge.store.Gvr.core("configmaps"), 0, 100))
        .filteredOn(e -> e.name().equals("cm1"))
        .extracting(e -> e.resourceVersion())
        .endsWith(
            rig.cloud.resourceVersion() + 1,
            rig.cloud.resourceVersion() + 2,
            rig.cloud.resourceVersion() + 3);
  }
}
