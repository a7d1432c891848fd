package io.kedge.cloud.sync;

import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * The current state of objects of one kind, as the component that sends them knows it (usually an
 * informer cache): what the SyncController compares acknowledged versions with.
 */
@FunctionalInterface
public interface ObjectLookup {
  /**
   * The object as JSON (with metadata.uid and resourceVersion), or empty when it does not exist.
   */
  Optional<JsonNode> get(String namespace, String name);
}
