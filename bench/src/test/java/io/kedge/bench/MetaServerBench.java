package io.kedge.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.pki.CertSpec;
import io.kedge.pki.KeyPairs;
import io.kedge.pki.Pem;
import io.kedge.pki.TlsContexts;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.EdgeCoreProcess;
import io.kedge.testkit.ProgramProcess;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MetaServer against the kube-apiserver on loopback, same requests, same pod-bound token, both over
 * TLS: GET and LIST served from the edge cache ({@code resourceVersion=0}) and consistent GETs
 * ({@code resourceVersion} unset: MetaServer asks the cloud), with 1 and 32 concurrent clients (the
 * single-client GETs also with a {@link BlockingHttpClient}); and edgecore's resident memory with
 * the edge JVM flags once 1,000 objects are cached, and after the load.
 *
 * <p>For memory work, {@code -Dbench.memoryOnly=true} skips the load and the report: it logs the
 * RSS and edgecore's pid, holds for {@code bench.holdSeconds} (time for {@code jcmd}, {@code pmap};
 * {@code KEDGE_JAVA_OPTS} in the environment sets the edge's JVM options), then for each entry of
 * {@code bench.jvmVariants} ({@code |}-separated JVM option sets; leading {@code NAME=value} words
 * set environment variables instead, e.g. {@code MALLOC_ARENA_MAX=2 -Xmx48m}) joins a fresh edge
 * with those options and logs its RSS before and after a short load with the load's p50s.
 *
 * <p>{@code -Dbench.cases=consistent} (comma-separated words) measures only the cases whose name
 * contains one of them; the report is then not written. {@code -Dbench.edgeEnv} sets the measured
 * edge's environment as a variant does ({@code KEDGE_JAVA_OPTS} and leading {@code NAME=value}
 * words); it is not written to the report either, so it is for trying flags only. Each case and
 * client count runs {@code bench.warmup} (60 s) uncounted, then {@code bench.seconds} (10 s)
 * counted.
 */
@WithControlPlane
class MetaServerBench {
  private static final Logger LOG = LoggerFactory.getLogger(MetaServerBench.class);
  private static final String COMMAND =
      "mvn -B -ntp -Pbench -pl bench -am verify -Dit.test=MetaServerBench";
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final int OBJECTS = 1_000;
  private static final int LISTED = 50;

  /**
   * Requests before each case's measurement, not counted: a minute, so that cloudcore's and
   * edgecore's JIT have compiled what is measured (the daemons' steady state). Measured on one
   * build: after 10 s of warm-up the consistent GET's p50 was 5.0-6.4 ms, after a minute 3.4 ms;
   * the apiserver's stayed at 1.5-2.0 ms.
   */
  static final Duration WARMUP = Duration.ofSeconds(Long.getLong("bench.warmup", 60));

  static final Duration MEASURE = Duration.ofSeconds(Long.getLong("bench.seconds", 10));
  private static final String NODE = "bench-metaserver";
  private static final String BLOCKING = ", blocking client";
  private static final String FIXED = "fixed answer (floor)";
  private static final String FLOOR_CASE = "floor";

  /** What {@link FixedAnswerServer} prints once it listens. */
  private static final java.util.regex.Pattern LISTENING =
      java.util.regex.Pattern.compile("(?m)^listening on (\\d+)");

  record Result(String what, String path, int clients, long requests, double perSecond, long[] ns) {
    double p(double q) {
      return ns.length == 0 ? Double.NaN : ns[(int) Math.min(ns.length - 1, q * ns.length)] / 1e6;
    }
  }

  @TempDir Path tmp;

  @Test
  void metaServerAgainstTheApiserver(ControlPlane plane, KubernetesClient admin) throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 6);
    String ns = "bench-ms-" + suffix;
    String small = "bench-ms-list-" + suffix;
    for (String n : List.of(ns, small)) {
      admin
          .namespaces()
          .resource(new NamespaceBuilder().withNewMetadata().withName(n).endMetadata().build())
          .create();
    }
    String payload = "x".repeat(200);
    for (int i = 0; i < OBJECTS; i++) {
      admin.configMaps().inNamespace(ns).resource(cm(i, payload)).create();
    }
    for (int i = 0; i < LISTED; i++) {
      admin.configMaps().inNamespace(small).resource(cm(i, payload)).create();
    }
    // Pods run as an unprivileged user: their directory must be reachable.
    Path dir = Files.createTempDirectory(tmp, "run-");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (CloudCoreProcess cloud =
            CloudCoreProcess.start(
                plane,
                dir.resolve("cloudcore"),
                "modules.dynamicController.enable=true",
                "featureGates.requireAuthorization=true");
        EdgeCoreProcess edge =
            EdgeCoreProcess.start(
                dir.resolve("edge"),
                NODE,
                cloud.hubUri(),
                cloud.bootstrapUri(),
                cloud.token(),
                edgeEnvironment(),
                "featureGates.requireAuthorization=true",
                "modules.metaManager.metaServer.enable=true")) {
      edge.awaitConnections(1, WAIT);
      String token = readerToken(admin, ns, small);
      SSLContext trust = TlsContexts.client(List.of(plane.pki().ca()), null, null);
      HttpClient http = HttpClient.newBuilder().sslContext(trust).build();
      URI meta = URI.create("https://127.0.0.1:" + edge.metaServerUri().getPort());
      URI direct = URI.create(plane.apiserverUrl());

      String get = "/api/v1/namespaces/" + ns + "/configmaps/";
      String list = "/api/v1/namespaces/" + small + "/configmaps";
      // The first LISTs subscribe both namespaces: from then on the edge keeps them current.
      Waits.until(
          "MetaServer answers the pod's token over TLS",
          WAIT,
          () -> status(http, meta, get.substring(0, get.length() - 1), token) == 200);
      Waits.until("MetaServer lists " + small, WAIT, () -> status(http, meta, list, token) == 200);
      Waits.until(
          "all " + OBJECTS + " objects cached",
          WAIT,
          () -> {
            for (int i = 0; i < OBJECTS; i += 97) {
              if (status(http, meta, get + name(i) + "?resourceVersion=0", token) != 200) {
                return false;
              }
            }
            return status(http, meta, get + name(OBJECTS - 1) + "?resourceVersion=0", token) == 200;
          });
      String loadBefore = BenchmarkReport.loadAverage();
      Thread.sleep(3_000);
      long rssMb = ControlPlaneBench.rssKb(edge.process().pid()) / 1024;
      LOG.info(
          "edgecore RSS with {} objects cached: {} MiB (pid {})",
          OBJECTS + LISTED,
          rssMb,
          edge.process().pid());
      if (Boolean.getBoolean("bench.memoryOnly")) {
        // For looking into edgecore (jcmd, /proc) with the objects cached: no load, no report.
        Thread.sleep(Duration.ofSeconds(Long.getLong("bench.holdSeconds", 0)).toMillis());
        String variants = System.getProperty("bench.jvmVariants", "");
        if (!variants.isBlank()) {
          edge.close();
          int v = 0;
          for (String opts : variants.split("\\|")) {
            try {
              memoryVariant(
                  dir.resolve("edge-v" + v), opts.strip(), cloud, http, admin, ns, v++, get, list);
            } catch (Exception | AssertionError e) {
              LOG.warn("VARIANT [{}] failed: {}", opts.strip(), e.toString());
            }
          }
        }
        return;
      }

      List<Result> results = new ArrayList<>();
      record Case(String what, IntFunction<String> path) {}
      List<Case> cases =
          List.of(
              new Case("cached GET", i -> get + name(i % OBJECTS) + "?resourceVersion=0"),
              new Case("cached LIST (" + LISTED + " objects)", i -> list + "?resourceVersion=0"),
              new Case("consistent GET", i -> get + name(i % OBJECTS)));
      List<String> only =
          List.of(System.getProperty("bench.cases", "").split(",")).stream()
              .filter(w -> !w.isBlank())
              .toList();
      List<Case> measured =
          cases.stream()
              .filter(c -> only.isEmpty() || only.stream().anyMatch(c.what()::contains))
              .toList();
      for (Case c : measured) {
        for (int clients : List.of(1, 32)) {
          results.add(run(c.what(), "MetaServer", http, meta, c.path(), token, clients, null));
          results.add(
              run(c.what(), "kube-apiserver", http, direct, c.path(), token, clients, null));
        }
      }
      // The floor: a JVM with the edge's flags answering the same bytes over the same TLS.
      boolean floor = only.isEmpty() || only.contains(FLOOR_CASE);
      long floorRssMb = -1;
      if (floor) {
        byte[] body =
            http.send(
                    request(meta, get + name(0) + "?resourceVersion=0", token),
                    HttpResponse.BodyHandlers.ofByteArray())
                .body();
        try (ProgramProcess fixed = fixedAnswer(dir.resolve("fixed-answer"), plane, body)) {
          URI floorUri = URI.create("https://127.0.0.1:" + port(fixed));
          IntFunction<String> path = i -> get + name(i % OBJECTS) + "?resourceVersion=0";
          for (int clients : List.of(1, 32)) {
            results.add(run("cached GET", FIXED, http, floorUri, path, token, clients, null));
          }
          results.add(run("cached GET" + BLOCKING, FIXED, null, floorUri, path, token, 1, trust));
          floorRssMb = ControlPlaneBench.rssKb(fixed.pid()) / 1024;
          LOG.info("fixed-answer server RSS after the load: {} MiB", floorRssMb);
        }
      }
      // The single-client GETs once more with a load generator whose own cost per request is a
      // write and a read on the calling thread (as python-kubernetes does).
      for (Case c : measured) {
        if (c.what().contains("GET")) {
          for (URI target : List.of(meta, direct)) {
            results.add(
                run(
                    c.what() + BLOCKING,
                    target == meta ? "MetaServer" : "kube-apiserver",
                    null,
                    target,
                    c.path(),
                    token,
                    1,
                    trust));
          }
        }
      }
      String loadAfter = BenchmarkReport.loadAverage();
      assertThat(edge.process().isAlive()).as("edgecore survived the run").isTrue();
      long rssAfterMb = ControlPlaneBench.rssKb(edge.process().pid()) / 1024;
      LOG.info("edgecore RSS after the load: {} MiB", rssAfterMb);
      if (only.isEmpty() && System.getProperty("bench.edgeEnv", "").isBlank()) {
        report(results, rssMb, rssAfterMb, floorRssMb, loadBefore, loadAfter);
      }
      for (Result r : results) {
        assertThat(r.requests()).as(r.what() + " via " + r.path() + " answered").isPositive();
      }
    }
  }

  /**
   * A fresh edgecore (new join, empty store) with JVM options {@code opts}: RSS once the objects
   * are cached, a short load, RSS after it.
   */
  private static void memoryVariant(
      Path dir,
      String opts,
      CloudCoreProcess cloud,
      HttpClient http,
      KubernetesClient admin,
      String ns,
      int v,
      String get,
      String list)
      throws Exception {
    try (EdgeCoreProcess edge =
        EdgeCoreProcess.start(
            dir,
            NODE,
            cloud.hubUri(),
            cloud.bootstrapUri(),
            cloud.token(),
            variantEnvironment(opts),
            "featureGates.requireAuthorization=true",
            "modules.metaManager.metaServer.enable=true")) {
      edge.awaitConnections(1, WAIT);
      // A fresh edge learns of pods created after it joined: one per variant.
      String token =
          BenchCluster.boundToken(
              admin, BenchCluster.pod(admin, ns, "reader-v" + v, "reader", NODE));
      URI meta = URI.create("https://127.0.0.1:" + edge.metaServerUri().getPort());
      Waits.until(
          "MetaServer answers",
          WAIT,
          () -> status(http, meta, get.substring(0, get.length() - 1), token) == 200);
      Waits.until("MetaServer lists", WAIT, () -> status(http, meta, list, token) == 200);
      Waits.until(
          "objects cached",
          WAIT,
          () -> status(http, meta, get + name(OBJECTS - 1) + "?resourceVersion=0", token) == 200);
      Thread.sleep(3_000);
      long before = ControlPlaneBench.rssKb(edge.process().pid()) / 1024;
      Result g =
          run(
              "cached GET",
              "MetaServer",
              http,
              meta,
              i -> get + name(i % OBJECTS) + "?resourceVersion=0",
              token,
              32,
              null);
      Result l =
          run(
              "cached LIST",
              "MetaServer",
              http,
              meta,
              i -> list + "?resourceVersion=0",
              token,
              32,
              null);
      Result g1 =
          run(
              "cached GET",
              "MetaServer",
              http,
              meta,
              i -> get + name(i % OBJECTS) + "?resourceVersion=0",
              token,
              1,
              null);
      Thread.sleep(3_000);
      long after = ControlPlaneBench.rssKb(edge.process().pid()) / 1024;
      LOG.info(
          "VARIANT [{}]: RSS {} MiB cached, {} MiB after load; GET32 p50 {} ms {} req/s; LIST32 p50"
              + " {} ms {} req/s; GET1 p50 {} ms; alive {} (pid {})",
          opts,
          before,
          after,
          g.p(0.5),
          Math.round(g.perSecond()),
          l.p(0.5),
          Math.round(l.perSecond()),
          g1.p(0.5),
          edge.process().isAlive(),
          edge.process().pid());
      Thread.sleep(Duration.ofSeconds(Long.getLong("bench.variantHoldSeconds", 0)).toMillis());
    }
  }

  /** The measured edge's environment: {@code bench.edgeEnv}, as a variant, or bin/edgecore's. */
  private static Map<String, String> edgeEnvironment() {
    String opts = System.getProperty("bench.edgeEnv", "");
    return opts.isBlank() ? Map.of() : variantEnvironment(opts);
  }

  /** {@code KEDGE_JAVA_OPTS} from {@code opts}, and the variables its leading words set. */
  private static Map<String, String> variantEnvironment(String opts) {
    Map<String, String> env = new java.util.HashMap<>();
    List<String> jvm = new ArrayList<>();
    for (String word : opts.strip().split("\\s+")) {
      if (jvm.isEmpty() && word.matches("[A-Z_][A-Z0-9_]*=.*")) {
        int eq = word.indexOf('=');
        env.put(word.substring(0, eq), word.substring(eq + 1));
      } else if (!word.isEmpty()) {
        jvm.add(word);
      }
    }
    env.put("KEDGE_JAVA_OPTS", String.join(" ", jvm));
    return env;
  }

  static io.fabric8.kubernetes.api.model.ConfigMap cm(int i, String payload) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(name(i))
        .addToLabels("bench", "metaserver")
        .endMetadata()
        .addToData("n", Integer.toString(i))
        .addToData("payload", payload)
        .build();
  }

  static String name(int i) {
    return String.format("cm-%04d", i);
  }

  /** A token of ServiceAccount reader, bound to a pod on the edge node, that may read both. */
  static String readerToken(KubernetesClient admin, String ns, String other) {
    admin
        .serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("reader").endMetadata().build())
        .create();
    for (String n : List.of(ns, other)) {
      BenchCluster.configMapReader(admin, n, "reader", ns, "reader");
    }
    return BenchCluster.boundToken(admin, BenchCluster.pod(admin, ns, "reader", "reader", NODE));
  }

  /**
   * {@link FixedAnswerServer} as a process of its own, with the measured edge's JVM flags and
   * environment, a serving certificate for 127.0.0.1 from the cluster's CA, answering {@code body}.
   */
  private static ProgramProcess fixedAnswer(Path dir, ControlPlane plane, byte[] body)
      throws Exception {
    Files.createDirectories(dir);
    var issued =
        plane
            .pki()
            .caWithKey()
            .issueWithNewKey(
                CertSpec.server(
                    "fixed-answer", List.of("127.0.0.1"), List.of(), Duration.ofDays(1)),
                KeyPairs.ecP256());
    Pem.write(dir.resolve("key.pem"), Pem.encode(issued.privateKey()), true);
    Pem.write(dir.resolve("chain.pem"), Pem.encode(issued.certificate(), plane.pki().ca()), false);
    Files.write(dir.resolve("body.json"), body);
    Map<String, String> env = new java.util.HashMap<>(edgeEnvironment());
    List<String> launcher = launcherJvm();
    String opts = env.remove("KEDGE_JAVA_OPTS");
    env.putIfAbsent("MALLOC_ARENA_MAX", "2"); // as bin/edgecore sets it
    List<String> cmd = new ArrayList<>();
    cmd.add(launcher.get(0));
    for (String o : (opts == null ? launcher.get(1) : opts).strip().split("\\s+")) {
      if (!o.isEmpty()) {
        cmd.add(o);
      }
    }
    cmd.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            FixedAnswerServer.class.getName(),
            dir.toString()));
    ProgramProcess p = ProgramProcess.start("fixed-answer", cmd, env, dir.resolve("out.log"));
    p.awaitLog(LISTENING.pattern(), WAIT);
    return p;
  }

  private static int port(ProgramProcess p) {
    var m = LISTENING.matcher(p.output());
    if (!m.find()) {
      throw new AssertionError("no port in " + p.tail(5));
    }
    return Integer.parseInt(m.group(1));
  }

  /** bin/edgecore's java binary and JVM flags, from the launcher that computes them. */
  private static List<String> launcherJvm() throws Exception {
    Path lib = Path.of(System.getProperty("kedge.home", ".")).resolve("scripts/lib/launcher.sh");
    Process p =
        new ProcessBuilder(
                "bash",
                "-c",
                "source \"$0\"; j=$(kedge_java); printf '%s\\n%s\\n' \"$j\" \"$(kedge_edge_jvm_flags \"$j\")\"",
                lib.toString())
            .redirectErrorStream(true)
            .start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as("launcher flags: " + out).isZero();
    List<String> lines = out.lines().toList();
    assertThat(lines).as("launcher flags: " + out).hasSize(2);
    return lines;
  }

  static int status(HttpClient http, URI base, String path, String token) {
    try {
      return http.send(request(base, path, token), HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  static HttpRequest request(URI base, String path, String token) {
    return HttpRequest.newBuilder(base.resolve(path))
        .timeout(Duration.ofSeconds(30))
        .header("Accept", "application/json")
        .header("Authorization", "Bearer " + token)
        .build();
  }

  /**
   * {@code clients} threads in closed loops: warm-up, then the measured window.
   *
   * @param blocking null for {@code http}; else each client is a {@link BlockingHttpClient}
   *     trusting it
   */
  static Result run(
      String what,
      String target,
      HttpClient http,
      URI base,
      IntFunction<String> path,
      String token,
      int clients,
      SSLContext blocking)
      throws InterruptedException {
    long start = System.nanoTime();
    long from = start + WARMUP.toNanos();
    long until = from + MEASURE.toNanos();
    ConcurrentLinkedQueue<long[]> all = new ConcurrentLinkedQueue<>();
    AtomicInteger failures = new AtomicInteger();
    Map<String, Integer> codes = new TreeMap<>();
    CountDownLatch done = new CountDownLatch(clients);
    for (int c = 0; c < clients; c++) {
      int seed = c * 7919;
      new Thread(
              () -> {
                long[] lat = new long[1 << 16];
                int n = 0;
                int i = seed;
                BlockingHttpClient own =
                    blocking == null ? null : new BlockingHttpClient(blocking, base, token);
                try {
                  while (true) {
                    long t0 = System.nanoTime();
                    if (t0 >= until) {
                      break;
                    }
                    int code;
                    try {
                      code =
                          own != null
                              ? own.get(path.apply(i++))
                              : http.send(
                                      request(base, path.apply(i++), token),
                                      HttpResponse.BodyHandlers.ofByteArray())
                                  .statusCode();
                    } catch (Exception e) {
                      code = -1;
                    }
                    long t1 = System.nanoTime();
                    if (code != 200) {
                      failures.incrementAndGet();
                      synchronized (codes) {
                        codes.merge(Integer.toString(code), 1, Integer::sum);
                      }
                    } else if (t0 >= from && t1 <= until) {
                      if (n == lat.length) {
                        lat = Arrays.copyOf(lat, n * 2);
                      }
                      lat[n++] = t1 - t0;
                    }
                  }
                } finally {
                  if (own != null) {
                    own.close();
                  }
                  all.add(Arrays.copyOf(lat, n));
                  done.countDown();
                }
              },
              "bench-client-" + c)
          .start();
    }
    done.await();
    long[] merged = all.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    double perSecond = merged.length / (MEASURE.toNanos() / 1e9);
    LOG.info(
        "{} via {} with {} clients: {} req/s, p50 {} ms, p99 {} ms, failures {} {}",
        what,
        target,
        clients,
        Math.round(perSecond),
        merged.length == 0 ? "-" : merged[merged.length / 2] / 1e6,
        merged.length == 0 ? "-" : merged[(int) (0.99 * (merged.length - 1))] / 1e6,
        failures.get(),
        codes);
    assertThat(failures.get()).as(what + " via " + target + ": non-200 answers " + codes).isZero();
    return new Result(what, target, clients, merged.length, perSecond, merged);
  }

  private static void report(
      List<Result> results,
      long rssMb,
      long rssAfterMb,
      long floorRssMb,
      String before,
      String after)
      throws Exception {
    List<List<String>> rows = new ArrayList<>();
    for (Result r : results) {
      rows.add(
          List.of(
              r.what(),
              Integer.toString(r.clients()),
              r.path(),
              String.format("%.0f", r.perSecond()),
              String.format("%.2f ms", r.p(0.50)),
              String.format("%.2f ms", r.p(0.99))));
    }
    Map<String, Result> by = new TreeMap<>();
    for (Result r : results) {
      by.put(r.what() + "|" + r.clients() + "|" + r.path(), r);
    }
    Result mg1 = by.get("cached GET|1|MetaServer");
    Result dg1 = by.get("cached GET|1|kube-apiserver");
    Result mg32 = by.get("cached GET|32|MetaServer");
    Result dg32 = by.get("cached GET|32|kube-apiserver");
    Result mc1 = by.get("consistent GET|1|MetaServer");
    Result dc1 = by.get("consistent GET|1|kube-apiserver");
    Result bg1 = by.get("cached GET" + BLOCKING + "|1|MetaServer");
    Result bdg1 = by.get("cached GET" + BLOCKING + "|1|kube-apiserver");
    Result fg1 = by.get("cached GET|1|" + FIXED);
    Result bfg1 = by.get("cached GET" + BLOCKING + "|1|" + FIXED);
    Result bc1 = by.get("consistent GET" + BLOCKING + "|1|MetaServer");
    Result bdc1 = by.get("consistent GET" + BLOCKING + "|1|kube-apiserver");
    BenchmarkReport.section("metaserver", "MetaServer against kube-apiserver", COMMAND)
        .line(
            "One real cloudcore (`dynamicController` and `requireAuthorization` on) and one real"
                + " edgecore with the edge JVM flags of `bin/edgecore`, on the local kube-apiserver"
                + " v1.20.2; the load generator (JDK HttpClient, HTTP/2 where offered) in the"
                + " benchmark JVM on the same 2 cores; the single-client GETs also with a blocking"
                + " HTTP/1.1 client (request and answer on the client's thread, as python-kubernetes"
                + " does). Every request carries the same token of a"
                + " pod on the edge node and goes over TLS: to MetaServer with its cluster-issued"
                + " serving certificate, and directly to the apiserver. Closed loops of 1 or 32"
                + " clients, "
                + WARMUP.toSeconds()
                + " s warm-up (so that both JVMs have compiled what is measured, as in daemons"
                + " that have run a while), "
                + MEASURE.toSeconds()
                + " s measured. *Cached* requests carry `resourceVersion=0` (MetaServer answers"
                + " from its store; the apiserver from its watch cache); *consistent* GETs carry"
                + " none (MetaServer forwards them through cloudcore; the apiserver reads etcd).")
        .line("")
        .table(List.of("request", "clients", "served by", "req/s", "p50", "p99"), rows)
        .line("")
        .line(
            "Goals: cached GET p50 through MetaServer ≤ 1/5 of the direct p50 — "
                + verdict(mg1.p(0.5) <= dg1.p(0.5) / 5)
                + String.format(" (%.3f vs %.3f ms, 1 client)", mg1.p(0.5), dg1.p(0.5))
                + "; req/s at 32 clients ≥ the apiserver's — "
                + verdict(mg32.perSecond() >= dg32.perSecond())
                + String.format(" (%.0f vs %.0f)", mg32.perSecond(), dg32.perSecond())
                + "; consistent GET p50 ≤ direct p50 + 2 ms — "
                + verdict(mc1.p(0.5) <= dc1.p(0.5) + 2)
                + String.format(" (%.2f vs %.2f ms)", mc1.p(0.5), dc1.p(0.5))
                + ". With the blocking client (one HTTP/1.1 connection per client, request and"
                + " answer on the client's own thread): cached GET 1/5 — "
                + verdict(bg1.p(0.5) <= bdg1.p(0.5) / 5)
                + String.format(" (%.3f vs %.3f ms)", bg1.p(0.5), bdg1.p(0.5))
                + "; consistent GET + 2 ms — "
                + verdict(bc1.p(0.5) <= bdc1.p(0.5) + 2)
                + String.format(" (%.2f vs %.2f ms)", bc1.p(0.5), bdc1.p(0.5))
                + ".")
        .line("")
        .line(
            "edgecore resident memory (VmRSS) with "
                + (OBJECTS + LISTED)
                + " ConfigMaps cached (about 0.5 KiB each), before the load: **"
                + rssMb
                + " MiB** — goal ≤ 64 MB: "
                + verdict(rssMb * 1024 * 1024 <= 64_000_000L)
                + "; after the load (still running): "
                + rssAfterMb
                + " MiB.")
        .line("")
        .line(
            "*Fixed answer (floor)*: a JVM of its own with the same flags and environment that"
                + " answers every request with the bytes of one of these ConfigMaps, over the same"
                + " TLS (JDK engine, Netty, one event loop) and with MetaServer's response headers,"
                + " and does nothing else (no routing, token, authorization or store): what a client"
                + " measures against it is the client's own cost and the transport's. Cached GET, 1"
                + " client: "
                + String.format(
                    "%.3f ms with the HttpClient (1/5 of the apiserver's p50 is %.3f ms), %.3f ms"
                        + " with the blocking client (1/5 of the apiserver's: %.3f ms).",
                    fg1.p(0.5), dg1.p(0.5) / 5, bfg1.p(0.5), bdg1.p(0.5) / 5)
                + " Its resident memory after the load: "
                + floorRssMb
                + " MiB.")
        .line("")
        .line("Load average before the runs: " + before + "; after: " + after + ".")
        .write();
  }

  private static String verdict(boolean met) {
    return met ? "**met**" : "**not met**";
  }
}
