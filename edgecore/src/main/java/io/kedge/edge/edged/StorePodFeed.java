package io.kedge.edge.edged;

import io.kedge.edge.store.EventType;
import io.kedge.edge.store.StoreEvent;
import io.kedge.edge.store.StoreListener;
import io.kedge.protocol.Json;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Tells Edged about committed pod changes of its node (MetaManager stores what the cloud sends;
 * Edged acts once it is durable, so a pod it runs is a pod it will find again after a restart).
 */
public final class StorePodFeed implements StoreListener {
  private final Edged edged;
  private final String nodeName;

  public StorePodFeed(Edged edged, String nodeName) {
    this.edged = edged;
    this.nodeName = nodeName;
  }

  @Override
  public void committed(List<StoreEvent> events) {
    for (StoreEvent e : events) {
      if (!e.gvr().equals(StoreEdgeObjects.PODS) || e.isSync() || e.object() == null) {
        continue;
      }
      JsonNode pod = Json.parse(e.object());
      String uid = pod.path("metadata").path("uid").asString("");
      boolean mine = nodeName.equals(pod.path("spec").path("nodeName").asString(""));
      if (e.type() == EventType.DELETED || !mine) {
        edged.podRemoved(e.namespace(), e.name(), uid);
      } else {
        edged.podUpserted(pod);
      }
    }
  }
}
