package io.kedge.edge.edged;

import io.kedge.edge.hub.CloudLink;
import io.kedge.edge.hub.CloudLinkListener;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.message.Sources;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.node.StringNode;

/**
 * Reports pods to the cloud over the edge's link, in KubeEdge's messages: {@code edged/meta/patch
 * <ns>/podpatch/<name>} with the strategic-merge patch as a JSON string (the cloud answers {@code
 * {"Object":…,"Err":…}}) and {@code edged/meta/delete <ns>/pod/<name>} with DeleteOptions (grace 0,
 * uid precondition).
 */
public final class CloudPodStatusSink implements PodStatusSink {
  private final CloudLink link;
  private final Duration timeout;

  public CloudPodStatusSink(CloudLink link, Duration timeout) {
    this.link = link;
    this.timeout = timeout;
  }

  @Override
  public CompletionStage<Void> patchStatus(
      String namespace, String name, String uid, String patch) {
    Message m =
        Message.of(
            new MessageRoute(
                Sources.EDGED,
                Sources.GROUP_META,
                Operations.PATCH,
                ResourcePath.format(namespace, ResourcePath.POD_PATCH, name)),
            StringNode.valueOf(patch));
    return link.request(m, timeout).thenCompose(CloudPodStatusSink::checkReply);
  }

  @Override
  public CompletionStage<Void> deletePod(String namespace, String name, String uid) {
    ObjectNode options = Json.object();
    options.put("gracePeriodSeconds", 0);
    options.putObject("preconditions").put("uid", uid);
    Message m =
        Message.of(
            new MessageRoute(
                Sources.EDGED,
                Sources.GROUP_META,
                Operations.DELETE,
                ResourcePath.format(namespace, ResourcePath.POD, name)),
            options);
    return link.request(m, timeout).thenCompose(CloudPodStatusSink::checkReply);
  }

  /** {@code edged/meta/insert <ns>/event/<name>}, as KubeEdge's edged sends events. */
  @Override
  public void createEvent(String namespace, JsonNode event) {
    String name = event.path("metadata").path("name").asString("");
    link.send(
        Message.of(
            new MessageRoute(
                Sources.EDGED,
                Sources.GROUP_META,
                Operations.INSERT,
                ResourcePath.format(namespace, ResourcePath.EVENT, name)),
            event));
  }

  /** {@code edged/meta/patch <ns>/event/<name>}, the strategic-merge patch as a JSON string. */
  @Override
  public void patchEvent(String namespace, String name, JsonNode patch) {
    link.send(
        Message.of(
            new MessageRoute(
                Sources.EDGED,
                Sources.GROUP_META,
                Operations.PATCH,
                ResourcePath.format(namespace, ResourcePath.EVENT, name)),
            StringNode.valueOf(Json.string(patch))));
  }

  @Override
  public void whenConnected(Runnable r) {
    link.addListener(
        new CloudLinkListener() {
          @Override
          public void connected() {
            r.run();
          }
        });
  }

  /** Replies are {@code "OK"}, {@code {"Object":…,"Err":null}}, or carry an error. */
  static CompletionStage<Void> checkReply(Message reply) {
    JsonNode c = reply.content();
    if (Operations.ERROR.equals(reply.operation())) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("cloud refused: " + reply.contentAsText()));
    }
    JsonNode err = c.path("Err");
    if (c.isObject() && !err.isMissingNode() && !err.isNull()) {
      String msg = err.path("ErrStatus").path("message").asString(Json.string(err));
      return CompletableFuture.failedFuture(new IllegalStateException("cloud refused: " + msg));
    }
    return CompletableFuture.completedFuture(null);
  }
}
