package io.kedge.keadm;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kedge.controlplane.ControlPlane;
import io.kedge.controlplane.ControlPlaneOptions;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.config.EdgeCoreConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code keadm quickstart}: the whole documented procedure on this machine, with a local control
 * plane: init with requireAuthorization and the DynamicController, join one edge node with the gate
 * and MetaServer on, a demo pod whose in-cluster client lists ConfigMaps through MetaServer, and an
 * offline read with cloudcore stopped. Everything stays running; {@code keadm quickstart down}
 * removes it.
 */
@Command(
    name = "quickstart",
    mixinStandardHelpOptions = true,
    header = "Try the in-cluster config procedure on this machine.",
    description =
        "Brings up a local Kubernetes control plane, cloudcore (keadm init), one edge node"
            + " (keadm join) and a demo pod whose in-cluster client reads ConfigMaps through the"
            + " edge's MetaServer, online and with cloudcore stopped. Everything keeps running"
            + " afterwards; 'keadm quickstart down' removes it.",
    subcommands = {QuickstartCommand.Down.class})
public final class QuickstartCommand implements Callable<Integer> {
  static final String DEMO_NAMESPACE = "kedge-demo";
  static final String DEMO_POD = "demo-client";
  static final int STEPS = 8;

  private final KeadmEnvironment env;

  @Option(
      names = "--dir",
      paramLabel = "DIR",
      defaultValue = "${sys:user.home}/.kedge/quickstart",
      description = "where everything lives (default: ${DEFAULT-VALUE})")
  Path dir;

  @Option(
      names = "--edgenode-name",
      paramLabel = "NAME",
      defaultValue = "edge-1",
      description = "the edge node's name (default: ${DEFAULT-VALUE})")
  String nodeName;

  QuickstartCommand(KeadmEnvironment env) {
    this.env = env;
  }

  /** The quickstart's directories. */
  record Dirs(Path base) {
    Path plane() {
      return base.resolve("control-plane");
    }

    Path cloud() {
      return base.resolve("cloud");
    }

    Path edge() {
      return base.resolve("edge");
    }
  }

  @Override
  public Integer call() {
    Dirs d = new Dirs(dir.toAbsolutePath().normalize());
    long t0 = System.nanoTime();

    step(1, "local Kubernetes control plane in " + d.plane());
    ControlPlane plane =
        ControlPlane.attach(d.plane())
            .map(
                p -> {
                  env.progress("quickstart", "reusing the control plane already running there");
                  return p;
                })
            .orElseGet(
                () -> {
                  env.progress(
                      "quickstart",
                      "starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler"
                          + " (the first run builds them from Debian's sources: 5-8 minutes)");
                  return ControlPlane.start(
                      ControlPlaneOptions.defaults(d.plane()).withKedgeHome(env.kedgeHome()));
                });
    Path kubeconfig = plane.adminKubeconfig();
    env.progress("quickstart", "apiserver " + plane.apiserverUrl() + ", KUBECONFIG=" + kubeconfig);

    InstallLayout cloud = InstallLayout.of(d.cloud());
    InstallLayout edge = InstallLayout.of(d.edge());
    int hubPort = port(10000);
    int certPort = port(10002);
    int metaPort = port(10550);
    int cloudMonitor = port(9091);
    int edgeMonitor = port(9092);
    try (KubernetesClient admin = plane.newAdminClient()) {
      step(2, "keadm init (requireAuthorization and dynamicController on)");
      boolean installed =
          admin
                  .configMaps()
                  .inNamespace(InitCommand.NAMESPACE)
                  .withName(InitCommand.CONFIGMAP)
                  .get()
              != null;
      if (installed && Files.isRegularFile(cloud.cloudInstallRecord())) {
        env.progress("quickstart", "cloudcore is installed already; making sure it runs");
        keadm("start", "cloudcore", "--root-dir", d.cloud().toString());
      } else {
        keadm(
            "init",
            "--kube-config",
            kubeconfig.toString(),
            "--advertise-address=127.0.0.1",
            "--kubeedge-version=v1.17.0",
            "--root-dir",
            d.cloud().toString(),
            "--force",
            "--set",
            "cloudCore.modules.dynamicController.enable=true,"
                + "cloudCore.featureGates.requireAuthorization=true",
            "--set",
            "cloudCore.modules.cloudHub.websocket.port="
                + hubPort
                + ",cloudCore.modules.cloudHub.https.port="
                + certPort,
            "--set",
            "cloudCore.commonConfig.monitorServer.bindAddress=127.0.0.1:" + cloudMonitor);
      }

      step(3, "keadm join " + nodeName + " (requireAuthorization and MetaServer on)");
      if (Files.isRegularFile(edge.edgecoreConfig())) {
        env.progress("quickstart", "the edge node is joined already; making sure edgecore runs");
        keadm("start", "edgecore", "--root-dir", d.edge().toString());
      } else {
        String token = gettoken(kubeconfig);
        keadm(
            "join",
            "--cloudcore-ipport=127.0.0.1:" + hubPort,
            "--certport=" + certPort,
            "--token=" + token.strip(),
            "--edgenode-name=" + nodeName,
            "--kubeedge-version=v1.17.0",
            "--root-dir",
            d.edge().toString(),
            "--set",
            "featureGates.requireAuthorization=true,"
                + "modules.metaManager.metaServer.enable=true,"
                + "modules.edgeStream.enable=true,"
                + "modules.metaManager.metaServer.server=127.0.0.1:"
                + metaPort,
            "--set",
            "commonConfig.monitorServer.bindAddress=127.0.0.1:" + edgeMonitor);
      }
      awaitNodeReady(admin);
      // (a quickstart run again keeps the addresses the first run configured)
      cloudProbe = new ReadyzProbe("cloudcore", cloudMonitorAddress(admin, cloudMonitor));
      edgeProbe =
          new ReadyzProbe(
              "edgecore",
              EdgeCoreConfig.load(edge.edgecoreConfig(), List.of()).config().monitorAddress());
      awaitReady(cloudProbe);
      awaitReady(edgeProbe);

      step(
          4,
          "demo: namespace "
              + DEMO_NAMESPACE
              + ", a ConfigMap, a ServiceAccount allowed to list ConfigMaps");
      DemoWorkload demo = new DemoWorkload(admin, nodeName);
      demo.apply();

      step(
          5,
          "demo pod "
              + DEMO_NAMESPACE
              + "/"
              + DEMO_POD
              + " on "
              + nodeName
              + ": python in-cluster client");
      Pod pod = demo.awaitRunning(Duration.ofMinutes(3), env);
      Path podLog =
          awaitPodLog(d.edge(), pod, "read ", Duration.ofMinutes(2))
              .orElseThrow(
                  () ->
                      new KeadmException(
                          "the demo pod runs but printed no successful read within 2 minutes;"
                              + " see the edgecore log "
                              + edge.log("edgecore")));
      env.progress("quickstart", "the pod's in-cluster client read (log " + podLog + "):");
      env.out().println("    " + lastLine(podLog, "read "));

      step(6, "offline: stop cloudcore; the pod keeps reading through MetaServer's cache");
      keadm("stop", "cloudcore", "--root-dir", d.cloud().toString());
      long before = lines(podLog);
      Optional<String> offline = awaitNewLine(podLog, before, "read ", Duration.ofSeconds(60));
      if (offline.isEmpty()) {
        keadm("start", "cloudcore", "--root-dir", d.cloud().toString());
        throw new KeadmException(
            "with cloudcore stopped the pod got no answer within 60 s; see " + podLog);
      }
      env.out().println("    " + offline.get());

      step(7, "cloudcore back on");
      keadm("start", "cloudcore", "--root-dir", d.cloud().toString());
      // what the instructions below suggest (kubectl logs/exec, metrics) needs it serving again
      awaitReady(cloudProbe);

      step(
          8,
          "done in "
              + Duration.ofNanos(System.nanoTime() - t0).toSeconds()
              + " s; everything keeps running");
      instructions(plane, d, podLog);
      return 0;
    } catch (KubernetesClientException e) {
      throw new KeadmException("the cluster refused a request: " + ClusterAccess.reason(e), e);
    }
  }

  private void instructions(ControlPlane plane, Dirs d, Path podLog) {
    var o = env.out();
    o.println();
    o.println("Look around:");
    o.println("  export KUBECONFIG=" + plane.adminKubeconfig());
    o.println("  kubectl get nodes -o wide");
    o.println("  kubectl get pods -n " + DEMO_NAMESPACE + " -o wide");
    o.println("  kubectl get cm cloudcore -n kubeedge -o yaml        # cloudcore.yaml");
    o.println("  tail -f " + podLog + "   # the demo pod's reads");
    o.println("  tail -f " + InstallLayout.of(d.cloud()).log("cloudcore"));
    o.println("  tail -f " + InstallLayout.of(d.edge()).log("edgecore"));
    o.println("  cat " + InstallLayout.of(d.edge()).edgecoreConfig());
    o.println("Health and metrics (Prometheus text):");
    o.println("  curl '" + cloudProbe.url() + "'    # cloudcore");
    o.println("  curl '" + edgeProbe.url() + "'    # edgecore");
    o.println("  curl " + cloudProbe.metricsUrl() + "    # and " + edgeProbe.metricsUrl());
    o.println("Try offline reads yourself:");
    o.println(
        "  "
            + env.keadmCommand()
            + " stop cloudcore --root-dir "
            + d.cloud()
            + "    # and start again with: "
            + env.keadmCommand()
            + " start cloudcore --root-dir "
            + d.cloud());
    o.println("Remove everything:");
    o.println(
        "  "
            + env.keadmCommand()
            + " quickstart down"
            + (dir.toAbsolutePath().normalize().equals(defaultDir()) ? "" : " --dir " + d.base()));
  }

  static Path defaultDir() {
    return Path.of(System.getProperty("user.home"), ".kedge", "quickstart");
  }

  private void step(int n, String what) {
    env.out().println();
    env.progress("quickstart " + n + "/" + STEPS, what);
  }

  /** Runs another keadm command in this process; fails the quickstart when it fails. */
  private void keadm(String... args) {
    int rc = KeadmMain.run(env, args);
    if (rc != 0) {
      throw new KeadmException(
          "'keadm "
              + args[0]
              + " "
              + (args.length > 1 ? args[1] : "")
              + "' failed (exit "
              + rc
              + "); see above");
    }
  }

  private String gettoken(Path kubeconfig) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    KeadmEnvironment quiet =
        new KeadmEnvironment(
            new PrintStream(buf, true, StandardCharsets.UTF_8),
            env.err(),
            env.in(),
            env.env(),
            env.kedgeHome(),
            env.systemd(),
            env.debug());
    int rc = KeadmMain.run(quiet, "gettoken", "--kube-config", kubeconfig.toString());
    if (rc != 0) {
      throw new KeadmException("'keadm gettoken' failed (exit " + rc + ")");
    }
    return buf.toString(StandardCharsets.UTF_8);
  }

  private ReadyzProbe cloudProbe;
  private ReadyzProbe edgeProbe;

  /** cloudcore's monitor address as its ConfigMap has it. */
  private static String cloudMonitorAddress(KubernetesClient admin, int chosen) {
    var cm =
        admin.configMaps().inNamespace(InitCommand.NAMESPACE).withName(InitCommand.CONFIGMAP).get();
    String yaml =
        cm == null || cm.getData() == null ? null : cm.getData().get(InitCommand.CONFIG_KEY);
    if (yaml == null) {
      return "127.0.0.1:" + chosen;
    }
    try {
      Path f = Files.createTempFile("kedge-cloudcore", ".yaml");
      try {
        Files.writeString(f, yaml);
        var c = CloudCoreConfig.load(f, List.of()).config();
        return c.commonConfig().monitorServer().bindAddress();
      } finally {
        Files.deleteIfExists(f);
      }
    } catch (IOException | RuntimeException e) {
      return "127.0.0.1:" + chosen;
    }
  }

  /** Fails the quickstart, naming the failing checks, when a process is not ready in time. */
  private void awaitReady(ReadyzProbe probe) {
    ReadyzProbe.Answer a = probe.await(Duration.ofMinutes(2));
    if (!a.ready()) {
      throw new KeadmException(
          "not ready after 2 minutes: " + a.describe() + " (" + probe.url() + ")");
    }
    env.progress("quickstart", "ready: " + probe.url());
  }

  private void awaitNodeReady(KubernetesClient admin) {
    waitFor(
        "node " + nodeName + " to be Ready",
        Duration.ofMinutes(3),
        () -> {
          Node n = admin.nodes().withName(nodeName).get();
          return n != null
              && n.getStatus() != null
              && n.getStatus().getConditions() != null
              && n.getStatus().getConditions().stream()
                  .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
        });
  }

  void waitFor(String what, Duration atMost, Supplier<Boolean> done) {
    long t0 = System.nanoTime();
    long deadline = t0 + atMost.toNanos();
    long note = t0 + Duration.ofSeconds(10).toNanos();
    env.progress("quickstart", "waiting for " + what);
    while (true) {
      boolean ok;
      try {
        ok = Boolean.TRUE.equals(done.get());
      } catch (KubernetesClientException e) {
        ok = false;
      }
      if (ok) {
        env.progress(
            "quickstart",
            what.replaceFirst("^\\S+ ", "")
                + ": yes ("
                + Duration.ofNanos(System.nanoTime() - t0).toSeconds()
                + " s)");
        return;
      }
      long now = System.nanoTime();
      if (now > deadline) {
        throw new KeadmException(
            "gave up waiting for " + what + " after " + atMost.toSeconds() + " s");
      }
      if (now > note) {
        env.progress(
            "quickstart",
            "still waiting for " + what + " (" + Duration.ofNanos(now - t0).toSeconds() + " s)");
        note = now + Duration.ofSeconds(10).toNanos();
      }
      sleep(500);
    }
  }

  /**
   * The demo pod's log file under the edge node's directory, once it has a line with {@code
   * marker}.
   */
  Optional<Path> awaitPodLog(Path edgeRoot, Pod pod, String marker, Duration atMost) {
    Path[] found = {null};
    try {
      waitFor(
          "the demo pod's first read",
          atMost,
          () -> {
            found[0] = findPodLog(edgeRoot, pod.getMetadata().getUid()).orElse(null);
            return found[0] != null && lastLine(found[0], marker) != null;
          });
    } catch (KeadmException e) {
      return Optional.empty();
    }
    return Optional.ofNullable(found[0]);
  }

  /** Edged keeps a container's output in {@code <pods dir>/<pod uid>/logs/<container>/<n>.log}. */
  static Optional<Path> findPodLog(Path edgeRoot, String podUid) {
    if (!Files.isDirectory(edgeRoot)) {
      return Optional.empty();
    }
    try (Stream<Path> s = Files.walk(edgeRoot)) {
      return s.filter(Files::isRegularFile)
          .filter(
              p -> p.toString().contains("/" + podUid + "/logs/") && p.toString().endsWith(".log"))
          .findFirst();
    } catch (IOException | java.io.UncheckedIOException e) {
      return Optional.empty();
    }
  }

  static String lastLine(Path log, String marker) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      for (int i = all.size() - 1; i >= 0; i--) {
        if (all.get(i).contains(marker)) {
          return all.get(i);
        }
      }
    } catch (IOException e) {
      // none
    }
    return null;
  }

  static long lines(Path log) {
    try {
      return Files.readAllLines(log, StandardCharsets.UTF_8).size();
    } catch (IOException e) {
      return 0;
    }
  }

  private Optional<String> awaitNewLine(Path log, long after, String marker, Duration atMost) {
    String[] line = {null};
    try {
      waitFor(
          "a read answered while cloudcore is stopped",
          atMost,
          () -> {
            try {
              List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
              for (int i = (int) after; i < all.size(); i++) {
                if (all.get(i).contains(marker)) {
                  line[0] = all.get(i);
                  return true;
                }
              }
            } catch (IOException e) {
              return false;
            }
            return false;
          });
    } catch (KeadmException e) {
      return Optional.empty();
    }
    return Optional.ofNullable(line[0]);
  }

  /** The preferred port when it is free, else any free port. */
  static int port(int preferred) {
    try (ServerSocket s = new ServerSocket(preferred, 1, InetAddress.getByName("0.0.0.0"))) {
      return preferred;
    } catch (IOException e) {
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        return s.getLocalPort();
      } catch (IOException ex) {
        throw new KeadmException("no free port: " + ex.getMessage(), ex);
      }
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KeadmException("interrupted");
    }
  }

  /** {@code keadm quickstart down}: removes everything the quickstart set up. */
  @Command(
      name = "down",
      mixinStandardHelpOptions = true,
      description =
          "Remove everything 'keadm quickstart' set up (edge node, cloudcore, control plane).")
  static final class Down implements Callable<Integer> {
    private final KeadmEnvironment env;

    @Option(
        names = "--dir",
        paramLabel = "DIR",
        defaultValue = "${sys:user.home}/.kedge/quickstart",
        description = "the quickstart's directory (default: ${DEFAULT-VALUE})")
    Path dir;

    Down(KeadmEnvironment env) {
      this.env = env;
    }

    @Override
    public Integer call() {
      Dirs d = new Dirs(dir.toAbsolutePath().normalize());
      if (!Files.isDirectory(d.base())) {
        env.out().println("[quickstart down] nothing to remove: " + d.base() + " does not exist");
        return 0;
      }
      List<String> failures = new ArrayList<>();
      env.progress("quickstart down", "edge node (" + d.edge() + ")");
      if (KeadmMain.run(env, "reset", "--force", "--root-dir", d.edge().toString()) != 0) {
        failures.add("edge reset");
      }
      env.progress("quickstart down", "cloudcore (" + d.cloud() + ")");
      List<String> args =
          new ArrayList<>(List.of("reset", "--force", "--root-dir", d.cloud().toString()));
      Path kc = d.plane().resolve("admin.kubeconfig");
      if (Files.isRegularFile(kc)) {
        args.addAll(List.of("--kube-config", kc.toString()));
      }
      if (KeadmMain.run(env, args.toArray(String[]::new)) != 0) {
        failures.add("cloud reset");
      }
      env.progress("quickstart down", "control plane (" + d.plane() + ")");
      ControlPlane.down(d.plane());
      ResetCommand.deleteTree(d.base());
      if (!failures.isEmpty()) {
        throw new KeadmException("some parts could not be removed: " + failures);
      }
      env.out().println("[quickstart down] everything removed");
      return 0;
    }
  }
}
