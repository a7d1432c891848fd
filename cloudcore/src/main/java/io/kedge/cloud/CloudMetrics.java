package io.kedge.cloud;

import io.kedge.monitor.JvmMetricSet;
import io.kedge.monitor.LabelValues;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.ResourcePath;
import io.kedge.protocol.message.Sources;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Set;
import java.util.function.IntSupplier;

/**
 * Every metric cloudcore serves on its monitor address, defined in this one place; components get
 * this object by constructor and update it. Label values are bounded: message types and operations
 * from fixed lists ({@code other} beyond them), verbs, HTTP codes, identity modes and CSR reason
 * codes. Nothing is labelled by node or object. A component built without one (tests) gets {@link
 * #detached()}, whose registry nobody reads.
 */
public final class CloudMetrics {

  /** Message types counted under their own name; the rest are {@code other}. */
  static final Set<String> MESSAGE_TYPES =
      Set.of(
          "pod",
          "podstatus",
          "podpatch",
          "configmap",
          "secret",
          "node",
          "nodestatus",
          "nodepatch",
          "lease",
          "event",
          "serviceaccounttoken",
          "serviceaccountaccess",
          "certificatesigningrequest",
          "clusterrole",
          "clusterrolebinding",
          "role",
          "rolebinding",
          "objectsync",
          "clusterobjectsync",
          "jwks");

  static final Set<String> OPERATIONS =
      Set.of(
          Operations.INSERT,
          Operations.UPDATE,
          Operations.PATCH,
          Operations.DELETE,
          Operations.QUERY,
          Operations.RESPONSE,
          Operations.ERROR,
          Operations.UPLOAD,
          Operations.KEEPALIVE,
          Operations.APPLICATION_RESPONSE);

  /** Seconds: a round trip on a LAN to a WAN with a slow edge. */
  private static final double[] ACK_BUCKETS = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
  };

  /** Seconds: the apiserver's request-duration buckets, cut to what a forwarded request takes. */
  private static final double[] REQUEST_BUCKETS = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.5, 2, 5, 10, 30, 60
  };

  private final PrometheusRegistry registry;
  private volatile IntSupplier connectedEdges = () -> 0;
  private volatile IntSupplier queuedDeliveries = () -> 0;
  private volatile IntSupplier apiserverWatches = () -> 0;
  private volatile IntSupplier edgeWatches = () -> 0;

  private final LabelValues<LabelValues<CounterDataPoint>> received;
  private final LabelValues<LabelValues<CounterDataPoint>> sent;
  private final Histogram ackLatency;
  private final CounterDataPoint deliveryRefused;
  private final CounterDataPoint connections;
  private final CounterDataPoint reconnects;
  private final Counter dynamicRequests;
  private final Histogram dynamicDuration;
  private final Counter csrDecisions;

  private CloudMetrics(PrometheusRegistry registry, boolean jvm) {
    this.registry = registry;
    GaugeWithCallback.builder()
        .name("kedge_cloudhub_connected_edges")
        .help("Edge nodes with an open CloudHub WebSocket session")
        .callback(cb -> cb.call(connectedEdges.getAsInt()))
        .register(registry);
    Counter in =
        Counter.builder()
            .name("kedge_cloudhub_messages_received_total")
            .help("Messages received from edges, by resource type and operation")
            .labelNames("type", "operation")
            .register(registry);
    Counter out =
        Counter.builder()
            .name("kedge_cloudhub_messages_sent_total")
            .help("Messages written to edges (resends included), by resource type and operation")
            .labelNames("type", "operation")
            .register(registry);
    received = byTypeAndOperation(in);
    sent = byTypeAndOperation(out);
    GaugeWithCallback.builder()
        .name("kedge_cloudhub_delivery_queue_depth")
        .help("Objects waiting for delivery or for their ACK, summed over all edges")
        .callback(cb -> cb.call(queuedDeliveries.getAsInt()))
        .register(registry);
    ackLatency =
        Histogram.builder()
            .name("kedge_cloudhub_ack_latency_seconds")
            .help("Time from sending a message that needs an ACK to the edge's ACK of it")
            .unit(Unit.SECONDS)
            .classicOnly()
            .classicUpperBounds(ACK_BUCKETS)
            .withoutExemplars()
            .register(registry);
    deliveryRefused =
        Counter.builder()
            .name("kedge_cloudhub_deliveries_refused_total")
            .help("Deliveries refused because an edge's delivery queue was full")
            .register(registry)
            .labelValues();
    connections =
        Counter.builder()
            .name("kedge_cloudhub_edge_connections_total")
            .help("Edge sessions opened (first connections and reconnections)")
            .register(registry)
            .labelValues();
    reconnects =
        Counter.builder()
            .name("kedge_cloudhub_edge_reconnects_total")
            .help("Edge sessions opened by a node that had one before in this cloudcore's life")
            .register(registry)
            .labelValues();
    dynamicRequests =
        Counter.builder()
            .name("kedge_dynamiccontroller_requests_total")
            .help(
                "Edge API requests answered by the DynamicController, by verb, HTTP code and the"
                    + " identity they ran as (pod, node, cloudcore, deny)")
            .labelNames("verb", "code", "identity")
            .register(registry);
    dynamicDuration =
        Histogram.builder()
            .name("kedge_dynamiccontroller_request_duration_seconds")
            .help(
                "Time from an edge API request's arrival to its answer (for a watch: until it is"
                    + " established), by verb and identity")
            .unit(Unit.SECONDS)
            .labelNames("verb", "identity")
            .classicOnly()
            .classicUpperBounds(REQUEST_BUCKETS)
            .withoutExemplars()
            .register(registry);
    GaugeWithCallback.builder()
        .name("kedge_dynamiccontroller_apiserver_watches")
        .help("Watches cloudcore holds open on the kube-apiserver (one per informed type)")
        .callback(cb -> cb.call(apiserverWatches.getAsInt()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("kedge_dynamiccontroller_edge_watches")
        .help("Watches edges hold through the DynamicController")
        .callback(cb -> cb.call(edgeWatches.getAsInt()))
        .register(registry);
    csrDecisions =
        Counter.builder()
            .name("kedge_csr_decisions_total")
            .help(
                "MetaServer serving-certificate CSRs decided by cloudcore's approver, by decision"
                    + " (approved, denied) and reason")
            .labelNames("decision", "reason")
            .register(registry);
    if (jvm) {
      JvmMetricSet.register(registry);
    }
  }

  /** cloudcore's metrics with the JVM's own, in a registry of their own. */
  public static CloudMetrics create() {
    return new CloudMetrics(new PrometheusRegistry(), true);
  }

  /** For components built without a monitor (tests): counted, never served. */
  public static CloudMetrics detached() {
    return new CloudMetrics(new PrometheusRegistry(), false);
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  // ------------------------------------------------------------------ CloudHub

  public void connectedEdges(IntSupplier s) {
    connectedEdges = s;
  }

  public void queuedDeliveries(IntSupplier s) {
    queuedDeliveries = s;
  }

  public void received(Message m) {
    count(received, m);
  }

  public void sent(Message m) {
    count(sent, m);
  }

  public void acknowledged(long sentNanos) {
    ackLatency.observe((System.nanoTime() - sentNanos) / 1e9);
  }

  public void deliveryRefused() {
    deliveryRefused.inc();
  }

  /**
   * @param before whether the node had a session earlier in this cloudcore's life
   */
  public void edgeConnected(boolean before) {
    connections.inc();
    if (before) {
      reconnects.inc();
    }
  }

  // ------------------------------------------------------------------ DynamicController

  public void apiserverWatches(IntSupplier s) {
    apiserverWatches = s;
  }

  public void edgeWatches(IntSupplier s) {
    edgeWatches = s;
  }

  /**
   * One answered edge API request.
   *
   * @param verb {@code get}, {@code list}, {@code watch}, … ({@code other} beyond the known ones)
   * @param identity {@code pod}, {@code node}, {@code cloudcore} or {@code deny}
   */
  public void dynamicRequest(String verb, int code, String identity, long startNanos) {
    String v = VERBS.contains(verb) ? verb : LabelValues.OTHER;
    dynamicRequests.labelValues(v, Integer.toString(code), identity).inc();
    dynamicDuration.labelValues(v, identity).observe((System.nanoTime() - startNanos) / 1e9);
  }

  static final Set<String> VERBS =
      Set.of(
          "get",
          "list",
          "watch",
          "create",
          "update",
          "patch",
          "delete",
          "deletecollection",
          "sync");

  // ------------------------------------------------------------------ CSR approver

  /**
   * @param approved approved, else denied
   * @param reason a short code from a fixed list ({@code valid}, {@code usages}, …)
   */
  public void csrDecided(boolean approved, String reason) {
    csrDecisions.labelValues(approved ? "approved" : "denied", reason).inc();
  }

  // ------------------------------------------------------------------ labels

  private static LabelValues<LabelValues<CounterDataPoint>> byTypeAndOperation(Counter c) {
    return new LabelValues<>(
        MESSAGE_TYPES.size() + 8,
        type -> new LabelValues<>(OPERATIONS.size() + 2, op -> c.labelValues(type, op)));
  }

  private static void count(LabelValues<LabelValues<CounterDataPoint>> c, Message m) {
    c.get(typeOf(m)).get(operationOf(m)).inc();
  }

  /** The bounded {@code type} label of a message. */
  static String typeOf(Message m) {
    String op = m.operation();
    if (Operations.KEEPALIVE.equals(op)) {
      return "keepalive";
    }
    if (Sources.META_SERVER.equals(m.source())
        || ResourcePath.APPLICATION_REPLY.equals(m.resource())
        || ResourcePath.WATCHAPP_SYNC.equals(m.resource())) {
      return "application";
    }
    if (ResourcePath.K8S_CA.equals(m.resource())) {
      return "k8s-ca";
    }
    String type = ResourcePath.parse(m.resource()).type();
    return MESSAGE_TYPES.contains(type) ? type : LabelValues.OTHER;
  }

  static String operationOf(Message m) {
    String op = m.operation();
    return OPERATIONS.contains(op) ? op : LabelValues.OTHER;
  }
}
