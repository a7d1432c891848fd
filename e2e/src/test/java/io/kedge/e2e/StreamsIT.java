package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.EdgeCoreProcess;
import io.kedge.testkit.NetworkNamespace;
import io.kedge.testkit.Ports;
import io.kedge.testkit.Prerequisites;
import io.kedge.testkit.TestContainerd;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 19: {@code kubectl logs}, {@code exec} and {@code attach} for pods on an edge node,
 * KubeEdge's way. The edge lives in a network namespace of its own; nothing listens there for the
 * apiserver: its kubelet requests reach cloudcore's stream server only through the DNAT rule
 * cloudcore keeps for its tunnel port (the node's advertised kubelet port), and go over the edge's
 * tunnel. Two edge nodes share that namespace: one runs its pods as processes, the other in its own
 * containerd (CRI {@code Exec}/{@code Attach} through containerd's streaming server); the tests run
 * against both.
 */
@WithControlPlane
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StreamsIT {
  private static final Logger LOG = LoggerFactory.getLogger(StreamsIT.class);
  private static final Duration WAIT = Duration.ofMinutes(2);
  private static final String NODE = "edge-streams-1";
  private static final String CRI_NODE = "edge-streams-cri";
  private static final String NS = "streams";

  /** Output with known timing: three lines, a pause of 10 s, two more lines. */
  private static final String STAMPER =
      "echo early-1; echo early-2; echo early-3; sleep 10; echo late-1; echo late-2; exec sleep"
          + " 100000";

  private static final Pattern STAMPED =
      Pattern.compile(
          "(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}(?:Z|[+-]\\d\\d:\\d\\d)) (.*)");

  static Path dir;
  static ControlPlane plane;
  static KubernetesClient admin;
  static NetworkNamespace netns;
  static CloudCoreProcess cloud;
  static EdgeCoreProcess edge;
  static TestContainerd containerd;
  static EdgeCoreProcess criEdge;
  static Kubectl kubectl;
  static int kubeletPort;
  static int streamPort;
  static int tunnelPort;

  @BeforeAll
  static void edgeInItsOwnNetwork(ControlPlane p, KubernetesClient a) throws Exception {
    Prerequisites.require(
        Prerequisites.root(), "root (network namespaces, DNAT rules, containerd)");
    long t0 = System.nanoTime();
    plane = p;
    admin = a;
    dir = RunFiles.runDir("streams-it-");
    kubectl =
        Kubectl.kubeconfig(plane.adminKubeconfig(), Files.createDirectories(dir.resolve("home")));
    netns = NetworkNamespace.create();
    String host = netns.hostAddress();
    kubeletPort = Ports.free();
    streamPort = Ports.free();
    tunnelPort = Ports.free();
    // This cloudcore's entry in KubeEdge's tunnel-port record, made beforehand so that the DNAT
    // port is one no other cluster on this host uses (cloudcore keeps a recorded entry).
    admin
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName("kubeedge").endMetadata().build())
        .serverSideApply();
    admin
        .configMaps()
        .inNamespace("kubeedge")
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("tunnelport")
                .withNamespace("kubeedge")
                .withAnnotations(
                    Map.of(
                        "tunnelportrecord.kubeedge.io",
                        "{\"ipTunnelPort\":{\""
                            + host
                            + "\":"
                            + kubeletPort
                            + "},\"port\":{\""
                            + kubeletPort
                            + "\":true}}"))
                .endMetadata()
                .build())
        .create();
    cloud =
        CloudCoreProcess.start(
            plane,
            dir.resolve("cloudcore"),
            "modules.cloudHub.advertiseAddress={" + host + "}",
            "modules.cloudHub.websocket.address=" + host,
            "modules.cloudHub.https.address=" + host,
            "modules.cloudStream.enable=true",
            "modules.cloudStream.tunnelPort=" + tunnelPort,
            "modules.cloudStream.streamPort=" + streamPort,
            "modules.cloudStream.tlsStreamCAFile=" + plane.pki().caCert(),
            "modules.cloudStream.tlsStreamCertFile=" + dir.resolve("cloudcore/stream.crt"),
            "modules.cloudStream.tlsStreamPrivateKeyFile=" + dir.resolve("cloudcore/stream.key"));
    edge =
        EdgeCoreProcess.startWithPrefix(
            netns.prefix(),
            dir.resolve("edge"),
            NODE,
            URI.create("wss://" + host + ":" + cloud.webSocketPort()),
            URI.create("https://" + host + ":" + cloud.httpsPort()),
            cloud.token(),
            Map.of("KEDGE_JAVA_OPTS", "-Xmx192m -XX:+UseSerialGC"),
            "modules.edged.nodeIP=" + netns.innerAddress(),
            "modules.edgeStream.enable=true",
            "modules.edgeStream.server=" + host + ":" + tunnelPort);
    // containerd's socket path must stay short (unix socket paths are limited to 107 bytes).
    containerd =
        TestContainerd.start(
            Files.createTempDirectory("kedge-ctd-"),
            new TestContainerd.Options(netns.prefix(), Optional.empty()));
    criEdge =
        EdgeCoreProcess.startWithPrefix(
            netns.prefix(),
            dir.resolve("edge-cri"),
            CRI_NODE,
            URI.create("wss://" + host + ":" + cloud.webSocketPort()),
            URI.create("https://" + host + ":" + cloud.httpsPort()),
            cloud.token(),
            Map.of("KEDGE_JAVA_OPTS", "-Xmx192m -XX:+UseSerialGC"),
            "modules.edged.nodeIP=" + netns.innerAddress(),
            "modules.edged.runtime=cri",
            "modules.edged.containerRuntimeEndpoint=" + containerd.endpoint(),
            "modules.edgeStream.enable=true",
            "modules.edgeStream.server=" + host + ":" + tunnelPort);
    for (String n : List.of(NODE, CRI_NODE)) {
      Waits.until(
          "node " + n + " Ready, advertising kubelet port " + kubeletPort,
          WAIT,
          () -> readyWithTunnelPort(n));
    }
    admin
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .create();
    for (String runtime : List.of("process", "cri")) {
      admin
          .pods()
          .inNamespace(NS)
          .resource(
              pod(
                  runtime,
                  "talker",
                  "i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.3; done"))
          .create();
      admin
          .pods()
          .inNamespace(NS)
          .resource(
              pod(
                  runtime,
                  "crasher",
                  "echo run-$(cat /proc/sys/kernel/random/uuid); sleep 2; exit 3"))
          .create();
      admin.pods().inNamespace(NS).resource(pod(runtime, "stamper", STAMPER)).create();
    }
    for (String runtime : List.of("process", "cri")) {
      String talker = name(runtime, "talker");
      Waits.until("pod " + talker + " running", WAIT, () -> running(talker));
    }
    LOG.info("edge node and pods ready in {} s", (System.nanoTime() - t0) / 1_000_000_000);
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (edge != null) {
        edge.close();
      }
      if (criEdge != null) {
        if (criEdge.process() != null && criEdge.process().isAlive()) {
          criEdge.stop(); // Edged stops and removes its pods' sandboxes
        }
        criEdge.close();
      }
      if (cloud != null) {
        cloud.close();
      }
    } finally {
      if (containerd != null) {
        Path ctd = containerd.dir();
        containerd.close();
        // containerd's root is root-owned and unmounted by now; remove it like any directory.
        new ProcessBuilder("rm", "-rf", "--one-file-system", ctd.toString()).start().waitFor();
      }
      if (streamPort > 0 && netns != null) {
        removeDnat();
      }
      if (netns != null) {
        netns.close();
      }
      if (admin != null) {
        admin.nodes().withName(NODE).delete();
        admin.nodes().withName(CRI_NODE).delete();
        admin.nodes().withName("other-node").delete();
      }
    }
  }

  /** Removes this test's DNAT rule, and KubeEdge's chain and jumps when nothing else is left. */
  static void removeDnat() throws Exception {
    List<String> rule =
        List.of(
            "-p",
            "tcp",
            "-j",
            "DNAT",
            "--dport",
            Integer.toString(kubeletPort),
            "--to",
            netns.hostAddress() + ":" + streamPort);
    while (iptables(concat(List.of("-t", "nat", "-D", "TUNNEL-PORT"), rule)) == 0) {}
    String left = iptablesOut(List.of("-t", "nat", "-S", "TUNNEL-PORT"));
    if (left.lines().filter(l -> l.startsWith("-A")).findAny().isEmpty()) {
      for (String chain : List.of("OUTPUT", "PREROUTING")) {
        while (iptables(
                List.of(
                    "-t",
                    "nat",
                    "-D",
                    chain,
                    "-m",
                    "comment",
                    "--comment",
                    "kubeedge tunnel port",
                    "-j",
                    "TUNNEL-PORT"))
            == 0) {}
      }
      iptables(List.of("-t", "nat", "-X", "TUNNEL-PORT"));
    }
  }

  @ParameterizedTest(name = "{0} runtime")
  @ValueSource(strings = {"process", "cri"})
  @Order(1)
  void logsPlainTailAndFollow(String runtime) throws Exception {
    String talker = name(runtime, "talker");
    Waits.until(
        talker + " wrote 5 lines",
        WAIT,
        () -> kubectl.run("logs", "-n", NS, talker).out().contains("line-5"));
    Kubectl.Result plain = kubectl.run("logs", "-n", NS, talker).ok();
    assertThat(plain.out()).startsWith("line-1\nline-2\n");
    Kubectl.Result tail = kubectl.run("logs", "-n", NS, talker, "--tail=2").ok();
    assertThat(tail.out().lines().toList()).hasSize(2).allMatch(l -> l.startsWith("line-"));
    // -f: lines arrive as they are written, after the ones there were when it started
    int before = lastLine(kubectl.run("logs", "-n", NS, talker).ok().out());
    Path out = dir.resolve(runtime + "-follow.out");
    Process f = kubectl.start(out, "logs", "-f", "-n", NS, talker, "--tail=1");
    try {
      Waits.until(
          "kubectl logs -f shows lines written after it started",
          Duration.ofSeconds(60),
          () -> lastLine(read(out)) > before + 3);
      assertThat(f.isAlive()).as("kubectl logs -f is still following").isTrue();
      assertThat(read(out).lines().filter(l -> l.startsWith("line-")).count())
          .as("--tail=1, then only new lines")
          .isLessThan(lastLine(read(out)) - 1);
    } finally {
      f.destroyForcibly();
    }
  }

  @ParameterizedTest(name = "{0} runtime")
  @ValueSource(strings = {"process", "cri"})
  @Order(2)
  void logsSinceTimestampsAndLimitAsTheKubelet(String runtime) throws Exception {
    String pod = name(runtime, "stamper");
    Waits.until(
        pod + " wrote its late lines",
        WAIT,
        () -> kubectl.run("logs", "-n", NS, pod).out().contains("late-2"));
    assertThat(kubectl.run("logs", "-n", NS, pod).ok().out())
        .isEqualTo("early-1\nearly-2\nearly-3\nlate-1\nlate-2\n");

    // --timestamps: each line with the time it was written, RFC 3339 with nine digits, a space
    List<String> stamped =
        kubectl.run("logs", "-n", NS, pod, "--timestamps").ok().out().lines().toList();
    List<Instant> times = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    for (String l : stamped) {
      Matcher m = STAMPED.matcher(l);
      assertThat(m.matches()).as("a time, a space, the line: %s", l).isTrue();
      times.add(OffsetDateTime.parse(m.group(1)).toInstant());
      texts.add(m.group(2));
    }
    assertThat(texts).containsExactly("early-1", "early-2", "early-3", "late-1", "late-2");
    assertThat(times).isSorted();
    Instant early = times.get(2);
    Instant late = times.get(3);
    assertThat(Duration.between(early, late)).isGreaterThan(Duration.ofSeconds(8));

    // --since-time: the lines from then on (the apiserver passes whole seconds on)
    Instant cut = early.truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
    assertThat(kubectl.run("logs", "-n", NS, pod, "--since-time=" + cut).ok().out())
        .isEqualTo("late-1\nlate-2\n");
    assertThat(kubectl.run("logs", "-n", NS, pod, "--since-time=" + cut, "--timestamps").ok().out())
        .isEqualTo(stamped.get(3) + "\n" + stamped.get(4) + "\n");
    // with --tail, the kubelet's way: the last lines of the log, of those the ones since then
    assertThat(kubectl.run("logs", "-n", NS, pod, "--since-time=" + cut, "--tail=1").ok().out())
        .isEqualTo("late-2\n");
    assertThat(kubectl.run("logs", "-n", NS, pod, "--since-time=" + cut, "--tail=4").ok().out())
        .isEqualTo("late-1\nlate-2\n");
    assertThat(
            kubectl
                .run(
                    "logs",
                    "-n",
                    NS,
                    pod,
                    "--since-time=" + late.truncatedTo(ChronoUnit.SECONDS).plusSeconds(3600))
                .ok()
                .out())
        .isEmpty();

    // --since=Ns: N such that now - N falls 4-5 s before late-1, in the pause; asked again when
    // kubectl took so long that the edge's "now" may have moved past late-1
    String sinceOut = null;
    for (int attempt = 0; attempt < 3 && sinceOut == null; attempt++) {
      Instant before = Instant.now();
      long n = (Duration.between(late, before).toMillis() + 999) / 1000 + 4;
      Kubectl.Result r = kubectl.run("logs", "-n", NS, pod, "--since=" + n + "s").ok();
      Instant after = Instant.now();
      assertThat(before.minusSeconds(n)).isAfter(early);
      if (!after.minusSeconds(n).isAfter(late)) {
        sinceOut = r.out();
      } else {
        LOG.info(
            "kubectl logs --since took {} ms; asking again",
            Duration.between(before, after).toMillis());
      }
    }
    assertThat(sinceOut).isEqualTo("late-1\nlate-2\n");

    // --limit-bytes cuts the output, timestamps included
    assertThat(kubectl.run("logs", "-n", NS, pod, "--limit-bytes=10").ok().out())
        .isEqualTo("early-1\nea");
    assertThat(kubectl.run("logs", "-n", NS, pod, "--limit-bytes=31", "--timestamps").ok().out())
        .isEqualTo(stamped.get(0).substring(0, 31));

    // Bad values: the apiserver refuses them before asking the edge ...
    String logPath = "/api/v1/namespaces/" + NS + "/pods/" + pod + "/log";
    Kubectl.Result zero = kubectl.run("get", "--raw", logPath + "?sinceSeconds=0");
    assertThat(zero.exit()).isNotZero();
    assertThat(zero.err()).contains("sinceSeconds: Invalid value: 0: must be greater than 0");
    Kubectl.Result both = kubectl.run("get", "--raw", logPath + "?sinceSeconds=5&sinceTime=" + cut);
    assertThat(both.exit()).isNotZero();
    assertThat(both.err())
        .contains("at most one of `sinceTime` or `sinceSeconds` may be specified");
    Kubectl.Result garbled = kubectl.run("get", "--raw", logPath + "?sinceTime=yesterday");
    assertThat(garbled.exit()).isNotZero();
    assertThat(garbled.err()).contains("yesterday");
    // ... and the edge answers a client that bypasses it as the kubelet would: 400 for a value
    // that is not one, 422 for one the apiserver's validation refuses (Edged checks the options
    // before it asks the runtime, so one node shows it)
    if (runtime.equals("process")) {
      List<String> kubeletCert =
          List.of(
              "--cert",
              plane.pki().cert("apiserver-kubelet-client").toString(),
              "--key",
              plane.pki().key("apiserver-kubelet-client").toString());
      String direct =
          "https://"
              + netns.hostAddress()
              + ":"
              + streamPort
              + "/containerLogs/"
              + NS
              + "/"
              + pod
              + "/app";
      assertThat(curl(kubeletCert, direct + "?sinceSeconds=-5", netns.innerAddress()))
          .isEqualTo("422 sinceSeconds: Invalid value: -5: must be greater than 0");
      assertThat(curl(kubeletCert, direct + "?sinceTime=yesterday", netns.innerAddress()))
          .isEqualTo("400 sinceTime: not an RFC 3339 time: \"yesterday\"");
      assertThat(curl(kubeletCert, direct + "?sinceTime=" + cut, netns.innerAddress()))
          .isEqualTo("200 late-1\nlate-2");
    }
  }

  @ParameterizedTest(name = "{0} runtime")
  @ValueSource(strings = {"process", "cri"})
  @Order(3)
  void previousLogs(String runtime) {
    String crasher = name(runtime, "crasher");
    String talker = name(runtime, "talker");
    Waits.until(crasher + " restarted", WAIT, () -> restarts(crasher) >= 1);
    Kubectl.Result prev = kubectl.run("logs", "-n", NS, crasher, "--previous").ok();
    assertThat(prev.out()).startsWith("run-");
    // a container without a previous instance: the kubelet's 400, not log text
    Kubectl.Result none = kubectl.run("logs", "-n", NS, talker, "--previous");
    assertThat(none.exit()).isNotZero();
    assertThat(none.err())
        .contains("previous terminated container \"app\" in pod \"" + talker + "\" not found");
  }

  @ParameterizedTest(name = "{0} runtime")
  @ValueSource(strings = {"process", "cri"})
  @Order(4)
  void execOutputExitCodeAndUser(String runtime) {
    String talker = name(runtime, "talker");
    Kubectl.Result r =
        kubectl.run(
            "exec",
            "-n",
            NS,
            talker,
            "--",
            "sh",
            "-c",
            "id -u; echo to-out; echo to-err >&2; exit 7");
    assertThat(r.exit()).as("exit code; stderr: %s", r.err()).isEqualTo(7);
    assertThat(r.out()).isEqualTo("65534\nto-out\n");
    assertThat(r.err()).contains("to-err");
    Kubectl.Result in =
        kubectl.withInput("hello stdin\n", "exec", "-i", "-n", NS, talker, "--", "cat");
    assertThat(in.ok().out()).isEqualTo("hello stdin\n");
  }

  @ParameterizedTest(name = "{0} runtime")
  @ValueSource(strings = {"process", "cri"})
  @Order(5)
  void execWithTerminal(String runtime) throws Exception {
    // kubectl -it needs a terminal: script gives it one, sized 33x101
    String cmd =
        "stty rows 33 cols 101; kubectl --kubeconfig="
            + plane.adminKubeconfig()
            + " exec -it -n "
            + NS
            + " "
            + name(runtime, "talker")
            + " -- sh";
    ProcessBuilder pb = new ProcessBuilder("script", "-qfec", cmd, "/dev/null");
    pb.environment().put("HOME", Files.createDirectories(dir.resolve("home/tty")).toString());
    pb.environment().remove("KUBECONFIG");
    pb.redirectErrorStream(true);
    Path out = dir.resolve(runtime + "-tty.out");
    pb.redirectOutput(out.toFile());
    Process p = pb.start();
    try (OutputStream in = p.getOutputStream()) {
      // typed once the remote shell is there (its prompt), as a person would
      Waits.until(
          "the remote shell's prompt", Duration.ofSeconds(60), () -> read(out).contains("$ "));
      // kubectl sends the terminal's size as the session starts; it is applied as the kubelet
      // applies it, alongside the command, not before it: a person's pause before typing
      Thread.sleep(1000);
      in.write("tty; stty size; echo sum-$((6*7)); exit 5\n".getBytes(StandardCharsets.UTF_8));
      in.flush();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      p.destroyForcibly();
    }
    String text = Files.readString(out);
    LOG.info("terminal session ({} runtime):\n{}", runtime, text);
    assertThat(text).contains("/dev/pts/").contains("33 101").contains("sum-42");
    assertThat(p.exitValue()).isEqualTo(5);
  }

  @ParameterizedTest(name = "{0} runtime")
  @ValueSource(strings = {"process", "cri"})
  @Order(6)
  void attachShowsOutputAsItIsWritten(String runtime) throws Exception {
    Path out = dir.resolve(runtime + "-attach.out");
    Process a = kubectl.start(out, "attach", "-n", NS, name(runtime, "talker"));
    try {
      Waits.until(
          "kubectl attach shows new lines",
          Duration.ofSeconds(60),
          () -> read(out).lines().filter(l -> l.startsWith("line-")).count() >= 3);
      assertThat(a.isAlive()).as("kubectl attach stays attached").isTrue();
    } finally {
      a.destroyForcibly();
    }
  }

  @Test
  @Order(7)
  void podOfAnotherNodeAndForeignClientsAreRefused() throws Exception {
    // A node with the same advertised kubelet port whose tunnel is not here.
    Node other = new NodeBuilder().withNewMetadata().withName("other-node").endMetadata().build();
    admin.nodes().resource(other).create();
    admin
        .nodes()
        .withName("other-node")
        .subresource("status")
        .patch(
            io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
            "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\""
                + netns.hostAddress()
                + "\"}],\"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":"
                + kubeletPort
                + "}}}}");
    Pod stray = pod("process", "stray", "sleep 100");
    stray.getSpec().setNodeName("other-node");
    admin.pods().inNamespace(NS).resource(stray).create();
    Kubectl.Result r = kubectl.run("logs", "-n", NS, "stray");
    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains("other-node is not connected");
    Kubectl.Result e = kubectl.run("exec", "-n", NS, "stray", "--", "true");
    assertThat(e.exit()).isNotZero();
    assertThat(e.err()).contains("other-node is not connected");

    // Straight at the stream server: the kubelet client certificate gets in, but not for a pod
    // addressed at another node; no certificate, or one of another CA, does not get in.
    String url =
        "https://"
            + netns.hostAddress()
            + ":"
            + streamPort
            + "/containerLogs/"
            + NS
            + "/talker/app?tailLines=1";
    List<String> kubeletCert =
        List.of(
            "--cert",
            plane.pki().cert("apiserver-kubelet-client").toString(),
            "--key",
            plane.pki().key("apiserver-kubelet-client").toString());
    assertThat(curl(kubeletCert, url, netns.innerAddress())).startsWith("200 line-");
    assertThat(curl(kubeletCert, url, netns.hostAddress())).startsWith("403 ");
    assertThat(curl(List.of(), url, netns.innerAddress())).startsWith("000");
    Path edgeCerts = dir.resolve("edge/certs");
    assertThat(
            curl(
                List.of(
                    "--cert",
                    edgeCerts.resolve("server.crt").toString(),
                    "--key",
                    edgeCerts.resolve("server.key").toString()),
                url,
                netns.innerAddress()))
        .startsWith("000");
  }

  @Test
  @Order(8)
  void withoutTheDnatTheApiserverCannotReachTheEdge() throws Exception {
    removeDnat();
    Kubectl.Result r = kubectl.run("logs", "-n", NS, "talker", "--tail=1");
    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains(netns.innerAddress() + ":" + kubeletPort);
    // cloudcore puts the rule back (every 10 s)
    Waits.until(
        "cloudcore restores the DNAT rule",
        Duration.ofSeconds(60),
        () -> kubectl.run("logs", "-n", NS, "talker", "--tail=1").exit() == 0);
  }

  @Test
  @Order(9)
  void edgeOfflineIsAClearErrorNotAHang() {
    edge.stop();
    long t0 = System.nanoTime();
    Kubectl.Result logs = kubectl.run("logs", "-n", NS, "talker");
    Kubectl.Result exec = kubectl.run("exec", "-n", NS, "talker", "--", "true");
    LOG.info("offline answers in {} ms", (System.nanoTime() - t0) / 1_000_000);
    assertThat(logs.exit()).isNotZero();
    assertThat(logs.err()).contains("edge node " + NODE + " is not connected");
    assertThat(exec.exit()).isNotZero();
    assertThat(exec.err()).contains("edge node " + NODE + " is not connected");
  }

  // ---------------------------------------------------------------- helpers

  /** The pod {@code base} of the node with that runtime. */
  static String name(String runtime, String base) {
    return runtime.equals("cri") ? "cri-" + base : base;
  }

  /**
   * A pod running {@code script} as user 65534, on the process node or (with the node's network:
   * the test's containerd has no CNI network) the CRI node.
   */
  static Pod pod(String runtime, String base, String script) {
    boolean cri = runtime.equals("cri");
    return new PodBuilder()
        .withNewMetadata()
        .withName(name(runtime, base))
        .withNamespace(NS)
        .endMetadata()
        .withNewSpec()
        .withNodeName(cri ? CRI_NODE : NODE)
        .withHostNetwork(cri)
        .withNewSecurityContext()
        .withRunAsUser(65534L)
        .endSecurityContext()
        .addNewContainer()
        .withName("app")
        .withImage(cri ? TestContainerd.IMAGE : "busybox")
        .withCommand("sh", "-c", script)
        .endContainer()
        .endSpec()
        .build();
  }

  static boolean readyWithTunnelPort(String node) {
    Node n = admin.nodes().withName(node).get();
    return n != null
        && n.getStatus() != null
        && n.getStatus().getDaemonEndpoints() != null
        && n.getStatus().getDaemonEndpoints().getKubeletEndpoint().getPort() == kubeletPort
        && n.getStatus().getConditions().stream()
            .anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True"));
  }

  static boolean running(String pod) {
    Pod p = admin.pods().inNamespace(NS).withName(pod).get();
    return p != null
        && p.getStatus() != null
        && p.getStatus().getContainerStatuses() != null
        && p.getStatus().getContainerStatuses().stream()
            .anyMatch(s -> s.getState().getRunning() != null);
  }

  static int restarts(String pod) {
    Pod p = admin.pods().inNamespace(NS).withName(pod).get();
    if (p == null || p.getStatus() == null || p.getStatus().getContainerStatuses() == null) {
      return 0;
    }
    return p.getStatus().getContainerStatuses().stream()
        .mapToInt(ContainerStatus::getRestartCount)
        .max()
        .orElse(0);
  }

  static int lastLine(String text) {
    Matcher m = Pattern.compile("line-(\\d+)").matcher(text);
    int last = 0;
    while (m.find()) {
      last = Integer.parseInt(m.group(1));
    }
    return last;
  }

  static String read(Path f) {
    try {
      return Files.exists(f) ? Files.readString(f) : "";
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * curl's status code and body, asking for {@code url} as the apiserver would ask {@code host}.
   */
  static String curl(List<String> auth, String url, String host) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "curl",
                "-sk",
                "--max-time",
                "20",
                "-o",
                "-",
                "-w",
                "\n%{http_code}",
                "-H",
                "Host: " + host + ":" + kubeletPort));
    cmd.addAll(auth);
    cmd.add(url);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(30, TimeUnit.SECONDS);
    int nl = out.lastIndexOf('\n');
    String code = out.substring(nl + 1).strip();
    return code + " " + out.substring(0, Math.max(0, nl)).strip();
  }

  static int iptables(List<String> args) throws Exception {
    List<String> cmd = concat(List.of("iptables", "-w", "5"), args);
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    p.waitFor(30, TimeUnit.SECONDS);
    return p.exitValue();
  }

  static String iptablesOut(List<String> args) throws Exception {
    Process p =
        new ProcessBuilder(concat(List.of("iptables", "-w", "5"), args))
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(30, TimeUnit.SECONDS);
    return out;
  }

  static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
