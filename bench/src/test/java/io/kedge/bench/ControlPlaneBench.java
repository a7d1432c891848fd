package io.kedge.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.controlplane.ControlPlane;
import io.kedge.controlplane.ControlPlaneOptions;
import io.kedge.controlplane.KubeBinaries;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local control plane: start time from cached binaries and memory of each component, and (with
 * {@code -Dbench.cold=true}) the cold build from Debian's source package.
 */
class ControlPlaneBench {
  private static final int STARTS = 3;

  @Test
  void cachedStartAndMemory(@TempDir Path tmp) throws Exception {
    KubeBinaries.ensure(ControlPlaneOptions.kedgeHomeFromEnvironment());
    List<Long> startMs = new ArrayList<>();
    Map<String, List<Long>> rssKb = new TreeMap<>();
    for (int i = 0; i < STARTS; i++) {
      long t0 = System.nanoTime();
      try (ControlPlane cp =
          ControlPlane.start(ControlPlaneOptions.defaults(tmp.resolve("cp" + i)))) {
        startMs.add((System.nanoTime() - t0) / 1_000_000);
        // Let the controllers settle before reading memory.
        Thread.sleep(5_000);
        for (String c :
            List.of("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")) {
          rssKb.computeIfAbsent(c, k -> new ArrayList<>()).add(rssKb(cp.pid(c)));
        }
      }
    }
    assertThat(startMs).hasSize(STARTS);
    List<List<String>> rows = new ArrayList<>();
    long total = 0;
    for (var e : rssKb.entrySet()) {
      long med = median(e.getValue());
      total += med;
      rows.add(List.of(e.getKey(), mb(med)));
    }
    rows.add(List.of("**total**", mb(total)));
    BenchmarkReport.section(
            "control-plane",
            "Local control plane: start from cache, memory",
            "mvn -B -ntp -Pbench -pl bench -am verify -Dit.test=ControlPlaneBench")
        .line(
            "Start (up to `/readyz` plus the default ServiceAccount and `kube-root-ca.crt`, i.e."
                + " controllers working), cached binaries, "
                + STARTS
                + " runs: median **"
                + median(startMs)
                + " ms** (runs: "
                + startMs
                + " ms).")
        .line("")
        .line("Resident memory (VmRSS) 5 s after start, median of " + STARTS + " runs:")
        .line("")
        .table(List.of("component", "RSS"), rows)
        .write();
  }

  @Test
  @EnabledIfSystemProperty(named = "bench.cold", matches = "true")
  void coldBuild(@TempDir Path cache) throws Exception {
    Path home = ControlPlaneOptions.kedgeHomeFromEnvironment();
    String loadBefore = BenchmarkReport.loadAverage();
    long t0 = System.nanoTime();
    ProcessBuilder pb =
        new ProcessBuilder(home.resolve("scripts/build-kube.sh").toString())
            .inheritIO()
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    pb.environment().put("KEDGE_CACHE", cache.toString()); // an empty cache: a cold build
    int rc = pb.start().waitFor();
    long ms = (System.nanoTime() - t0) / 1_000_000;
    String loadAfter = BenchmarkReport.loadAverage();
    assertThat(rc).isZero();
    BenchmarkReport.section(
            "control-plane-build",
            "Local control plane: cold build",
            "mvn -B -ntp -Pbench -pl bench -am verify"
                + " -Dit.test=ControlPlaneBench#coldBuild -Dbench.cold=true")
        .line(
            "`scripts/build-kube.sh` into an empty cache (source package fetch, Go 1.19 build of"
                + " kube-apiserver, kube-controller-manager and kube-scheduler v1.20.2 with a cold Go"
                + " build cache): **"
                + Duration.ofMillis(ms).toSeconds()
                + " s**. The Debian packages were already installed.")
        .line(
            "Load average at start: "
                + loadBefore
                + "; at end: "
                + loadAfter
                + " — other work on the machine slows the build accordingly.")
        .write();
  }

  static long rssKb(long pid) throws IOException {
    for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (l.startsWith("VmRSS:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no VmRSS for " + pid);
  }

  static long median(List<Long> v) {
    List<Long> s = new ArrayList<>(v);
    s.sort(null);
    return s.get(s.size() / 2);
  }

  static String mb(long kb) {
    return String.format("%.0f MiB", kb / 1024.0);
  }
}
