package io.kedge.cloud.edgecontroller;

import io.kedge.cloud.hub.EdgeMessenger;
import io.kedge.cloud.hub.NodeSessionListener;
import io.kedge.cloud.hub.UpstreamHandler;
import io.kedge.cloud.kube.ApiResource;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.cloud.kube.SerialExecutor;
import io.kedge.cloud.kube.SharedInformers;
import io.kedge.cloud.sync.ObjectSyncStore;
import io.kedge.cloud.sync.SyncController;
import io.kedge.cloud.sync.SyncKind;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.Sources;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * KubeEdge's EdgeController: for nodes labelled {@code node-role.kubernetes.io/edge}, sends each
 * its pods and the ConfigMaps/Secrets they reference (ACK-required, kept in step by the
 * SyncController), and executes what edges ask for. Register it as CloudHub's upstream handler
 * (every source but {@code metaserver}) and as a session listener.
 */
public final class EdgeController implements UpstreamHandler, NodeSessionListener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EdgeController.class);

  public static final String EDGE_LABEL = "node-role.kubernetes.io/edge";
  static final ApiResource NODES = new ApiResource("", "v1", "nodes", "Node", false, List.of());
  static final ApiResource PODS = new ApiResource("", "v1", "pods", "Pod", true, List.of());
  static final ApiResource CONFIGMAPS =
      new ApiResource("", "v1", "configmaps", "ConfigMap", true, List.of());
  static final ApiResource SECRETS =
      new ApiResource("", "v1", "secrets", "Secret", true, List.of());

  private final SharedInformers informers;
  private final List<SharedInformers.Handle> handles = new ArrayList<>();
  private final Downstream downstream;
  private final Upstream upstream;
  private SharedInformers.Handle nodes;
  private SharedInformers.Handle pods;
  private SharedInformers.Handle configMaps;
  private SharedInformers.Handle secrets;

  public EdgeController(
      KubeClients kube,
      EdgeMessenger hub,
      SharedInformers informers,
      ObjectSyncStore syncs,
      Executor pool) {
    this(kube, hub, informers, syncs, pool, node -> 0);
  }

  /**
   * @param kubeletPort the kubelet port a node's status is to advertise instead of the one the edge
   *     reports (cloudStream's tunnel port), 0 to keep the edge's
   */
  public EdgeController(
      KubeClients kube,
      EdgeMessenger hub,
      SharedInformers informers,
      ObjectSyncStore syncs,
      Executor pool,
      java.util.function.ToIntFunction<String> kubeletPort) {
    this.informers = informers;
    this.downstream =
        new Downstream(
            hub,
            syncs,
            new SerialExecutor(pool, "edgecontroller downstream"),
            (ns, n) -> get(pods, ns, n),
            (ns, n) -> get(configMaps, ns, n),
            (ns, n) -> get(secrets, ns, n));
    this.upstream =
        new Upstream(
            kube,
            hub,
            downstream,
            (ns, n) -> get(configMaps, ns, n),
            (ns, n) -> get(secrets, ns, n),
            pool,
            kubeletPort);
  }

  private static JsonNode get(SharedInformers.Handle h, String ns, String name) {
    return h == null ? null : h.get(ns, name);
  }

  private volatile CompletableFuture<Void> synced = new CompletableFuture<>();

  /** Completes once the informers of nodes, pods, ConfigMaps and Secrets have listed. */
  public CompletableFuture<Void> synced() {
    return synced;
  }

  /**
   * Starts the informers (waiting up to {@code syncTimeoutSeconds} for their first lists) and
   * registers the kinds it sends with the SyncController.
   */
  public void start(SyncController sync, long syncTimeoutSeconds) {
    nodes = hold(NODES);
    pods = hold(PODS);
    configMaps = hold(CONFIGMAPS);
    secrets = hold(SECRETS);
    // References before pods, pods before nodes: a node that turns out to be an edge node is
    // reconciled against complete indexes.
    configMaps.subscribe(downstream.configMapEvents());
    secrets.subscribe(downstream.secretEvents());
    pods.subscribe(downstream.podEvents());
    nodes.subscribe(downstream.nodeEvents());
    synced =
        CompletableFuture.allOf(
            nodes.synced(), pods.synced(), configMaps.synced(), secrets.synced());
    try {
      synced.get(syncTimeoutSeconds, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("edgecontroller: informers not synced yet: {}", e.toString());
    }
    if (sync != null) {
      sync.register(new SyncKind("v1", "Pod", "pod", Sources.EDGE_CONTROLLER), lookup(pods));
      sync.register(
          new SyncKind("v1", "ConfigMap", "configmap", Sources.EDGE_CONTROLLER),
          lookup(configMaps));
      sync.register(
          new SyncKind("v1", "Secret", "secret", Sources.EDGE_CONTROLLER), lookup(secrets));
    }
    LOG.info("edgecontroller: started");
  }

  private SharedInformers.Handle hold(ApiResource r) {
    SharedInformers.Handle h = informers.acquire(r);
    handles.add(h);
    return h;
  }

  private static io.kedge.cloud.sync.ObjectLookup lookup(SharedInformers.Handle h) {
    return (ns, name) -> Optional.ofNullable(h.get(ns, name));
  }

  /**
   * Whether Node {@code name} exists, as the informer shows it; empty until the informer has listed
   * the Nodes.
   */
  public Optional<Boolean> nodeExists(String name) {
    SharedInformers.Handle h = nodes;
    if (h == null || !h.synced().isDone()) {
      return Optional.empty();
    }
    return Optional.of(h.get(null, name) != null);
  }

  @Override
  public void handle(String node, Message message) {
    upstream.handle(node, message);
  }

  @Override
  public void connected(String node) {
    downstream.connected(node);
  }

  @Override
  public void disconnected(String node) {
    upstream.forget(node);
  }

  @Override
  public void close() {
    for (SharedInformers.Handle h : handles) {
      h.close();
    }
    handles.clear();
  }
}
