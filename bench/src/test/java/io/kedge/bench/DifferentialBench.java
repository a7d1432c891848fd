package io.kedge.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.diff.DiffCluster;
import io.kedge.testkit.diff.DifferentialRun;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 17's differential test at length: a thousand random schedules (the suite's {@code
 * DifferentialIT} runs twenty) against one real cloudcore and several edgecores (three by default,
 * {@code -Dbench.diff.edges}), each schedule compared with the apiserver step by step. Records in
 * BENCHMARKS.md how many schedules ran, how long they took, what they exercised, and the seed of
 * every schedule that found a difference (replay one with {@code -Dit.test=DifferentialIT
 * -Dkedge.diff.seed=N -Dkedge.diff.schedules=1} in module e2e).
 *
 * <p>{@code -Dkedge.diff.schedules} (default 1000), {@code -Dkedge.diff.seed} (default: random),
 * {@code -Dkedge.diff.steps} (default 24); {@code -Dbench.diff.minutes} stops starting schedules
 * after that long, and the section then says how many of the asked-for schedules ran.
 */
@WithControlPlane
class DifferentialBench {
  private static final Logger LOG = LoggerFactory.getLogger(DifferentialBench.class);
  private static final String COMMAND =
      "mvn -B -ntp -Pbench -pl bench -am verify -Dit.test=DifferentialBench";

  @TempDir Path dir;

  /**
   * Runs the schedules on {@code edges} edges of one cloudcore at once: a schedule mostly waits
   * (for the apiserver's token cache, a silent cut to be noticed, the edge to catch up), so several
   * edges run a thousand in a fraction of the time one does.
   */
  private DifferentialRun.Result run(
      ControlPlane plane,
      KubernetesClient admin,
      long seed,
      int schedules,
      int steps,
      Duration budget,
      int edges) {
    long t0 = System.nanoTime();
    AtomicInteger next = new AtomicInteger();
    List<DiffCluster> clusters = new ArrayList<>();
    try (CloudCoreProcess cloud = DiffCluster.startCloud(plane, dir.resolve("cloudcore"))) {
      try {
        for (int e = 0; e < edges; e++) {
          clusters.add(DiffCluster.startOn(plane, admin, dir.resolve("edge-" + e), cloud));
        }
        ExecutorService pool = Executors.newFixedThreadPool(edges);
        try {
          List<Future<DifferentialRun.Result>> runs = new ArrayList<>();
          for (DiffCluster c : clusters) {
            runs.add(
                pool.submit(
                    () -> new DifferentialRun(c).run(seed, schedules, steps, budget, next, t0)));
          }
          List<DifferentialRun.Result> results = new ArrayList<>();
          for (Future<DifferentialRun.Result> f : runs) {
            results.add(f.get());
          }
          return DifferentialRun.merge(results, Duration.ofNanos(System.nanoTime() - t0));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
          throw new IllegalStateException("a run failed", e.getCause());
        } finally {
          pool.shutdownNow();
        }
      } finally {
        for (DiffCluster c : clusters) {
          c.close();
        }
      }
    }
  }

  @Test
  void thousandSchedules(ControlPlane plane, KubernetesClient admin) {
    long seed = Long.getLong("kedge.diff.seed", System.currentTimeMillis() % 1_000_000_000L);
    int schedules = Integer.getInteger("kedge.diff.schedules", 1000);
    int steps = Integer.getInteger("kedge.diff.steps", 24);
    String minutes = System.getProperty("bench.diff.minutes", "");
    Duration budget = minutes.isEmpty() ? null : Duration.ofMinutes(Long.parseLong(minutes));
    int edges = Integer.getInteger("bench.diff.edges", 3);
    String load = BenchmarkReport.loadAverage();
    DifferentialRun.Result r = run(plane, admin, seed, schedules, steps, budget, edges);
    LOG.info("{} schedules, {} failures: {}", r.schedules(), r.failures().size(), r.counts());
    String command =
        COMMAND
            + (System.getProperty("kedge.diff.seed") == null ? "" : " -Dkedge.diff.seed=" + seed)
            + (schedules == 1000 ? "" : " -Dkedge.diff.schedules=" + schedules)
            + (steps == 24 ? "" : " -Dkedge.diff.steps=" + steps)
            + (budget == null ? "" : " -Dbench.diff.minutes=" + minutes)
            + (edges == 3 ? "" : " -Dbench.diff.edges=" + edges);
    List<List<String>> rows = new ArrayList<>();
    rows.add(
        List.of(
            "schedules run",
            r.schedules()
                + (r.schedules() < schedules
                    ? " of the " + schedules + " asked for (time budget " + minutes + " min spent)"
                    : "")));
    rows.add(List.of("seeds", seed + " … " + (seed + Math.max(0, r.schedules() - 1))));
    rows.add(List.of("steps in the schedules", Integer.toString(r.steps())));
    rows.add(List.of("time", r.took().toMinutes() + " min"));
    rows.add(List.of("**schedules that found a difference**", "**" + r.failures().size() + "**"));
    for (Map.Entry<String, Long> e : new TreeMap<>(r.counts()).entrySet()) {
      rows.add(List.of(e.getKey(), Long.toString(e.getValue())));
    }
    BenchmarkReport report =
        BenchmarkReport.section(
                "differential", "Differential test: MetaServer against the apiserver", command)
            .line(
                "Random schedules of "
                    + steps
                    + " steps (writes and bursts through MetaServer in two namespaces, writes at"
                    + " the apiserver, lists with resourceVersion unset/0/exact, pages, label and"
                    + " field selectors, watches from recent and old versions, pod creation and"
                    + " deletion, RoleBinding revocation, edgecore `kill -9`, cloud link cuts)"
                    + " against one real cloudcore and "
                    + edges
                    + " real edgecores (edge nodes of their own, each with its own namespaces,"
                    + " pods and link proxy), each edge running one schedule at a time; every"
                    + " answer compared with the apiserver's for the same request and token,"
                    + " every watch with the"
                    + " apiserver's watch of the same scope (equal event for event, or ended with"
                    + " 410). The suite's `DifferentialIT` runs 20 such schedules.")
            .line("")
            .table(List.of("measure", "value"), rows)
            .line("Load average when the run started: " + load + ".");
    if (!r.failures().isEmpty()) {
      report.line("").line("Seeds that found a difference (first line of each):").line("");
      for (DifferentialRun.Failure f : r.failures()) {
        report.line(
            "- seed "
                + f.seed()
                + ", step "
                + f.step()
                + ": "
                + f.difference().lines().findFirst().orElse("").replace("|", "\\|")
                + " — replay: `"
                + f.replay()
                + "`");
      }
    }
    report.write();
    assertThat(r.failures()).as("schedules that found a difference").isEmpty();
  }
}
