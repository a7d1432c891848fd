package io.kedge.edge.node;

import io.kedge.edge.hub.CloudLink;
import io.kedge.edge.hub.CloudLinkListener;
import io.kedge.edge.hub.NotConnectedException;
import io.kedge.protocol.config.EdgeCoreConfig.EdgedConfig;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.Sources;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.NullNode;
import tools.jackson.databind.node.StringNode;

/**
 * The node's life as the kubelet in KubeEdge's edged leads it, over the cloud link: register the
 * Node once connected ({@code insert default/node/<node>}), then every {@code
 * nodeStatusUpdateFrequency} seconds patch its status ({@code patch default/nodepatch/<node>}) and
 * renew its Lease ({@code query}/{@code insert}/{@code update kube-node-lease/lease/<node>}). The
 * {@code default/} namespace token for the cluster-scoped Node is what KubeEdge v1.17's edge sends.
 * A Node deleted in the cloud is registered again; a Lease that conflicts is read again.
 */
public final class NodeLifecycle implements CloudLinkListener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeLifecycle.class);

  private final CloudLink link;
  private final String node;
  private final EdgedConfig edged;
  private final Duration requestTimeout;
  private final Supplier<Optional<String>> connectionAddress;
  private final NodeFacts facts;
  private final Clock clock;
  private final NodeStatusReport report;
  private final NodeLease lease;
  private final ScheduledExecutorService executor;
  private final AtomicBoolean syncQueued = new AtomicBoolean();

  // Touched on the executor thread only.
  private String nodeUid;
  private JsonNode currentLease;
  private String lastProblem = "";

  /**
   * @param connectionAddress the local address of the cloud connection, the node's IP when {@code
   *     edged.nodeIP} is empty
   */
  public NodeLifecycle(
      CloudLink link,
      String node,
      EdgedConfig edged,
      Duration requestTimeout,
      Supplier<Optional<String>> connectionAddress,
      NodeFacts facts,
      Clock clock) {
    this(link, node, edged, requestTimeout, connectionAddress, facts, clock, Map.of());
  }

  /**
   * @param annotations added to the Node at registration (e.g. the MetaServer IPs the cloud's CSR
   *     approver expects)
   */
  public NodeLifecycle(
      CloudLink link,
      String node,
      EdgedConfig edged,
      Duration requestTimeout,
      Supplier<Optional<String>> connectionAddress,
      NodeFacts facts,
      Clock clock,
      Map<String, String> annotations) {
    this.link = link;
    this.node = node;
    this.edged = edged;
    this.requestTimeout = requestTimeout;
    this.connectionAddress = connectionAddress;
    this.facts = facts;
    this.clock = clock;
    this.report =
        new NodeStatusReport(node, facts, clock.instant(), annotations, edged.nodeLabels());
    this.lease = new NodeLease(node);
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "node-status");
              t.setDaemon(true);
              return t;
            });
  }

  public void start() {
    link.addListener(this);
    long period = Math.max(1, edged.nodeStatusUpdateFrequency());
    executor.scheduleWithFixedDelay(this::tick, period, period, TimeUnit.SECONDS);
    if (link.isConnected()) {
      connected();
    }
  }

  @Override
  public void connected() {
    if (syncQueued.compareAndSet(false, true)) {
      executor.execute(
          () -> {
            syncQueued.set(false);
            tick();
          });
    }
  }

  @Override
  public void disconnected() {
    // Nothing to undo: the next connection starts over from the cloud's state.
  }

  private void tick() {
    if (!link.isConnected()) {
      return;
    }
    try {
      sync();
    } catch (NotConnectedException e) {
      LOG.debug("node {}: cloud link went down during the update", node);
    } catch (RuntimeException e) {
      problem("node update failed: " + e);
    }
  }

  /** One round: registration if needed, status, lease. */
  void sync() {
    if (nodeUid == null && !register()) {
      return;
    }
    reportStatus();
    renewLease();
  }

  private boolean register() {
    Instant now = clock.instant();
    if (edged.registerNode()) {
      CloudReply r = request(Operations.INSERT, "default/node/" + node, report.node(nodeIp(), now));
      if (r.ok() && r.object() != null && !uid(r.object()).isEmpty()) {
        nodeUid = uid(r.object());
        LOG.info("node {} registered (uid {})", node, nodeUid);
        return true;
      }
      if (!r.ok() && !"AlreadyExists".equals(r.reason())) {
        problem("registering node failed: " + r.describe());
        return false;
      }
    }
    CloudReply q = request(Operations.QUERY, "default/node/" + node, NullNode.getInstance());
    if (q.ok() && q.object() != null && !uid(q.object()).isEmpty()) {
      nodeUid = uid(q.object());
      LOG.info("node {} exists in the cloud (uid {})", node, nodeUid);
      return true;
    }
    problem(
        "node is not registered"
            + (edged.registerNode() ? "" : " and modules.edged.registerNode is false")
            + ": "
            + q.describe());
    return false;
  }

  private void reportStatus() {
    Instant now = clock.instant();
    CloudReply r =
        request(
            Operations.PATCH,
            "default/nodepatch/" + node,
            StringNode.valueOf(report.statusPatch(nodeIp(), now)));
    if (r.ok()) {
      clearProblem();
      return;
    }
    if (r.code() == 404) {
      LOG.warn("node {} no longer exists in the cloud; registering it again", node);
      nodeUid = null;
      currentLease = null;
      return;
    }
    problem("node status update failed: " + r.describe());
  }

  private void renewLease() {
    if (nodeUid == null) {
      return;
    }
    Instant now = clock.instant();
    if (currentLease == null) {
      CloudReply q = request(Operations.QUERY, lease.resource(), NullNode.getInstance());
      if (q.ok() && q.object() != null) {
        currentLease = q.object();
      } else if (q.code() == 404) {
        CloudReply c = request(Operations.INSERT, lease.resource(), lease.create(nodeUid, now));
        if (c.ok() && c.object() != null) {
          currentLease = c.object();
          LOG.info("lease {} created", lease.resource());
        } else {
          problem("creating the lease failed: " + c.describe());
        }
        return;
      } else {
        problem("reading the lease failed: " + q.describe());
        return;
      }
    }
    CloudReply u = request(Operations.UPDATE, lease.resource(), lease.renewed(currentLease, now));
    if (u.ok() && u.object() != null) {
      currentLease = u.object();
    } else {
      currentLease = null; // a conflict or a deleted lease: read it again next time
      problem("renewing the lease failed: " + u.describe());
    }
  }

  private CloudReply request(String op, String resource, JsonNode content) {
    Message m =
        Message.of(new MessageRoute(Sources.EDGED, Sources.GROUP_META, op, resource), content);
    try {
      return CloudReply.of(link.request(m, requestTimeout).get());
    } catch (ExecutionException e) {
      if (e.getCause() instanceof NotConnectedException nc) {
        throw nc;
      }
      if (e.getCause() instanceof TimeoutException) {
        throw new IllegalStateException("no reply to " + op + " " + resource);
      }
      throw new IllegalStateException(op + " " + resource + ": " + e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NotConnectedException("interrupted");
    }
  }

  private String nodeIp() {
    String ip = edged.nodeIP() == null ? "" : edged.nodeIP().strip();
    if (!ip.isEmpty()) {
      return ip;
    }
    return connectionAddress.get().or(NodeFacts::hostAddress).orElse("127.0.0.1");
  }

  private static String uid(JsonNode obj) {
    return obj.path("metadata").path("uid").asString("");
  }

  /** Logs a problem once until it changes or goes away (a tick every few seconds would flood). */
  private void problem(String what) {
    if (!what.equals(lastProblem)) {
      LOG.warn("node {}: {}", node, what);
      lastProblem = what;
    }
  }

  private void clearProblem() {
    if (!lastProblem.isEmpty()) {
      LOG.info("node {}: status updates work again", node);
      lastProblem = "";
    }
  }

  /** The uid the cloud gave the Node, once known (for tests and diagnostics). */
  Optional<String> nodeUid() {
    try {
      return executor.submit(() -> Optional.ofNullable(nodeUid)).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      return Optional.empty();
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
    try {
      executor.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
