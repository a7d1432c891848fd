package io.kedge.cloud.sync;

import io.kedge.cloud.ha.Leadership;
import io.kedge.cloud.hub.DeliveryException;
import io.kedge.cloud.hub.EdgeMessenger;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.message.Sources;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * KubeEdge's SyncController: every {@code resyncPeriod}, for each connected node, compares what it
 * acknowledged (ObjectSyncs) with the objects as they are now and sends what changed while the node
 * was away or a delivery failed — an {@code update} for a newer version, a {@code delete} ({@code
 * {namespace, name, uid}}) for an object that is gone or was replaced.
 *
 * <p>Garbage collection, on the leader only: the ObjectSyncs of nodes that no longer exist.
 */
public final class SyncController implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SyncController.class);

  private record Registered(SyncKind kind, ObjectLookup lookup) {}

  private final ObjectSyncStore store;
  private final EdgeMessenger hub;
  private final Duration period;
  private final ScheduledExecutorService scheduler;
  private final Map<String, Registered> kinds = new ConcurrentHashMap<>();
  private final Set<String> warnedKinds = ConcurrentHashMap.newKeySet();
  private volatile java.util.concurrent.ScheduledFuture<?> task;
  private volatile java.util.concurrent.ScheduledFuture<?> collector;

  public SyncController(
      ObjectSyncStore store,
      EdgeMessenger hub,
      Duration period,
      ScheduledExecutorService scheduler) {
    this.store = store;
    this.hub = hub;
    this.period = period;
    this.scheduler = scheduler;
  }

  /** Lets the controller compare objects of {@code kind} (one line per kind, by its sender). */
  public void register(SyncKind kind, ObjectLookup lookup) {
    kinds.put(kind.key(), new Registered(kind, lookup));
  }

  public void start() {
    long ms = Math.max(1000, period.toMillis());
    task = scheduler.scheduleWithFixedDelay(this::resyncSafely, ms, ms, TimeUnit.MILLISECONDS);
    LOG.info("sync: SyncController started (every {} s)", ms / 1000);
  }

  private void resyncSafely() {
    try {
      resync();
    } catch (RuntimeException e) {
      LOG.warn("sync: resync failed: {}", e.toString());
    }
  }

  /** One pass over all connected nodes; returns the number of messages sent. */
  public int resync() {
    int sent = 0;
    for (String node : hub.connectedNodes()) {
      try {
        sent += resync(node);
      } catch (RuntimeException e) {
        LOG.warn("sync: resync of node {} failed: {}", node, e.toString());
      }
    }
    return sent;
  }

  /** One pass over one node. */
  public int resync(String node) {
    int sent = 0;
    for (SyncedObject s : store.forNode(node)) {
      Registered r = kinds.get(s.apiVersion() + "/" + s.kind());
      if (r == null) {
        if (warnedKinds.add(s.apiVersion() + "/" + s.kind())) {
          LOG.info(
              "sync: no component sends {} {}; its ObjectSyncs are not resynced",
              s.apiVersion(),
              s.kind());
        }
        continue;
      }
      Optional<JsonNode> now = r.lookup().get(s.namespace(), s.name());
      String resource = ResourcePath.format(s.namespace(), r.kind().resourceType(), s.name());
      if (now.isEmpty() || !s.uid().equals(now.get().path("metadata").path("uid").asString(""))) {
        ObjectNode gone = Json.object();
        ObjectNode meta = gone.putObject("metadata");
        if (s.namespace() != null) {
          meta.put("namespace", s.namespace());
        }
        meta.put("name", s.name());
        meta.put("uid", s.uid());
        // decided from an earlier view of the ACKs, like the update below: the edge may have
        // acknowledged the object's deletion (sent by its owner) since
        redeliver(
            node,
            s,
            new Message(
                MessageHeader.create().withResourceVersion(s.resourceVersion()),
                new MessageRoute(
                    r.kind().source(), Sources.GROUP_RESOURCE, Operations.DELETE, resource),
                gone));
        sent++;
        continue;
      }
      String rv = now.get().path("metadata").path("resourceVersion").asString("");
      if (SyncedObject.newer(rv, s.resourceVersion())) {
        redeliver(
            node,
            s,
            new Message(
                MessageHeader.create().withResourceVersion(rv),
                new MessageRoute(
                    r.kind().source(), Sources.GROUP_RESOURCE, Operations.UPDATE, resource),
                now.get()));
        sent++;
      }
    }
    return sent;
  }

  /**
   * A message decided from an earlier view of the edge's ACKs: sent unless the edge acknowledges
   * this version, or the deletion, before it is queued (delivered by its owner meanwhile).
   */
  private void redeliver(String node, SyncedObject s, Message m) {
    LOG.debug(
        "sync: node {} has {} {}/{} at {}; sending {}",
        node,
        s.kind(),
        s.namespace(),
        s.name(),
        s.resourceVersion(),
        m);
    hub.redeliver(node, m)
        .whenComplete(
            (v, err) -> {
              if (err != null
                  && !(err instanceof DeliveryException d
                      && (d.reason() == DeliveryException.Reason.SUPERSEDED
                          || d.reason() == DeliveryException.Reason.SESSION_CLOSED
                          || d.reason() == DeliveryException.Reason.NOT_CONNECTED))) {
                LOG.info("sync: resending {} to node {} failed: {}", m, node, err.toString());
              }
            });
  }

  /**
   * Every {@code every}, while {@code leadership} says this cloudcore leads: forgets what nodes
   * that no longer exist acknowledged ({@code nodeExists} empty: not known yet, left alone).
   */
  public void collectGarbage(
      Leadership leadership,
      java.util.function.Function<String, Optional<Boolean>> nodeExists,
      Duration every) {
    long ms = Math.max(1000, every.toMillis());
    collector =
        scheduler.scheduleWithFixedDelay(
            () -> {
              try {
                collect(leadership, nodeExists);
              } catch (RuntimeException e) {
                LOG.warn("sync: garbage collection failed: {}", e.toString());
              }
            },
            ms,
            ms,
            TimeUnit.MILLISECONDS);
  }

  /** One sweep; returns how many ObjectSyncs it removed. */
  int collect(
      Leadership leadership, java.util.function.Function<String, Optional<Boolean>> nodeExists) {
    int removed = 0;
    for (String node : store.nodes()) {
      if (!leadership.isLeader()) {
        return removed;
      }
      if (hub.isConnected(node) || !Boolean.FALSE.equals(nodeExists.apply(node).orElse(null))) {
        continue;
      }
      for (SyncedObject s : store.forNode(node)) {
        store.forget(s);
        removed++;
      }
      LOG.info("sync: node {} no longer exists; its ObjectSyncs are removed", node);
    }
    return removed;
  }

  @Override
  public void close() {
    var t = task;
    if (t != null) {
      t.cancel(false);
    }
    var c = collector;
    if (c != null) {
      c.cancel(false);
    }
  }
}
