package io.kedge.cloud.dynamiccontroller;

import io.kedge.cloud.hub.EdgeMessenger;
import io.kedge.protocol.Json;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.status.KubeStatus;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Answers MetaServer traffic while {@code modules.dynamicController.enable} is false: every
 * Application is rejected with a 503 Status that says so (KubeEdge drops them and the edge times
 * out), every {@code watchapp/sync} entry is returned as failed. Cheap enough for CloudHub's I/O
 * thread.
 */
public final class DisabledDynamicController implements DynamicControllerModule {
  private static final Logger LOG = LoggerFactory.getLogger(DisabledDynamicController.class);
  static final String MESSAGE =
      "dynamicController is disabled in cloudcore (modules.dynamicController.enable: false)";

  private final EdgeMessenger messenger;

  public DisabledDynamicController(EdgeMessenger messenger) {
    this.messenger = messenger;
    LOG.info("dynamicController is disabled: edge API requests are answered with 503");
  }

  @Override
  public void handle(String node, Message msg) {
    ObjectNode status = KubeStatus.failure(503, "ServiceUnavailable", MESSAGE);
    if (ResourcePath.WATCHAPP_SYNC.equals(msg.resource())) {
      ObjectNode failed = Json.object();
      if (msg.content().isObject()) {
        for (Map.Entry<String, JsonNode> e : msg.content().properties()) {
          try {
            Application a = Application.fromJson(e.getValue()).withNodename(node);
            failed.set(e.getKey(), Replies.rejected(a, status, null).toJson());
          } catch (RuntimeException ex) {
            // not an Application: nothing to answer for it
          }
        }
      }
      messenger.send(node, Replies.syncResponse(msg, failed));
      return;
    }
    Application app;
    try {
      app = Application.fromJson(msg.content()).withNodename(node);
    } catch (RuntimeException e) {
      app =
          new Application(
              null, null, null, node, null, null, null, null, null, null, null, null, null);
    }
    LOG.debug("node {}: {} {} refused, dynamicController is disabled", node, app.verb(), app.key());
    messenger.send(node, Replies.applicationResponse(msg, Replies.rejected(app, status, null)));
  }

  @Override
  public void close() {}
}
