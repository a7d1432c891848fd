package io.kedge.testkit.diff;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.kedge.protocol.Json;
import io.kedge.testkit.diff.KubeHttp.Reply;
import io.kedge.testkit.diff.KubeHttp.WatchStream;
import io.kedge.testkit.diff.Step.Token;
import io.kedge.testkit.diff.Step.Version;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Runs schedules against a {@link DiffCluster}: every step through MetaServer with a pod's token,
 * the same request (or, for writes, its dry run) at the apiserver with the same token, and the
 * answers compared; watches through MetaServer against the apiserver's watch of the same scope from
 * the same version. A schedule that finds a difference stops there and is reported with its seed,
 * its steps and the step that failed; the next starts from the common state again.
 *
 * <p>What Kedge does differently on purpose, and so is compared as such (README, DESIGN.md):
 *
 * <ul>
 *   <li>Writes while the edge is cut off: {@code 503 ServiceUnavailable} ("Offline writes").
 *   <li>Reads while it is cut off are answered from the edge's store: equal to the apiserver's
 *       state when nothing changed at the cloud meanwhile; otherwise a consistent earlier state,
 *       which is checked as such: the list the apiserver gives for the version MetaServer names
 *       ({@code resourceVersionMatch=Exact}) has the same items. A version the store does not hold
 *       is answered as the apiserver answers versions it does not hold: 410 for an older exact one,
 *       504 for a newer one.
 *   <li>{@code resourceVersion=0} may be stale (as from the apiserver's watch cache), so it is
 *       compared once the edge has caught up, bounded; but the version it names must always be
 *       true: the apiserver's exact list at that version has the same items.
 *   <li>A watch through MetaServer may end with 410 Expired (its client lists again) or, when
 *       edgecore is killed, with its connection; what it delivered until then must be the
 *       apiserver's events, in order.
 * </ul>
 */
public final class DifferentialRun {
  private static final Logger LOG = LoggerFactory.getLogger(DifferentialRun.class);
  private static final Duration CONVERGE = Duration.ofSeconds(60);
  private static final Duration WATCH_CATCH_UP = Duration.ofSeconds(60);

  /**
   * A schedule that found a difference; {@link #replay()} is the command that runs it alone again.
   */
  public record Failure(long seed, int length, int step, String schedule, String difference) {
    /** The Maven command that replays this schedule alone (from the worktree's root). */
    public String replay() {
      return "mvn -B -ntp -o -pl e2e -am verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false"
          + " -Dfailsafe.failIfNoSpecifiedTests=false -Dit.test=DifferentialIT -Dkedge.diff.schedules=1 -Dkedge.diff.seed="
          + seed
          + " -Dkedge.diff.steps="
          + length;
    }

    @Override
    public String toString() {
      return "seed "
          + seed
          + " failed at step "
          + step
          + ":\n"
          + difference
          + "\n"
          + schedule
          + "replay: "
          + replay();
    }
  }

  /** What a run did and found. */
  public record Result(
      int schedules, int steps, List<Failure> failures, Map<String, Long> counts, Duration took) {}

  private final DiffCluster c;
  private final Map<String, Long> counts = new LinkedHashMap<>();
  private final AtomicLong writes = new AtomicLong();

  public DifferentialRun(DiffCluster cluster) {
    this.c = cluster;
  }

  /**
   * Runs {@code count} schedules of {@code length} steps, seeds {@code firstSeed}, {@code firstSeed
   * + 1}, ….
   */
  public Result run(long firstSeed, int count, int length) {
    return run(firstSeed, count, length, null);
  }

  /**
   * As {@link #run(long, int, int)}, but starts no schedule after {@code budget} has passed (null:
   * no limit); {@link Result#schedules()} is the number actually run.
   */
  public Result run(long firstSeed, int count, int length, Duration budget) {
    return run(firstSeed, count, length, budget, new AtomicInteger(), System.nanoTime());
  }

  /**
   * As {@link #run(long, int, int, Duration)}, sharing the schedules with other runs (each on its
   * own cluster) that take theirs from the same {@code next}: schedule {@code i} is seed {@code
   * firstSeed + i}, run by whichever run takes {@code i}; the budget counts from {@code
   * startNanos}. {@link #merge} joins the runs' results.
   */
  public Result run(
      long firstSeed, int count, int length, Duration budget, AtomicInteger next, long startNanos) {
    long t0 = System.nanoTime();
    List<Failure> failures = new ArrayList<>();
    int steps = 0;
    int ran = 0;
    for (int i; (i = next.getAndIncrement()) < count; ) {
      if (budget != null && System.nanoTime() - startNanos > budget.toNanos()) {
        LOG.warn("time budget {} spent at schedule {} of {}", budget, i + 1, count);
        next.set(count);
        break;
      }
      ran++;
      long seed = firstSeed + i;
      Schedule s = Schedule.generate(seed, length);
      long s0 = System.nanoTime();
      Failure f = runOne(s, length);
      steps += s.steps().size();
      if (f != null) {
        failures.add(f);
        LOG.error("DIFFERENCE — {}", f);
      }
      LOG.info(
          "schedule {} ({} of {}): {} steps in {} ms, {}",
          seed,
          i + 1,
          count,
          s.steps().size(),
          (System.nanoTime() - s0) / 1_000_000,
          f == null ? "no difference" : "DIFFERENCE at step " + f.step());
    }
    Map<String, Long> reported = new LinkedHashMap<>(counts);
    reported.replaceAll((k, v) -> k.startsWith("seconds in ") ? Math.round(v / 1000.0) : v);
    return new Result(
        ran, steps, failures, Map.copyOf(reported), Duration.ofNanos(System.nanoTime() - t0));
  }

  /**
   * The results of runs that shared their schedules, as one: counts summed (the greatest of each
   * "longest …" and "most …"), failures by seed, {@code took} the wall time of them all.
   */
  public static Result merge(List<Result> results, Duration took) {
    int schedules = 0;
    int steps = 0;
    List<Failure> failures = new ArrayList<>();
    Map<String, Long> counts = new LinkedHashMap<>();
    for (Result r : results) {
      schedules += r.schedules();
      steps += r.steps();
      failures.addAll(r.failures());
      r.counts()
          .forEach(
              (k, v) ->
                  counts.merge(
                      k,
                      v,
                      k.startsWith("longest ") || k.startsWith("most ") ? Math::max : Long::sum));
    }
    failures.sort(Comparator.comparingLong(Failure::seed));
    return new Result(schedules, steps, failures, Map.copyOf(counts), took);
  }

  private void count(String what) {
    counts.merge(what, 1L, Long::sum);
  }

  private void most(String what, long value) {
    counts.merge(what, value, Math::max);
  }

  /** One schedule; null when MetaServer agreed with the apiserver throughout. */
  Failure runOne(Schedule s, int length) {
    long r0 = System.nanoTime();
    try {
      c.reset();
      counts.merge(
          "seconds in the reset between schedules (summed)",
          (System.nanoTime() - r0) / 1_000_000,
          Long::sum);
    } catch (AssertionError | RuntimeException e) {
      // The state the previous schedule left (or the edge's view of it) did not settle: recorded
      // against this seed, and the next schedule tries the reset again.
      return new Failure(
          s.seed(),
          length,
          0,
          s.describe(),
          "before the first step (the common state, after the previous schedule): "
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage());
    }
    ScheduleState st = new ScheduleState(s);
    int i = 0;
    try {
      for (; i < s.steps().size(); i++) {
        Step step = s.steps().get(i);
        st.index = i;
        LOG.debug("schedule {} step {}: {}", s.seed(), i + 1, step);
        long t = System.nanoTime();
        execute(st, step);
        count("steps run");
        counts.merge(
            "seconds in " + step.getClass().getSimpleName() + " steps (summed)",
            (System.nanoTime() - t) / 1_000_000,
            Long::sum);
      }
      checkAcknowledged(st);
      return null;
    } catch (AssertionError | RuntimeException e) {
      String what =
          e instanceof Difference
              ? e.getMessage()
              : e.getClass().getSimpleName() + ": " + e.getMessage();
      return new Failure(s.seed(), length, Math.min(i + 1, s.steps().size()), s.describe(), what);
    } finally {
      st.watches.values().forEach(WatchPair::close);
    }
  }

  /** What one schedule has done so far. */
  private final class ScheduleState {
    final Schedule schedule;
    final int historyStart = c.history.size();
    final Map<Integer, WatchPair> watches = new LinkedHashMap<>();
    final List<String[]> acknowledged = new ArrayList<>(); // ns, name, rv
    int index;
    int kills;
    boolean staleWhileCut;

    /**
     * A write was made since the edge's store was last seen equal to the apiserver (a checkpoint):
     * its event may still be on its way to the edge, so a cut now may leave the store behind.
     */
    boolean unsettled = true; // the reset before it deleted objects at the apiserver

    ScheduleState(Schedule s) {
      this.schedule = s;
    }
  }

  private void execute(ScheduleState st, Step step) {
    if (step instanceof Step.Write w) {
      write(st, w);
    } else if (step instanceof Step.Burst b) {
      burst(st, b);
    } else if (step instanceof Step.CloudWrite w) {
      cloudWrite(st, w);
    } else if (step instanceof Step.Read r) {
      read(st, r);
    } else if (step instanceof Step.PagedList p) {
      paged(st, p);
    } else if (step instanceof Step.WatchOpen w) {
      watchOpen(st, w);
    } else if (step instanceof Step.WatchCheck w) {
      watchCheck(st, w.id());
    } else if (step instanceof Step.Checkpoint cp) {
      checkpoint(st, cp.slot());
    } else if (step instanceof Step.PodCreate p) {
      c.createPod(p.ns(), p.slot());
      count("pods created");
    } else if (step instanceof Step.PodDelete p) {
      c.deletePod(p.ns(), p.slot(), p.graceful());
      count("pods deleted");
    } else if (step instanceof Step.Binding b) {
      c.binding(b.ns(), b.serviceAccount(), b.grant());
      count(b.grant() ? "RoleBindings restored" : "RoleBindings revoked");
    } else if (step instanceof Step.KillEdge) {
      c.killEdge();
      st.kills++;
      st.unsettled = true; // it catches up once it runs again
      count("edgecore kill -9");
    } else if (step instanceof Step.Cut cut) {
      c.cut(cut.silent());
      // Events in flight when the link goes are lost with it (a silent cut drops them until the
      // edge notices): the store is then behind the cloud although nothing changed after the cut.
      st.staleWhileCut = st.unsettled;
      count(st.unsettled ? "cuts with writes in flight" : "cuts of a settled edge");
      count(cut.silent() ? "link cut silently" : "link cut (reset)");
    } else if (step instanceof Step.Restore) {
      c.restore();
      st.staleWhileCut = false;
      st.unsettled = true; // the edge catches up after it reconnects
    } else {
      throw new IllegalArgumentException("unknown step " + step);
    }
  }

  // ---------------------------------------------------------------- writes

  private String collection(int ns) {
    return ns < 0 ? "/api/v1/configmaps" : "/api/v1/namespaces/" + c.ns(ns) + "/configmaps";
  }

  private void write(ScheduleState st, Step.Write w) {
    st.unsettled = true;
    String token = c.token(w.ns(), w.slot(), w.token());
    String path = collection(w.ns());
    String value = Long.toString(writes.incrementAndGet());
    String method;
    String target;
    String type = "application/json";
    String body;
    switch (w.kind()) {
      case CREATE -> {
        method = "POST";
        target = path;
        body = Json.string(configMap(w.name(), w.app(), w.tier(), value));
      }
      case UPDATE -> {
        method = "PUT";
        target = path + "/" + w.name();
        Reply cur = c.http.get(c.metaServer(), target, token);
        ObjectNode o =
            cur.code() == 200 && cur.isJson()
                ? (ObjectNode) cur.json()
                : configMap(w.name(), w.app(), w.tier(), value);
        if (!(o.get("data") instanceof ObjectNode)) {
          o.putObject("data");
        }
        ((ObjectNode) o.get("data")).put("v", value);
        body = Json.string(o);
      }
      case PATCH_DATA -> {
        method = "PATCH";
        target = path + "/" + w.name();
        type = "application/merge-patch+json";
        body = "{\"data\":{\"v\":\"" + value + "\"}}";
      }
      case PATCH_LABELS -> {
        method = "PATCH";
        target = path + "/" + w.name();
        type = "application/merge-patch+json";
        body =
            "{\"metadata\":{\"labels\":{\"app\":\""
                + w.app()
                + "\",\"tier\":"
                + (w.tier().isEmpty() ? "null" : "\"" + w.tier() + "\"")
                + "}}}";
      }
      case DELETE -> {
        method = "DELETE";
        target = path + "/" + w.name();
        type = null;
        body = null;
      }
      default -> throw new IllegalStateException();
    }
    Reply oracle = c.http.call(c.apiserver(), method, target + "?dryRun=All", token, type, body);
    Reply edge = c.http.call(c.metaServer(), method, target, token, type, body);
    expectWrite(st, w.ns(), w.name(), oracle, edge, w.toString());
    count("writes through MetaServer");
  }

  /** A write's answer: the apiserver's (its dry run's) verdict, or 503 while cut off. */
  private void expectWrite(
      ScheduleState st, int ns, String name, Reply oracle, Reply edge, String what) {
    if (c.isCut()) {
      if ((oracle.code() == 401 || oracle.code() == 403) && sameVerdict(oracle, edge)) {
        // The edge refuses whom it knows to be refused without asking the cloud.
        count("writes refused offline as the apiserver refuses them (401/403)");
        return;
      }
      if (edge.code() != 503
          || !edge.isJson()
          || !"ServiceUnavailable".equals(edge.json().path("reason").asString(""))) {
        throw new Difference(
            what + " while the link is cut: MetaServer answered " + edge + ", not 503");
      }
      count("writes refused offline (503)");
      return;
    }
    if (!sameVerdict(oracle, edge)) {
      throw new Difference(
          what
              + ": MetaServer answered "
              + edge.verdict()
              + ", the apiserver's dry run "
              + oracle.verdict()
              + "\n  MetaServer: "
              + edge
              + "\n  apiserver:  "
              + oracle);
    }
    if (edge.code() / 100 == 2 && edge.isJson()) {
      JsonNode o = edge.json();
      if (!"Status".equals(o.path("kind").asString(""))) {
        st.acknowledged.add(
            new String[] {c.ns(ns), name, o.path("metadata").path("resourceVersion").asString("")});
      }
    }
  }

  private static ObjectNode configMap(String name, String app, String tier, String value) {
    ObjectNode o = Json.object();
    o.put("apiVersion", "v1");
    o.put("kind", "ConfigMap");
    ObjectNode m = o.putObject("metadata");
    m.put("name", name);
    ObjectNode l = m.putObject("labels");
    l.put("app", app);
    if (!tier.isEmpty()) {
      l.put("tier", tier);
    }
    o.putObject("data").put("v", value);
    return o;
  }

  private void burst(ScheduleState st, Step.Burst b) {
    st.unsettled = true;
    String token = c.token(b.ns(), b.slot(), Token.CURRENT);
    String target = collection(b.ns()) + "/" + b.name();
    String type = "application/merge-patch+json";
    for (int i = 0; i < b.count(); i++) {
      String body = "{\"data\":{\"v\":\"" + writes.incrementAndGet() + "\"}}";
      Reply oracle = c.http.call(c.apiserver(), "PATCH", target + "?dryRun=All", token, type, body);
      Reply edge = c.http.call(c.metaServer(), "PATCH", target, token, type, body);
      expectWrite(st, b.ns(), b.name(), oracle, edge, b + " (patch " + (i + 1) + ")");
      if (edge.code() != 200) {
        return; // nothing to patch, or not allowed: the rest would be the same
      }
      count("writes through MetaServer");
    }
  }

  private void cloudWrite(ScheduleState st, Step.CloudWrite w) {
    st.unsettled = true;
    var cms = c.admin.configMaps().inNamespace(c.ns(w.ns()));
    String value = Long.toString(writes.incrementAndGet());
    try {
      switch (w.kind()) {
        case CREATE ->
            cms.resource(
                    new ConfigMapBuilder()
                        .withNewMetadata()
                        .withName(w.name())
                        .addToLabels("app", w.app())
                        .endMetadata()
                        .addToData("v", value)
                        .build())
                .create();
        case UPDATE, PATCH_DATA -> {
          if (cms.withName(w.name()).get() != null) {
            cms.withName(w.name())
                .edit(
                    (ConfigMap m) -> {
                      m.setData(new java.util.HashMap<>(Map.of("v", value)));
                      return m;
                    });
          }
        }
        case PATCH_LABELS -> {
          if (cms.withName(w.name()).get() != null) {
            cms.withName(w.name())
                .edit(
                    (ConfigMap m) -> {
                      m.getMetadata().getLabels().put("app", w.app());
                      return m;
                    });
          }
        }
        case DELETE -> cms.withName(w.name()).delete();
      }
    } catch (RuntimeException e) {
      LOG.debug("{}: {}", w, e.toString()); // exists already, or gone meanwhile
    }
    if (c.isCut()) {
      st.staleWhileCut = true;
    }
    count("writes at the apiserver");
  }

  // ---------------------------------------------------------------- reads

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private String selectors(int ns, String labels, String fields) {
    StringBuilder q = new StringBuilder();
    if (!labels.isEmpty()) {
      q.append("&labelSelector=").append(enc(labels));
    }
    if (!fields.isEmpty()) {
      q.append("&fieldSelector=").append(enc(fields.replace("$ns", c.ns(Math.max(ns, 0)))));
    }
    return q.toString();
  }

  /** A version from the history, picked by {@code pick}: recent, of this schedule, or older. */
  private long historyVersion(ScheduleState st, Version v, double pick) {
    List<History.Event> h = c.history.events();
    if (h.isEmpty()) {
      return c.history.newest();
    }
    int from;
    int to;
    switch (v) {
      case RECENT, EXACT_RECENT -> {
        from = Math.max(0, h.size() - 10);
        to = h.size();
      }
      case OLD -> {
        from = Math.min(st.historyStart, h.size() - 1);
        to = h.size();
      }
      default -> {
        from = 0;
        to = Math.max(1, Math.min(st.historyStart, h.size()));
      }
    }
    return h.get(from + (int) (pick * (to - from))).rv();
  }

  private void read(ScheduleState st, Step.Read r) {
    String token = c.token(Math.max(r.ns(), 0), r.slot(), r.token());
    boolean get = r.kind() == Step.ReadKind.GET;
    String path = collection(r.ns()) + (get ? "/" + r.name() : "");
    long picked =
        r.version() == Version.RECENT || r.version() == Version.EXACT_RECENT
            ? historyVersion(st, r.version(), r.pick())
            : 0;
    String q =
        switch (r.version()) {
          case UNSET -> "";
          case ZERO -> "&resourceVersion=0";
          case RECENT -> "&resourceVersion=" + picked;
          case EXACT_RECENT -> "&resourceVersion=" + picked + "&resourceVersionMatch=Exact";
          default -> throw new IllegalStateException(r.version().toString());
        };
    q += get ? "" : selectors(r.ns(), r.labelSelector(), r.fieldSelector());
    String url = path + (q.isEmpty() ? "" : "?" + q.substring(1));
    Reply edge = c.http.get(c.metaServer(), url, token);
    Reply api = c.http.get(c.apiserver(), url, token);
    String what = r + " (" + url + ")";
    boolean offline = c.isCut();
    if (offline
        && (r.version() == Version.RECENT || r.version() == Version.EXACT_RECENT)
        && (edge.code() == 410 || edge.code() == 504)) {
      count("offline reads of a version the store does not hold (410/504)");
      return;
    }
    if (!get
        && r.version() == Version.RECENT
        && api.code() == 504
        && api.body() != null
        && api.body().contains("Too large resource version")
        && edge.code() == 200) {
      // The apiserver's watch cache had not reached a version it had itself sent (it lags under
      // load, and a v1.20 cache re-listing after a broken etcd watch starts behind): its 504 is
      // about its cache, not the request. MetaServer's list must still be the truth at a version
      // not older than the one asked for.
      long named =
          Long.parseLong(edge.json().path("metadata").path("resourceVersion").asString("0"));
      if (named < picked) {
        throw new Difference(
            what + ": MetaServer's list names resourceVersion " + named + ", older than asked");
      }
      claim(what, r.ns(), r.labelSelector(), r.fieldSelector(), edge.json());
      count("reads the apiserver's lagging watch cache refused (504), MetaServer's claim checked");
      return;
    }
    if (get
        && !offline
        && r.version() == Version.ZERO
        && !sameVerdict(api, edge)
        && (edge.code() == 200 || edge.code() == 404)
        && (api.code() == 200 || api.code() == 404)) {
      // Any version: each answers from what it has heard so far (the apiserver from its watch
      // cache, MetaServer from its store), so an object just created or deleted may be found by one
      // and not the other, as by two apiservers' caches. They must agree once both have heard.
      count("resourceVersion=0 reads of an object just written, found by one side first");
      converge(
          what,
          () -> c.http.get(c.metaServer(), url, token),
          () -> c.http.get(c.apiserver(), path, token),
          st,
          false);
      return;
    }
    if (!sameVerdict(api, edge)) {
      throw new Difference(
          what
              + ": MetaServer "
              + edge.verdict()
              + ", apiserver "
              + api.verdict()
              + answers(edge, api));
    }
    count("reads compared");
    if (edge.code() != 200) {
      return;
    }
    if (get) {
      if (!offline && r.version() != Version.ZERO) {
        same(what, api.json(), edge.json());
      } else {
        converge(
            what,
            () -> c.http.get(c.metaServer(), url, token),
            () -> c.http.get(c.apiserver(), path, token),
            st,
            offline);
      }
      return;
    }
    if (!offline
        && (r.version() == Version.UNSET
            || r.version() == Version.RECENT
            || r.version() == Version.EXACT_RECENT)) {
      if (r.version() == Version.RECENT) {
        // Not older than a version: the apiserver answers from its watch cache, whose lists
        // (v1.20) come in no particular order; the same items are what counts.
        sameItems(what, byName(api.json()), byName(edge.json()));
      } else {
        sameItems(what, api.json(), edge.json());
      }
      return;
    }
    // Answered from the edge's store: the version it names is true.
    claim(what, r.ns(), r.labelSelector(), r.fieldSelector(), edge.json());
    if (r.version() == Version.RECENT || r.version() == Version.EXACT_RECENT) {
      return; // offline: the store's state, checked by its claim
    }
    String current = path + selectorsQuery(r.ns(), r.labelSelector(), r.fieldSelector());
    converge(
        what,
        () -> c.http.get(c.metaServer(), url, token),
        () -> c.http.get(c.apiserver(), current, token),
        st,
        offline);
  }

  private String selectorsQuery(int ns, String labels, String fields) {
    String s = selectors(ns, labels, fields);
    return s.isEmpty() ? "" : "?" + s.substring(1);
  }

  /**
   * The items of a list MetaServer answered from its store are the apiserver's at the version the
   * list names (an exact list at that version, same selectors).
   */
  private void claim(String what, int ns, String labels, String fields, JsonNode list) {
    String rv = list.path("metadata").path("resourceVersion").asString("");
    if (rv.isEmpty()) {
      throw new Difference(what + ": MetaServer's list names no resourceVersion");
    }
    String url =
        collection(ns)
            + "?resourceVersion="
            + rv
            + "&resourceVersionMatch=Exact"
            + selectors(ns, labels, fields);
    Reply exact = c.http.get(c.apiserver(), url, c.recorderToken());
    if (exact.code() == 410) {
      count("claims not checkable (compacted)");
      return;
    }
    if (exact.code() != 200) {
      throw new IllegalStateException("the apiserver's exact list failed: " + exact);
    }
    List<JsonNode> want = items(exact.json());
    List<JsonNode> got = items(list);
    if (!want.equals(got) && items(byName(exact.json())).equals(items(byName(list)))) {
      // The same items in another order: a resourceVersion=0 list the edge did not serve from its
      // store but passed on from the cloud, which the apiserver answers from its watch cache in no
      // particular order (v1.20; seed 656204347, right after a kill -9).
      count("claims equal but for the order of a list relayed from the apiserver's cache");
      count("list versions checked against the apiserver's exact list");
      return;
    }
    if (!want.equals(got)) {
      throw new Difference(
          what
              + ": MetaServer's list names resourceVersion "
              + rv
              + " but the apiserver's list at that version differs\n  MetaServer: "
              + Difference.summary(got)
              + "\n  apiserver@"
              + rv
              + ": "
              + Difference.summary(want)
              + "\n  first difference: "
              + Difference.firstDifference(
                  Json.NODES.arrayNode().addAll(want), Json.NODES.arrayNode().addAll(got)));
    }
    count("list versions checked against the apiserver's exact list");
  }

  /**
   * Waits until MetaServer's answer equals the apiserver's current one (a store catching up),
   * bounded. Offline, when the cloud changed meanwhile, the store cannot catch up: not compared.
   */
  private void converge(
      String what, Supplier<Reply> edge, Supplier<Reply> api, ScheduleState st, boolean offline) {
    if (offline && st.staleWhileCut) {
      count("offline reads of a store behind the cloud (claim checked)");
      return;
    }
    long t0 = System.nanoTime();
    long end = t0 + CONVERGE.toNanos();
    String last = "";
    while (true) {
      Reply e = edge.get();
      Reply a = api.get();
      if (sameVerdict(a, e)) {
        if (e.code() != 200) {
          return;
        }
        JsonNode ej = e.json();
        JsonNode aj = a.json();
        boolean isList = ej.has("items");
        String d =
            isList
                ? (items(aj).equals(items(ej)) ? "" : listDifference(items(aj), items(ej)))
                : Difference.firstDifference(aj, ej);
        if (d.isEmpty()) {
          long ms = (System.nanoTime() - t0) / 1_000_000;
          most("longest wait for the edge's store to catch up (ms)", ms);
          count("reads converged");
          return;
        }
        last = d;
      } else {
        last = "MetaServer " + e.verdict() + ", apiserver " + a.verdict();
      }
      if (System.nanoTime() > end || offline) {
        throw new Difference(
            what
                + (offline
                    ? ": while cut off, with nothing changed at the cloud, MetaServer's store differs"
                        + " from the apiserver: "
                    : ": MetaServer's store did not catch up with the apiserver in "
                        + CONVERGE.toSeconds()
                        + " s: ")
                + last);
      }
      sleep(100);
    }
  }

  private static String listDifference(List<JsonNode> api, List<JsonNode> edge) {
    return "\n  MetaServer: "
        + Difference.summary(edge)
        + "\n  apiserver:  "
        + Difference.summary(api)
        + "\n  first difference: "
        + Difference.firstDifference(
            Json.NODES.arrayNode().addAll(api), Json.NODES.arrayNode().addAll(edge));
  }

  /**
   * A list's items as they came, {@code kind} and {@code apiVersion} included: the apiserver leaves
   * them out of the items of a built-in type's list, and so must MetaServer.
   */
  private static List<JsonNode> items(JsonNode list) {
    List<JsonNode> out = new ArrayList<>();
    list.path("items").forEach(out::add);
    return out;
  }

  /** The list with its items ordered by namespace and name. */
  private static JsonNode byName(JsonNode list) {
    List<JsonNode> l = new ArrayList<>();
    list.path("items").forEach(l::add);
    l.sort(
        Comparator.comparing(
            (JsonNode i) ->
                i.path("metadata").path("namespace").asString("")
                    + "/"
                    + i.path("metadata").path("name").asString("")));
    ObjectNode o = Json.object();
    o.putArray("items").addAll(l);
    return o;
  }

  private static void sameItems(String what, JsonNode api, JsonNode edge) {
    List<JsonNode> a = items(api);
    List<JsonNode> e = items(edge);
    if (!a.equals(e)) {
      throw new Difference(what + ": the lists differ" + listDifference(a, e));
    }
  }

  private static void same(String what, JsonNode api, JsonNode edge) {
    String d = Difference.firstDifference(api, edge);
    if (!d.isEmpty()) {
      throw new Difference(what + ": the answers differ: " + d);
    }
  }

  private static String answers(Reply edge, Reply api) {
    return "\n  MetaServer: " + edge + "\n  apiserver:  " + api;
  }

  /**
   * The same outcome: HTTP status and, for a Status, its reason — and for 403 its message, which
   * names the user and the refused verb as the apiserver's does.
   */
  static boolean sameVerdict(Reply a, Reply b) {
    if (a.code() != b.code()) {
      return false;
    }
    if (a.code() < 400) {
      return true;
    }
    if (!a.verdict().equals(b.verdict())) {
      return false;
    }
    if (a.code() == 403 && a.isJson() && b.isJson()) {
      return a.json().path("message").equals(b.json().path("message"));
    }
    return true;
  }

  // ---------------------------------------------------------------- paged lists

  private void paged(ScheduleState st, Step.PagedList p) {
    String token = c.token(p.ns(), p.slot(), Token.CURRENT);
    String base =
        collection(p.ns()) + "?limit=" + p.limit() + selectors(p.ns(), p.labelSelector(), "");
    boolean offlineAtStart = c.isCut();
    List<JsonNode> refPages = pages(c.apiserver(), base, token, null);
    List<JsonNode> edgePages = pages(c.metaServer(), base, token, p);
    String what = p.toString();
    JsonNode first = edgePages.get(0);
    JsonNode refFirst = refPages.get(0);
    if (first.has("code")) {
      if (!first.path("code").equals(refFirst.path("code"))) {
        throw new Difference(what + ": MetaServer " + first + ", apiserver " + refFirst);
      }
      return;
    }
    if (!refFirst.has("items")) {
      throw new Difference(what + ": the apiserver answered " + refFirst + ", MetaServer a list");
    }
    List<JsonNode> got = new ArrayList<>();
    for (JsonNode page : edgePages) {
      if (page.has("code")) {
        if (page.path("code").asInt() == 410 && p.between() != Step.Between.NOTHING) {
          count("paged lists whose continue expired across a link change (410)");
          return;
        }
        throw new Difference(what + ": a later page was answered " + page);
      }
      got.addAll(items(page));
    }
    for (int i = 0; i < edgePages.size(); i++) {
      JsonNode page = edgePages.get(i);
      boolean last = i == edgePages.size() - 1;
      int n = page.path("items").size();
      if (last ? n > p.limit() : n != p.limit()) {
        throw new Difference(what + ": page " + (i + 1) + " of MetaServer's has " + n + " items");
      }
    }
    if (p.between() == Step.Between.NOTHING && !(offlineAtStart && st.staleWhileCut)) {
      // The same pages as the apiserver's.
      if (refPages.size() != edgePages.size()) {
        throw new Difference(
            what
                + ": MetaServer gave "
                + edgePages.size()
                + " pages, the apiserver "
                + refPages.size()
                + pageSummary(edgePages, refPages));
      }
      for (int i = 0; i < refPages.size(); i++) {
        JsonNode a = refPages.get(i);
        JsonNode e = edgePages.get(i);
        if (!items(a).equals(items(e))
            || a.path("metadata").path("continue").asString("").isEmpty()
                != e.path("metadata").path("continue").asString("").isEmpty()
            || !a.path("metadata")
                .path("remainingItemCount")
                .equals(e.path("metadata").path("remainingItemCount"))) {
          throw new Difference(
              what + ": page " + (i + 1) + " differs" + pageSummary(edgePages, refPages));
        }
      }
      remainingCounts(what, edgePages, refPages, p);
      count(
          offlineAtStart
              ? "paged lists compared page by page (offline: from the edge's store)"
              : "paged lists compared page by page");
      return;
    }
    // Pages from both sides of a link change: together the list at the first page's version.
    String rv = first.path("metadata").path("resourceVersion").asString("");
    ObjectNode whole = Json.object();
    whole.putObject("metadata").put("resourceVersion", rv);
    whole.putArray("items").addAll(got);
    claim(what, p.ns(), p.labelSelector(), "", whole);
    remainingCounts(what, edgePages, refPages, p);
    count("paged lists across a link change checked against the apiserver's exact list");
  }

  /**
   * Each of MetaServer's pages has the {@code remainingItemCount} the apiserver would write: with a
   * token and no selector, the number of items the pages after it hold (together the list at the
   * version the first page named); otherwise none.
   */
  private static void remainingCounts(
      String what, List<JsonNode> edgePages, List<JsonNode> refPages, Step.PagedList p) {
    for (int i = 0; i < edgePages.size(); i++) {
      JsonNode remaining = edgePages.get(i).path("metadata").path("remainingItemCount");
      if (i == edgePages.size() - 1 || !p.labelSelector().isEmpty()) {
        if (!remaining.isMissingNode()) {
          throw new Difference(
              what
                  + ": page "
                  + (i + 1)
                  + " of MetaServer's has a remainingItemCount the apiserver does not write"
                  + pageSummary(edgePages, refPages));
        }
        continue;
      }
      long after = 0;
      for (int j = i + 1; j < edgePages.size(); j++) {
        after += edgePages.get(j).path("items").size();
      }
      if (!remaining.isIntegralNumber() || remaining.asLong() != after) {
        throw new Difference(
            what
                + ": page "
                + (i + 1)
                + " of MetaServer's says remainingItemCount "
                + (remaining.isMissingNode() ? "(absent)" : remaining)
                + " where "
                + after
                + " items follow it"
                + pageSummary(edgePages, refPages));
      }
    }
  }

  private static String pageSummary(List<JsonNode> edge, List<JsonNode> api) {
    StringBuilder b = new StringBuilder("\n  MetaServer's pages:");
    for (JsonNode p : edge) {
      b.append(' ').append(Difference.summary(items(p))).append(p.path("metadata"));
    }
    b.append("\n  apiserver's pages: ");
    for (JsonNode p : api) {
      b.append(' ').append(Difference.summary(items(p))).append(p.path("metadata"));
    }
    return b.toString();
  }

  /**
   * Reads every page; a page that is not a list ends the pages with {@code {"code": N, "status":
   * …}}. With {@code p} given, the link is cut or restored after the first page as it says.
   */
  private List<JsonNode> pages(String server, String base, String token, Step.PagedList p) {
    List<JsonNode> out = new ArrayList<>();
    String cont = "";
    for (int i = 0; i < 100; i++) {
      Reply r = c.http.get(server, base + (cont.isEmpty() ? "" : "&continue=" + enc(cont)), token);
      if (i == 0 && p != null && r.code() != 200) {
        linkChange(p); // the schedule counts on it whatever the first page was
      }
      if (r.code() != 200) {
        ObjectNode e = Json.object();
        e.put("code", r.code());
        e.put("status", r.verdict());
        e.put("body", r.body());
        out.add(e);
        return out;
      }
      JsonNode page = r.json();
      out.add(page);
      if (i == 0 && p != null) {
        linkChange(p);
      }
      cont = page.path("metadata").path("continue").asString("");
      if (cont.isEmpty()) {
        return out;
      }
    }
    throw new Difference("more than 100 pages from " + server + base);
  }

  private void linkChange(Step.PagedList p) {
    if (p.between() == Step.Between.CUT) {
      c.cut(false);
    } else if (p.between() == Step.Between.RESTORED) {
      c.restore();
    }
  }

  // ---------------------------------------------------------------- watches

  /**
   * A watch through MetaServer and the apiserver's watch of the same scope from the same version.
   */
  private final class WatchPair {
    final Step.WatchOpen step;
    final int openedAt;
    final String url;
    final long from;
    final int initial; // events that are the objects present at the start (resourceVersion 0/"")
    final WatchStream edge;
    final WatchStream api;
    final int killsAtOpen;

    WatchPair(
        Step.WatchOpen step,
        int openedAt,
        String url,
        long from,
        int initial,
        WatchStream edge,
        WatchStream api,
        int kills) {
      this.step = step;
      this.openedAt = openedAt;
      this.url = url;
      this.from = from;
      this.initial = initial;
      this.edge = edge;
      this.api = api;
      this.killsAtOpen = kills;
    }

    void close() {
      edge.close();
      api.close();
    }
  }

  private void watchOpen(ScheduleState st, Step.WatchOpen w) {
    int ns = w.ns();
    String token = c.token(ns, w.slot(), Token.CURRENT);
    String sel = selectors(ns, w.labelSelector(), w.fieldSelector());
    Version v = w.version();
    if ((v == Version.ZERO || v == Version.UNSET) && c.isCut() && st.staleWhileCut) {
      // Its first events would be the edge's older state: not the apiserver's events.
      v = Version.LISTED;
    }
    String rv;
    int initial = 0;
    switch (v) {
      case ZERO, UNSET -> {
        // Once the store has caught up the objects it starts with are the apiserver's.
        String list = collection(ns) + "?resourceVersion=0" + sel;
        String cur = collection(ns) + selectorsQuery(ns, w.labelSelector(), w.fieldSelector());
        converge(
            w + " (the store first)",
            () -> c.http.get(c.metaServer(), list, token),
            () -> c.http.get(c.apiserver(), cur, token),
            st,
            c.isCut());
        Reply now = c.http.get(c.apiserver(), cur, token);
        initial = now.code() == 200 ? now.json().path("items").size() : 0;
        rv = v == Version.ZERO ? "0" : "";
      }
      case LISTED -> {
        String list = collection(ns) + "?resourceVersion=0" + sel;
        Reply l = c.http.get(c.metaServer(), list, token);
        if (l.code() == 200) {
          claim(w + " (its list)", ns, w.labelSelector(), w.fieldSelector(), l.json());
          rv = l.json().path("metadata").path("resourceVersion").asString("");
        } else {
          rv = Long.toString(c.history.newest());
        }
      }
      default -> rv = Long.toString(historyVersion(st, v, w.pick()));
    }
    String url =
        collection(ns)
            + "?watch=true&timeoutSeconds=1800"
            + (rv.isEmpty() ? "" : "&resourceVersion=" + rv)
            + sel;
    WatchStream api = c.http.watch(c.apiserver(), url, token);
    WatchStream edge = c.http.watch(c.metaServer(), url, token);
    // Both authorize a watch when they get it: the next step (a RoleBinding revoked, a pod
    // deleted) must not overtake the request on its way to one of them (seed 656203990: the edge
    // got it after the revocation and refused it; the apiserver had it before).
    awaitCode(api, "the apiserver's watch");
    awaitCode(edge, "MetaServer's watch");
    long from = rv.isEmpty() ? 0 : Long.parseLong(rv);
    st.watches.put(w.id(), new WatchPair(w, st.index, url, from, initial, edge, api, st.kills));
    count("watches opened");
  }

  private void watchCheck(ScheduleState st, int id) {
    WatchPair p = st.watches.remove(id);
    if (p == null) {
      return;
    }
    try {
      compare(st, p);
    } finally {
      p.close();
    }
  }

  private void compare(ScheduleState st, WatchPair p) {
    String what = p.step + " (" + p.url + ", opened at step " + (p.openedAt + 1) + ")";
    awaitCode(p.api, "the apiserver's watch");
    awaitCode(p.edge, "MetaServer's watch");
    boolean killed = st.kills > p.killsAtOpen;
    if (p.edge.code() == 0 && killed) {
      count("watches ended by kill -9 before they answered");
      return;
    }
    if (p.edge.code() != p.api.code()) {
      throw new Difference(
          what
              + ": MetaServer answered "
              + p.edge.code()
              + " "
              + p.edge.refusal()
              + ", the apiserver "
              + p.api.code()
              + " "
              + p.api.refusal());
    }
    if (p.api.code() != 200) {
      count("watches refused alike");
      return;
    }
    // The apiserver's watch is complete once it has been quiet a moment: steps run one by one.
    long t0 = System.nanoTime();
    while (p.api.quietNanos() < 500_000_000L && System.nanoTime() - t0 < 10_000_000_000L) {
      sleep(50);
    }
    List<JsonNode> want = p.api.events();
    boolean expired = !want.isEmpty() && "ERROR".equals(want.get(0).path("type").asString(""));
    if (expired) {
      want = fromHistory(p);
      if (want == null) {
        List<JsonNode> got = p.edge.events();
        if (!got.isEmpty() && "ERROR".equals(got.get(0).path("type").asString(""))) {
          count("watches too old for both (410 at both)");
        } else {
          count("watches too old for the apiserver's watch cache, selected: not compared");
        }
        return;
      }
    }
    List<JsonNode> reference = want;
    long w0 = System.nanoTime();
    while (System.nanoTime() - w0 < WATCH_CATCH_UP.toNanos()) {
      List<JsonNode> got = p.edge.events();
      if (p.edge.ended() || got.size() >= reference.size() || hasError(got)) {
        break;
      }
      sleep(50);
    }
    sleep(200); // anything more than the apiserver sent arrives now
    List<JsonNode> got = p.edge.events();
    int err = errorIndex(got);
    List<JsonNode> delivered = err < 0 ? got : got.subList(0, err);
    String mismatch = sequenceDifference(reference, delivered, p.initial);
    if (err >= 0) {
      JsonNode status = got.get(err).path("object");
      if (status.path("code").asInt() != 410) {
        throw new Difference(what + ": MetaServer's watch ended with " + status);
      }
      if (!mismatch.isEmpty() && !mismatch.startsWith("shorter")) {
        throw new Difference(
            what
                + ": before its 410, MetaServer's watch "
                + mismatch
                + events(delivered, reference));
      }
      count(
          err == 0
              ? "watches answered 410 at once by MetaServer"
              : "watches ended with 410 by MetaServer after " + "some events");
      return;
    }
    if (mismatch.isEmpty()) {
      count(
          expired
              ? "watches equal to the apiserver's history (its watch cache had expired)"
              : "watches equal to the apiserver's, event for event");
      most("most events in one compared watch", reference.size());
      return;
    }
    if (mismatch.startsWith("shorter") && p.edge.ended() && !p.edge.closedByUs()) {
      if (killed) {
        count("watches ended by kill -9 (a prefix of the apiserver's)");
        return;
      }
      throw new Difference(
          what
              + ": MetaServer's watch ended ("
              + p.edge.endReason()
              + ") without 410 after "
              + delivered.size()
              + " of "
              + reference.size()
              + " events"
              + events(delivered, reference));
    }
    throw new Difference(what + ": MetaServer's watch " + mismatch + events(delivered, reference));
  }

  private static String events(List<JsonNode> edge, List<JsonNode> api) {
    return "\n  MetaServer: "
        + Difference.summary(edge)
        + "\n  apiserver:  "
        + Difference.summary(api);
  }

  /**
   * How {@code got} differs from {@code want} ("" when equal): the first {@code initial} events
   * (the objects at the start) as a set, the rest in order; "shorter …" when {@code got} is a
   * proper prefix.
   */
  static String sequenceDifference(List<JsonNode> want, List<JsonNode> got, int initial) {
    int n = Math.min(initial, want.size());
    if (n > 0) {
      if (got.size() < n) {
        return "shorter: " + got.size() + " of the " + n + " objects it starts with";
      }
      Comparator<JsonNode> byName =
          Comparator.comparing(e -> e.path("object").path("metadata").path("name").asString(""));
      List<JsonNode> a = new ArrayList<>(want.subList(0, n));
      List<JsonNode> b = new ArrayList<>(got.subList(0, n));
      a.sort(byName);
      b.sort(byName);
      for (int i = 0; i < n; i++) {
        String d = Difference.firstDifference(a.get(i), b.get(i));
        if (!d.isEmpty()) {
          return "starts with other objects: " + d;
        }
      }
    }
    for (int i = n; i < Math.max(want.size(), got.size()); i++) {
      if (i >= got.size()) {
        return "shorter: " + got.size() + " of " + want.size() + " events";
      }
      if (i >= want.size()) {
        return "has more events: " + (i + 1) + ". is " + Difference.summary(List.of(got.get(i)));
      }
      String d = Difference.firstDifference(want.get(i), got.get(i));
      if (!d.isEmpty()) {
        return "differs at event " + (i + 1) + ": " + d;
      }
    }
    return "";
  }

  private static boolean hasError(List<JsonNode> events) {
    return errorIndex(events) >= 0;
  }

  private static int errorIndex(List<JsonNode> events) {
    for (int i = 0; i < events.size(); i++) {
      if ("ERROR".equals(events.get(i).path("type").asString(""))) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The apiserver's events of the watch's namespace after its version, from the history (itself the
   * apiserver's watch), when the watch has no selectors and the history covers the version; else
   * null.
   */
  private List<JsonNode> fromHistory(WatchPair p) {
    if (!p.step.labelSelector().isEmpty() || !p.step.fieldSelector().isEmpty() || p.from == 0) {
      return null;
    }
    String ns = c.ns(p.step.ns());
    List<History.Event> h = c.history.events();
    int start = -1;
    for (int i = 0; i < h.size(); i++) {
      if (h.get(i).rv() > p.from) {
        start = i;
        break;
      }
    }
    if (start <= 0 || !c.history.continuousFrom(start - 1) || h.get(start - 1).rv() > p.from) {
      return null; // the history does not reach back to the watch's version
    }
    List<JsonNode> out = new ArrayList<>();
    for (int i = start; i < h.size(); i++) {
      History.Event e = h.get(i);
      if (e.namespace().equals(ns)) {
        ObjectNode ev = Json.object();
        ev.put("type", e.type());
        ev.set("object", e.object());
        out.add(ev);
      }
    }
    return out;
  }

  private static void awaitCode(WatchStream w, String what) {
    long t0 = System.nanoTime();
    while (w.code() < 0) {
      if (System.nanoTime() - t0 > 60_000_000_000L) {
        throw new Difference(what + " gave no answer in 60 s: " + w.url);
      }
      sleep(20);
    }
  }

  // ---------------------------------------------------------------- checkpoints

  private void checkpoint(ScheduleState st, int slot) {
    boolean offline = c.isCut();
    for (int ns = 0; ns < 2; ns++) {
      String token = c.token(ns, slot, Token.CURRENT);
      String path = collection(ns);
      String what = "checkpoint: LIST in ns" + ns + " as slot " + slot;
      Reply e = c.http.get(c.metaServer(), path, token);
      Reply a = c.http.get(c.apiserver(), path, token);
      if (!sameVerdict(a, e)) {
        throw new Difference(
            what + ": MetaServer " + e.verdict() + ", apiserver " + a.verdict() + answers(e, a));
      }
      if (e.code() == 200) {
        if (offline) {
          claim(what + " (offline)", ns, "", "", e.json());
          converge(
              what,
              () -> c.http.get(c.metaServer(), path, token),
              () -> c.http.get(c.apiserver(), path, token),
              st,
              true);
        } else {
          sameItems(what, a.json(), e.json());
        }
      }
      String zero = path + "?resourceVersion=0";
      Reply z = c.http.get(c.metaServer(), zero, token);
      if (z.code() == 200) {
        claim(what + " resourceVersion=0", ns, "", "", z.json());
      }
      converge(
          what + " resourceVersion=0",
          () -> c.http.get(c.metaServer(), zero, token),
          () -> c.http.get(c.apiserver(), path, token),
          st,
          offline);
      for (int s = 0; s < Schedule.SLOTS; s++) {
        for (Token t : Token.values()) {
          String tok = c.token(ns, s, t);
          Reply ev = c.http.get(c.metaServer(), zero, tok);
          Reply av = c.http.get(c.apiserver(), zero, tok);
          if (!sameVerdict(av, ev)) {
            throw new Difference(
                "checkpoint: slot "
                    + s
                    + "'s "
                    + t
                    + " token in ns"
                    + ns
                    + ": MetaServer "
                    + ev.verdict()
                    + ", apiserver "
                    + av.verdict()
                    + answers(ev, av));
          }
        }
      }
    }
    if (!offline) {
      st.unsettled = false; // both namespaces' stores converged on the apiserver's lists
    }
    count("checkpoints");
  }

  /** Every write MetaServer acknowledged is in the apiserver's history. */
  private void checkAcknowledged(ScheduleState st) {
    for (String[] w : st.acknowledged) {
      long rv = Long.parseLong(w[2]);
      c.history.awaitVersion(rv, 30_000);
      if (c.history.find(w[0], w[1], rv) == null && c.history.continuousFrom(st.historyStart)) {
        throw new Difference(
            "acknowledged write lost: "
                + w[0]
                + "/"
                + w[1]
                + "@"
                + rv
                + " is not among the apiserver's events");
      }
    }
    count("acknowledged writes found at the apiserver");
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
