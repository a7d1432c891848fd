package io.kedge.edge.edged;

import java.util.concurrent.CompletionStage;

/**
 * Where Edged reports pods to: the cloud, as the node (KubeEdge's {@code edged/meta/patch
 * <ns>/podpatch/<name>} and {@code edged/meta/delete <ns>/pod/<name>} messages).
 */
public interface PodStatusSink {

  /**
   * Applies a strategic-merge patch of the pod (its {@code status}); completes when the cloud has
   * applied it, exceptionally when offline or refused.
   */
  CompletionStage<Void> patchStatus(String namespace, String name, String uid, String patch);

  /**
   * Asks the cloud to delete the pod object now that its containers are stopped (grace period 0,
   * precondition: this uid).
   */
  CompletionStage<Void> deletePod(String namespace, String name, String uid);

  /**
   * Creates an event (a {@code v1} Event in {@code namespace}); fire and forget, may throw when
   * offline.
   */
  default void createEvent(String namespace, tools.jackson.databind.JsonNode event) {}

  /** Patches an event created before (its count and last time); fire and forget. */
  default void patchEvent(String namespace, String name, tools.jackson.databind.JsonNode patch) {}

  /** Runs {@code r} whenever the cloud becomes reachable again (to resend what failed). */
  default void whenConnected(Runnable r) {}
}
