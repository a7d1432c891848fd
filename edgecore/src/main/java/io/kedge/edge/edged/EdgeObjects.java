package io.kedge.edge.edged;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import tools.jackson.databind.JsonNode;

/**
 * What Edged reads from the edge's store: the node's pods (at start), and the ConfigMaps and
 * Secrets its pods use — from the local store, else asked from the cloud (and then kept in the
 * store), as KubeEdge's metamanager does. Empty means the object does not exist (or cannot be had
 * while offline).
 */
public interface EdgeObjects {
  /** The pods of this node as last stored. */
  List<JsonNode> pods();

  CompletionStage<Optional<JsonNode>> configMap(String namespace, String name);

  CompletionStage<Optional<JsonNode>> secret(String namespace, String name);
}
