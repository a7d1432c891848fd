package io.kedge.protocol.message;

import java.util.UUID;

/**
 * A message header as KubeEdge's beehive model has it: {@code msg_id} (UUID v4), {@code
 * parent_msg_id} (the request or message this answers; empty when none), {@code timestamp} (Unix
 * ms), {@code resourceversion} (of the object carried; empty when none), {@code sync} (always false
 * on the wire).
 */
public record MessageHeader(
    String id, String parentId, long timestamp, String resourceVersion, boolean sync) {

  public MessageHeader {
    id = id == null ? "" : id;
    parentId = parentId == null ? "" : parentId;
    resourceVersion = resourceVersion == null ? "" : resourceVersion;
  }

  /** A fresh header: new id, now, no parent. */
  public static MessageHeader create() {
    return new MessageHeader(
        UUID.randomUUID().toString(), "", System.currentTimeMillis(), "", false);
  }

  public static MessageHeader replyTo(String parentId) {
    return new MessageHeader(
        UUID.randomUUID().toString(), parentId, System.currentTimeMillis(), "", false);
  }

  public MessageHeader withResourceVersion(String rv) {
    return new MessageHeader(id, parentId, timestamp, rv, sync);
  }

  public MessageHeader withParentId(String parent) {
    return new MessageHeader(id, parent, timestamp, resourceVersion, sync);
  }

  public boolean hasParent() {
    return !parentId.isEmpty();
  }
}
