package io.kedge.edge;

import io.kedge.edge.metaserver.RequestInfo;
import io.kedge.edge.metaserver.RequestMetrics;
import io.kedge.monitor.JvmMetricSet;
import io.kedge.monitor.LabelValues;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Every metric edgecore serves on its monitor address, defined in this one place. Components hand
 * in what they know as suppliers (read at scrape time) or report events; MetaServer reports each
 * answered request through {@link RequestMetrics}. Labels are bounded: verbs, HTTP codes, resource
 * names (capped; {@code other} beyond the cap), pod phases and container states.
 */
public final class EdgeMetrics implements RequestMetrics {

  /** Seconds: MetaServer's store answers take well under a millisecond, the cloud's some. */
  private static final double[] REQUEST_BUCKETS = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    30
  };

  private static final Set<String> VERBS =
      Set.of(
          "get",
          "list",
          "watch",
          "create",
          "update",
          "patch",
          "delete",
          "deletecollection",
          "head",
          "options",
          "post",
          "put");

  /** Distinct {@code resource} label values before the rest count as {@code other}. */
  private static final int RESOURCES = 64;

  private final PrometheusRegistry registry;
  private final Counter requests;
  private final Histogram duration;
  private final CounterDataPoint fromStore;
  private final CounterDataPoint fromCloud;
  private final LabelValues<String> resources = new LabelValues<>(RESOURCES, r -> r);

  private volatile LongSupplier watches = () -> 0;
  private volatile LongSupplier storeObjects = () -> -1;
  private volatile LongSupplier eventLog = () -> -1;
  private volatile BooleanSupplier linkUp = () -> false;
  private volatile Supplier<Instant> linkCertificate = () -> null;
  private volatile Supplier<Instant> servingCertificate = () -> null;
  private volatile Supplier<Map<String, Integer>> pods = Map::of;
  private volatile Supplier<Map<String, Integer>> containers = Map::of;
  private volatile LongSupplier restarts = () -> 0;

  private EdgeMetrics(PrometheusRegistry registry, boolean jvm) {
    this.registry = registry;
    requests =
        Counter.builder()
            .name("kedge_metaserver_requests_total")
            .help("Requests MetaServer answered, by verb, resource and HTTP code")
            .labelNames("verb", "resource", "code")
            .register(registry);
    duration =
        Histogram.builder()
            .name("kedge_metaserver_request_duration_seconds")
            .help(
                "Time from reading a request to starting its answer (for a watch: to the start of"
                    + " its stream), by verb and resource")
            .unit(Unit.SECONDS)
            .labelNames("verb", "resource")
            .classicOnly()
            .classicUpperBounds(REQUEST_BUCKETS)
            .withoutExemplars()
            .register(registry);
    Counter answers =
        Counter.builder()
            .name("kedge_metaserver_answers_total")
            .help(
                "Requests answered by the edge alone (source=store) or sent on to the cloud"
                    + " (source=cloud)")
            .labelNames("source")
            .register(registry);
    fromStore = answers.labelValues("store");
    fromCloud = answers.labelValues("cloud");
    GaugeWithCallback.builder()
        .name("kedge_metaserver_watches")
        .help("Watches MetaServer streams to clients")
        .callback(cb -> cb.call(watches.getAsLong()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("kedge_store_objects")
        .help("Objects in the edge store")
        .callback(cb -> cb.call(storeObjects.getAsLong()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("kedge_store_event_log_length")
        .help("Events the edge store keeps for watches to resume from, over all types")
        .callback(cb -> cb.call(eventLog.getAsLong()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("kedge_edgehub_connected")
        .help("1 while the WebSocket link to cloudcore is up, else 0")
        .callback(cb -> cb.call(linkUp.getAsBoolean() ? 1 : 0))
        .register(registry);
    GaugeWithCallback.builder()
        .name("kedge_certificate_expiry_seconds")
        .help(
            "Seconds until a certificate of this node expires (negative: expired): the edge's"
                + " client certificate for cloudcore (edgehub) and MetaServer's serving certificate"
                + " (metaserver)")
        .unit(Unit.SECONDS)
        .labelNames("certificate")
        .callback(
            cb -> {
              secondsLeft(cb, "edgehub", linkCertificate.get());
              secondsLeft(cb, "metaserver", servingCertificate.get());
            })
        .register(registry);
    GaugeWithCallback.builder()
        .name("kedge_edged_pods")
        .help("Pods Edged runs, by phase as last reported")
        .labelNames("phase")
        .callback(cb -> pods.get().forEach((phase, n) -> cb.call(n, phase)))
        .register(registry);
    GaugeWithCallback.builder()
        .name("kedge_edged_containers")
        .help("Containers of those pods, by state (running, waiting, terminated)")
        .labelNames("state")
        .callback(cb -> containers.get().forEach((state, n) -> cb.call(n, state)))
        .register(registry);
    CounterWithCallback.builder()
        .name("kedge_edged_container_restarts_total")
        .help("Container restarts since edgecore started")
        .callback(cb -> cb.call(restarts.getAsLong()))
        .register(registry);
    if (jvm) {
      JvmMetricSet.register(registry);
    }
  }

  private static void secondsLeft(GaugeWithCallback.Callback cb, String which, Instant notAfter) {
    if (notAfter != null) {
      cb.call((notAfter.toEpochMilli() - System.currentTimeMillis()) / 1000.0, which);
    }
  }

  /** edgecore's metrics with the JVM's own, in a registry of their own. */
  public static EdgeMetrics create() {
    return new EdgeMetrics(new PrometheusRegistry(), true);
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  @Override
  public void answered(RequestInfo info, int code, long startNanos, boolean cloud) {
    String verb;
    String resource;
    if (info == null) {
      verb = LabelValues.OTHER;
      resource = "";
    } else {
      verb = VERBS.contains(info.verb()) ? info.verb() : LabelValues.OTHER;
      resource =
          !info.resourceRequest()
              ? ""
              : resources.get(
                  info.subresource().isEmpty()
                      ? info.resource()
                      : info.resource() + "/" + info.subresource());
    }
    requests.labelValues(verb, resource, Integer.toString(code)).inc();
    duration.labelValues(verb, resource).observe((System.nanoTime() - startNanos) / 1e9);
    (cloud ? fromCloud : fromStore).inc();
  }

  // ---------------------------------------------------------------- what components report

  public void watches(LongSupplier s) {
    watches = s;
  }

  public void store(LongSupplier objects, LongSupplier eventLogLength) {
    storeObjects = objects;
    eventLog = eventLogLength;
  }

  public void link(BooleanSupplier up, Supplier<Instant> certificateNotAfter) {
    linkUp = up;
    linkCertificate = certificateNotAfter;
  }

  public void servingCertificate(Supplier<Instant> notAfter) {
    servingCertificate = notAfter;
  }

  public void edged(
      Supplier<Map<String, Integer>> podsByPhase,
      Supplier<Map<String, Integer>> containersByState,
      LongSupplier containerRestarts) {
    pods = podsByPhase;
    containers = containersByState;
    restarts = containerRestarts;
  }
}
