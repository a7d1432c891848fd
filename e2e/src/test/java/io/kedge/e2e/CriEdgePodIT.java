package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.Json;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.EdgeCoreProcess;
import io.kedge.testkit.Ports;
import io.kedge.testkit.Prerequisites;
import io.kedge.testkit.TestContainerd;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Issue 7, must show 1 (and 3, for an image without entrypoint) with the CRI runtime: real
 * cloudcore and a real {@code bin/edgecore} whose {@code edgecore.yaml} selects {@code
 * modules.edged.runtime: cri} on the test's own containerd; a pod applied at the apiserver runs the
 * image's {@code kubectl get configmaps} with in-cluster config ({@code hostNetwork}, MetaServer's
 * dummy address), reaches Succeeded, and MetaServer's access log shows its request. (Pods in a
 * network of their own: {@code CriWorkloadIT}.)
 */
@WithControlPlane
class CriEdgePodIT {
  private static final Logger LOG = LoggerFactory.getLogger(CriEdgePodIT.class);
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final String NODE = "edge-cri-1";
  private static final String ACCESS_LOGGER = "io.kedge.edge.metaserver.access";
  private static final String NO_COMMAND_IMAGE = "localhost/kedge/no-command:1";

  static Path dir;
  static ControlPlane plane;
  static KubernetesClient admin;
  static TestContainerd containerd;
  static CloudCoreProcess cloud;
  static EdgeCoreProcess edge;

  @BeforeAll
  static void containerdCloudAndEdge(ControlPlane p, KubernetesClient a) throws Exception {
    Prerequisites.require(Prerequisites.root(), "root (containerd)");
    plane = p;
    admin = a;
    dir = RunFiles.runDir("cri-edge-pod-it-");
    LOG.info("files of this run in {}", dir);
    // containerd's socket path must stay short (unix socket paths are limited to 107 bytes).
    containerd = TestContainerd.start(Files.createTempDirectory("kedge-ctd-"));
    containerd.importImage(imageWithoutCommand(dir.resolve("image")));
    cloud = SecureMetaServer.startCloud(plane, dir.resolve("cloudcore"));
    int metaPort = Ports.free();
    edge =
        SecureMetaServer.startEdge(
            dir.resolve("edge"),
            NODE,
            cloud,
            metaPort,
            "-Xmx256m -XX:+UseSerialGC -Dorg.slf4j.simpleLogger.log." + ACCESS_LOGGER + "=debug",
            "modules.edged.runtime=cri",
            "modules.edged.containerRuntimeEndpoint=" + containerd.endpoint());
    Waits.until("node " + NODE + " Ready", WAIT, CriEdgePodIT::ready);
    assertThat(edge.log()).as("edgecore runs pods in containerd").contains("CRI runtime");
  }

  @AfterAll
  static void stop() {
    try {
      if (edge != null) {
        edge.close();
      }
      if (cloud != null) {
        cloud.close();
        cloud.assertNoForbidden(); // the shipped ClusterRoles cover cloudcore's own calls
      }
    } finally {
      if (containerd != null) {
        Path ctd = containerd.dir();
        containerd.close();
        try {
          // containerd's root is root-owned and unmounted by now; remove it like any directory.
          new ProcessBuilder("rm", "-rf", "--one-file-system", ctd.toString()).start().waitFor();
        } catch (IOException e) {
          LOG.warn("could not remove {}", ctd, e);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (admin != null && admin.nodes().withName(NODE).get() != null) {
        admin.nodes().withName(NODE).delete();
      }
    }
  }

  @Test
  void kubectlInAContainerdPodListsConfigMapsThroughMetaServer() throws Exception {
    String ns = "cri-kubectl-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    PageInstall.readerNamespace(admin, ns, true);
    Waits.until(
        "ConfigMap " + ns + "/kube-root-ca.crt",
        WAIT,
        () -> admin.configMaps().inNamespace(ns).withName("kube-root-ca.crt").get() != null);
    long accessBefore = accessLines(ns).size();
    String pod =
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: Pod",
            "metadata:",
            "  name: lister",
            "  namespace: " + ns,
            "spec:",
            "  nodeName: " + NODE,
            // MetaServer's stand-in dummy address is on the host's loopback
            "  hostNetwork: true",
            "  serviceAccountName: reader",
            "  restartPolicy: Never",
            "  containers:",
            "  - name: kubectl",
            "    image: " + TestContainerd.IMAGE,
            "    command: [kubectl, get, configmaps, -n, " + ns + "]",
            "");
    Kubectl.kubeconfig(plane.adminKubeconfig(), dir).withInput(pod, "apply", "-f", "-").ok();
    Pod[] last = {null};
    Duration took =
        Waits.until(
            "pod " + ns + "/lister done",
            WAIT,
            () -> {
              last[0] = admin.pods().inNamespace(ns).withName("lister").get();
              String phase = last[0].getStatus() == null ? null : last[0].getStatus().getPhase();
              return "Succeeded".equals(phase) || "Failed".equals(phase);
            });
    String uid = last[0].getMetadata().getUid();
    String log = podLog(uid);
    LOG.info("pod {}/lister done in {} ms, wrote:\n{}", ns, took.toMillis(), log);
    assertThat(last[0].getStatus().getPhase()).as("phase; log: %s", log).isEqualTo("Succeeded");
    ContainerStatus c = last[0].getStatus().getContainerStatuses().get(0);
    assertThat(c.getContainerID()).startsWith("containerd://");
    assertThat(c.getState().getTerminated().getExitCode()).isZero();
    assertThat(log).contains("NAME").contains("greeting").contains("kube-root-ca.crt");
    List<String> access = accessLines(ns);
    assertThat(access.subList((int) accessBefore, access.size()))
        .as("MetaServer's access log has the pod's list, as its service account")
        .anyMatch(
            l ->
                l.contains("GET /api/v1/namespaces/" + ns + "/configmaps")
                    && l.contains("by system:serviceaccount:" + ns + ":reader"));

    // Deleted at the apiserver: Edged removes the sandbox, then the pod goes.
    admin.pods().inNamespace(ns).withName("lister").delete();
    Waits.until(
        "pod " + ns + "/lister gone",
        WAIT,
        () -> admin.pods().inNamespace(ns).withName("lister").get() == null);
    Path tasks = containerd.dir().resolve("state/io.containerd.runtime.v2.task/k8s.io");
    Waits.until("containerd runs no task for the pod", WAIT, () -> entries(tasks) == 0);
  }

  static long entries(Path d) {
    try (Stream<Path> s = Files.list(d)) {
      return s.count();
    } catch (IOException e) {
      return Files.exists(d) ? -1 : 0;
    }
  }

  /**
   * Must show 3 with the CRI runtime: a pod without a command whose image has no entrypoint says
   * why at the apiserver; edgecore and the node's other pods carry on.
   */
  @Test
  void anImageWithoutEntrypointSaysWhyAtTheApiserver() throws Exception {
    String ns = "cri-nocmd-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    admin
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .serverSideApply();
    Waits.until(
        "ServiceAccount " + ns + "/default",
        WAIT,
        () -> admin.serviceAccounts().inNamespace(ns).withName("default").get() != null);
    String pods =
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: Pod",
            "metadata: {name: nocmd, namespace: " + ns + "}",
            "spec:",
            "  nodeName: " + NODE,
            "  hostNetwork: true",
            "  restartPolicy: Never",
            "  containers:",
            "  - {name: c, image: '" + NO_COMMAND_IMAGE + "'}",
            "---",
            "apiVersion: v1",
            "kind: Pod",
            "metadata: {name: good, namespace: " + ns + "}",
            "spec:",
            "  nodeName: " + NODE,
            "  hostNetwork: true",
            "  restartPolicy: Never",
            "  containers:",
            "  - {name: c, image: '" + TestContainerd.IMAGE + "', command: [sh, -c, 'echo fine']}",
            "");
    Kubectl.kubeconfig(plane.adminKubeconfig(), dir).withInput(pods, "apply", "-f", "-").ok();
    ContainerStatus[] last = {null};
    Waits.until(
        "pod " + ns + "/nocmd waiting with a message",
        WAIT,
        () -> {
          Pod p = admin.pods().inNamespace(ns).withName("nocmd").get();
          List<ContainerStatus> cs =
              p.getStatus() == null ? null : p.getStatus().getContainerStatuses();
          last[0] = cs == null || cs.isEmpty() ? null : cs.get(0);
          return last[0] != null
              && last[0].getState().getWaiting() != null
              && last[0].getState().getWaiting().getMessage() != null;
        });
    LOG.info(
        "pod {}/nocmd: {} {}",
        ns,
        last[0].getState().getWaiting().getReason(),
        last[0].getState().getWaiting().getMessage());
    assertThat(last[0].getState().getWaiting().getReason()).isEqualTo("CreateContainerError");
    assertThat(last[0].getState().getWaiting().getMessage()).contains("no command specified");
    assertThat(admin.pods().inNamespace(ns).withName("nocmd").get().getStatus().getPhase())
        .isEqualTo("Pending");
    Waits.until(
        "pod " + ns + "/good Succeeded",
        WAIT,
        () -> {
          Pod p = admin.pods().inNamespace(ns).withName("good").get();
          return p.getStatus() != null && "Succeeded".equals(p.getStatus().getPhase());
        });
    assertThat(podLog(admin.pods().inNamespace(ns).withName("good").get().getMetadata().getUid()))
        .contains("fine");
    assertThat(edge.process().isAlive()).as("edgecore runs").isTrue();
    admin.pods().inNamespace(ns).delete();
    Waits.until(
        "pods of " + ns + " gone",
        WAIT,
        () -> admin.pods().inNamespace(ns).list().getItems().isEmpty());
  }

  /**
   * The edge image without its default command (an OCI image-layout tarball with the config's
   * {@code Cmd} and {@code Entrypoint} removed), named {@link #NO_COMMAND_IMAGE}.
   */
  static Path imageWithoutCommand(Path work) throws Exception {
    Path layout = Files.createDirectories(work.resolve("layout"));
    run(List.of("tar", "-C", layout.toString(), "-xf", TestContainerd.edgeImage().toString()));
    ObjectNode index = (ObjectNode) Json.parse(Files.readAllBytes(layout.resolve("index.json")));
    ObjectNode entry = (ObjectNode) index.path("manifests").path(0);
    ObjectNode manifest = (ObjectNode) Json.parse(blob(layout, entry.path("digest").asString()));
    ObjectNode config = (ObjectNode) manifest.path("config");
    ObjectNode image = (ObjectNode) Json.parse(blob(layout, config.path("digest").asString()));
    ((ObjectNode) image.path("config")).remove(List.of("Cmd", "Entrypoint"));
    byte[] imageBytes = Json.bytes(image);
    config.put("digest", writeBlob(layout, imageBytes)).put("size", imageBytes.length);
    byte[] manifestBytes = Json.bytes(manifest);
    entry.put("digest", writeBlob(layout, manifestBytes)).put("size", manifestBytes.length);
    ((ObjectNode) entry.path("annotations"))
        .put("io.containerd.image.name", NO_COMMAND_IMAGE)
        .put("org.opencontainers.image.ref.name", "1");
    Files.write(layout.resolve("index.json"), Json.bytes(index));
    Path tar = work.resolve("no-command.tar");
    run(
        List.of(
            "tar",
            "-C",
            layout.toString(),
            "-cf",
            tar.toString(),
            "oci-layout",
            "index.json",
            "blobs"));
    return tar;
  }

  static byte[] blob(Path layout, String digest) throws IOException {
    return Files.readAllBytes(layout.resolve("blobs/sha256").resolve(digest.substring(7)));
  }

  static String writeBlob(Path layout, byte[] bytes) throws Exception {
    String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    Files.write(layout.resolve("blobs/sha256").resolve(hex), bytes);
    return "sha256:" + hex;
  }

  static void run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("%s finished", cmd).isTrue();
    assertThat(p.exitValue()).as("%s exit code", cmd).isZero();
  }

  static boolean ready() {
    Node n = admin.nodes().withName(NODE).get();
    return n != null
        && n.getStatus() != null
        && n.getStatus().getConditions() != null
        && n.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /** The pod's container logs as Edged keeps them (CRI format: time, stream, tag, line). */
  static String podLog(String uid) {
    try (Stream<Path> s = Files.walk(edge.dir().resolve("pods").resolve(uid).resolve("logs"))) {
      StringBuilder b = new StringBuilder();
      for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
        b.append(Files.readString(f, StandardCharsets.UTF_8));
      }
      return b.toString();
    } catch (IOException | UncheckedIOException e) {
      return "";
    }
  }

  static List<String> accessLines(String ns) {
    return edge.log()
        .lines()
        .filter(l -> l.contains("metaserver: ") && l.contains("/namespaces/" + ns + "/configmaps"))
        .filter(l -> l.contains(" by "))
        .toList();
  }
}
