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
  @Order(3)
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
  @Order(4)
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
  @Order(5)
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
  @Order(6)
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
  @Order(7)
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
  @Order(8)
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
