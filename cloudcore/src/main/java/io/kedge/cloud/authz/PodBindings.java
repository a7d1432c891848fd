package io.kedge.cloud.authz;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.cloud.kube.ApiResource;
import io.kedge.cloud.kube.ApiStatusException;
import io.kedge.cloud.kube.SharedInformers;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Whether a pod-bound token may be used by a node: its pod (name and UID) must exist, run under the
 * token's ServiceAccount and be bound to that node. Pods are read from cloudcore's shared pod
 * informer (as the apiserver's Node authorizer reads its graph from informers); a pod the informer
 * has not seen yet is read directly. Tells subscribers when a pod goes away.
 */
public final class PodBindings implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PodBindings.class);

  public static final ApiResource PODS =
      new ApiResource("", "v1", "pods", "Pod", true, List.of("get", "list", "watch"));

  private final SharedInformers informers;
  private final KubernetesClient client;
  private final Executor blocking;
  private final List<BiConsumer<String, String>> goneListeners = new CopyOnWriteArrayList<>();
  private volatile SharedInformers.Handle pods;

  public PodBindings(SharedInformers informers, KubernetesClient client, Executor blocking) {
    this.informers = informers;
    this.client = client;
    this.blocking = blocking;
  }

  /** Starts following pods; the returned future completes once they are listed. */
  public CompletableFuture<Void> start() {
    SharedInformers.Handle h = informers.acquire(PODS);
    h.subscribe(
        (type, old, obj) -> {
          if (type == SharedInformers.EventType.DELETED) {
            String uid = obj.path("metadata").path("uid").asString("");
            LOG.debug("pod {}/{} ({}) is gone", ns(obj), name(obj), uid);
            for (BiConsumer<String, String> l : goneListeners) {
              l.accept(uid, nodeName(obj));
            }
          }
        });
    pods = h;
    return h.synced();
  }

  /**
   * {@code listener} gets the UID of every pod that is deleted, and the node it was bound to (empty
   * when none): the node may have lost access to what only that pod related it to.
   */
  public void onPodGone(BiConsumer<String, String> listener) {
    goneListeners.add(listener);
  }

  /**
   * Completes when {@code id}'s pod exists and runs on {@code node}; fails with a 401 (pod gone) or
   * 403 (another node) {@link ApiStatusException}.
   */
  public CompletableFuture<Void> check(PodTokenIdentity id, String node) {
    SharedInformers.Handle h = pods;
    JsonNode cached = h == null ? null : h.get(id.namespace(), id.podName());
    if (cached != null && uid(cached).equals(id.podUid())) {
      return verdict(id, node, nodeName(cached), serviceAccount(cached));
    }
    // Not (yet) seen by the informer, or seen with another UID: ask the apiserver.
    return CompletableFuture.supplyAsync(
            () -> client.pods().inNamespace(id.namespace()).withName(id.podName()).get(), blocking)
        .handle(
            (pod, t) -> {
              if (t != null) {
                throw ApiStatusException.from(t, client, "cannot read pod " + id.pod());
              }
              return pod;
            })
        .thenCompose(
            (Pod pod) -> {
              if (pod == null || !id.podUid().equals(pod.getMetadata().getUid())) {
                return gone(id);
              }
              String sa = pod.getSpec().getServiceAccountName();
              return verdict(id, node, pod.getSpec().getNodeName(), sa == null ? "default" : sa);
            });
  }

  private static CompletableFuture<Void> verdict(
      PodTokenIdentity id, String node, String podNode, String serviceAccount) {
    if (!id.serviceAccount().equals(serviceAccount)) {
      return CompletableFuture.failedFuture(
          ApiStatusException.of(
              401,
              "Unauthorized",
              "the token's service account "
                  + id.serviceAccount()
                  + " is not the one pod "
                  + id.pod()
                  + " runs as"));
    }
    if (!node.equals(podNode)) {
      return CompletableFuture.failedFuture(
          ApiStatusException.of(
              403,
              "Forbidden",
              "the token of pod "
                  + id.pod()
                  + " cannot be used from node "
                  + node
                  + ": the pod is not bound to this node"));
    }
    return CompletableFuture.completedFuture(null);
  }

  private static CompletableFuture<Void> gone(PodTokenIdentity id) {
    return CompletableFuture.failedFuture(
        ApiStatusException.of(
            401,
            "Unauthorized",
            "the pod " + id.pod() + " this token was issued for no longer exists"));
  }

  private static String uid(JsonNode pod) {
    return pod.path("metadata").path("uid").asString("");
  }

  private static String ns(JsonNode pod) {
    return pod.path("metadata").path("namespace").asString("");
  }

  private static String name(JsonNode pod) {
    return pod.path("metadata").path("name").asString("");
  }

  private static String nodeName(JsonNode pod) {
    return pod.path("spec").path("nodeName").asString("");
  }

  private static String serviceAccount(JsonNode pod) {
    String sa = pod.path("spec").path("serviceAccountName").asString("");
    return sa.isEmpty() ? "default" : sa;
  }

  @Override
  public void close() {
    SharedInformers.Handle h = pods;
    if (h != null) {
      h.close();
    }
  }
}
