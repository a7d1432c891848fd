package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.Json;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.EdgeCoreProcess;
import io.kedge.testkit.Ports;
import io.kedge.testkit.Prerequisites;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.ControlPlaneExtension;
import io.kedge.testkit.junit.WithControlPlane;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Must show 3, rotation: with a control plane whose controller-manager signs for a short {@code
 * --cluster-signing-duration}, MetaServer's serving certificate is renewed (at 70–90 % of its
 * lifetime) and swapped in while a watch held over HTTPS by the real {@code curl} keeps streaming
 * on the same connection; new handshakes get the new certificate.
 *
 * <p>Needs its own test JVM (the plane is per JVM): the e2e module's {@code short-signing} failsafe
 * execution runs it with {@code -Dkedge.clusterSigningDuration=PT8M}; elsewhere it is skipped.
 */
@WithControlPlane
class ServingCertRotationIT {
  private static final Logger LOG = LoggerFactory.getLogger(ServingCertRotationIT.class);
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final String NODE = "edge-rotation-1";

  Path dir;

  @Test
  void aRotationSwapsTheCertificateWithoutDroppingAWatch(ControlPlane plane, KubernetesClient admin)
      throws Exception {
    // kept after the run: edgecore's and cloudcore's logs
    dir = RunFiles.runDir("cert-rotation-it-");
    LOG.info("files of this run in {}", dir);
    Duration signing = plane.clusterSigningDuration().orElse(Duration.ofDays(365));
    Prerequisites.require(
        signing.compareTo(Duration.ofMinutes(15)) <= 0,
        "a control plane with a short --cluster-signing-duration (-D"
            + ControlPlaneExtension.SIGNING_DURATION_PROPERTY
            + "=PT8M, as the e2e module's short-signing execution sets it)");
    int port = Ports.free();
    try (CloudCoreProcess cloud = SecureMetaServer.startCloud(plane, dir.resolve("cloudcore"));
        EdgeCoreProcess edge =
            SecureMetaServer.startEdge(
                dir.resolve("edge"), NODE, cloud, port, "-Xmx256m -XX:+UseSerialGC")) {
      try {
        rotate(plane, admin, edge, port);
      } finally {
        edge.close();
        cloud.close();
        if (admin.nodes().withName(NODE).get() != null) {
          admin.nodes().withName(NODE).delete();
        }
      }
      cloud.assertNoForbidden();
    }
  }

  private void rotate(ControlPlane plane, KubernetesClient admin, EdgeCoreProcess edge, int port)
      throws Exception {
    Waits.until(
        "node " + NODE + " Ready",
        WAIT,
        () -> {
          var n = admin.nodes().withName(NODE).get();
          return n != null
              && n.getStatus() != null
              && n.getStatus().getConditions() != null
              && n.getStatus().getConditions().stream()
                  .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
        });
    Path pki = edge.dir().resolve("pki/metaserver");
    Path ca = pki.resolve("ca.crt");
    Waits.until(
        "MetaServer's serving certificate issued and the cluster CA kept",
        WAIT,
        () ->
            Files.isRegularFile(pki.resolve("metaserver-current.pem")) && Files.isRegularFile(ca));
    String ns = "rot-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    PageInstall.readerAccount(admin, ns, true);
    Pod pod =
        admin
            .pods()
            .inNamespace(ns)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName("watcher")
                    .endMetadata()
                    .withNewSpec()
                    .withNodeName(NODE)
                    .withServiceAccountName("reader")
                    .withRestartPolicy("Never")
                    .addNewContainer()
                    .withName("main")
                    .withImage("kedge/host-process")
                    .withCommand("/bin/sleep", "3600")
                    .endContainer()
                    .endSpec()
                    .build())
            .create();
    String token =
        SecureMetaServer.podToken(admin, ns, "reader", "watcher", pod.getMetadata().getUid());
    String list = "https://127.0.0.1:" + port + "/api/v1/namespaces/" + ns + "/configmaps";
    SecureMetaServer.Answer[] last = {null};
    try {
      Waits.until(
          "the pod's token is accepted at the edge",
          WAIT,
          () -> (last[0] = SecureMetaServer.curl(ca, token, list)).code() == 200);
    } finally {
      LOG.info("last answer to the pod's token: {}", last[0]);
    }

    X509Certificate first = SecureMetaServer.handshake(ca, "127.0.0.1", port);
    LOG.info(
        "first serving certificate {} valid {} .. {}",
        SecureMetaServer.serial(first),
        first.getNotBefore().toInstant(),
        first.getNotAfter().toInstant());
    assertThat(Duration.between(first.getNotBefore().toInstant(), first.getNotAfter().toInstant()))
        .as("the controller-manager's short signing duration applies")
        .isLessThan(Duration.ofMinutes(20));

    // a watch held over HTTPS by curl for the whole rotation
    Process watch =
        new ProcessBuilder(
                "curl",
                "-sS",
                "-N",
                "--cacert",
                ca.toString(),
                "-H",
                "Authorization: Bearer " + token,
                list + "?watch=true&timeoutSeconds=1800")
            .redirectError(dir.resolve("watch.err").toFile())
            .start();
    List<String> added = new CopyOnWriteArrayList<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(watch.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  if (line.isBlank()) {
                    continue;
                  }
                  JsonNode e = Json.parse(line);
                  if (e.path("type").asString().equals("ADDED")) {
                    added.add(e.path("object").path("metadata").path("name").asString());
                  }
                }
              } catch (Exception e) {
                LOG.info("watch stream ended: {}", e.toString());
              }
            },
            "curl-watch");
    reader.setDaemon(true);
    reader.start();
    try {
      Waits.until("the watch lists what exists", WAIT, () -> added.contains("kube-root-ca.crt"));
      int ticks = 0;
      long t0 = System.nanoTime();
      X509Certificate now = first;
      // A change every few seconds, each seen on the held watch, until the certificate changed.
      while (now.getSerialNumber().equals(first.getSerialNumber())) {
        assertThat(System.nanoTime() - t0)
            .as("a renewal within the certificate's lifetime")
            .isLessThan(
                Duration.between(first.getNotBefore().toInstant(), first.getNotAfter().toInstant())
                    .toNanos());
        String name = "tick-" + (++ticks);
        configMap(admin, ns, name);
        Waits.until("the held watch shows " + name, WAIT, () -> added.contains(name));
        assertThat(watch.isAlive()).as("curl's watch still streams").isTrue();
        Thread.sleep(3000);
        now = SecureMetaServer.handshake(ca, "127.0.0.1", port);
      }
      LOG.info(
          "serving certificate rotated {} ms after the first handshake: {} -> {} (valid {} .. {}),"
              + " {} changes streamed meanwhile",
          (System.nanoTime() - t0) / 1_000_000,
          SecureMetaServer.serial(first),
          SecureMetaServer.serial(now),
          now.getNotBefore().toInstant(),
          now.getNotAfter().toInstant(),
          ticks);
      now.verify(plane.pki().ca().getPublicKey());
      assertThat(now.getSubjectX500Principal()).isEqualTo(first.getSubjectX500Principal());
      assertThat(now.getNotAfter()).isAfter(first.getNotAfter());
      assertThat(edge.log().lines().filter(l -> l.contains("serving certificate issued")).count())
          .as("edgecore logged the renewal")
          .isGreaterThanOrEqualTo(2);

      // the connection opened before the swap still streams
      configMap(admin, ns, "after-swap");
      Waits.until("the held watch shows after-swap", WAIT, () -> added.contains("after-swap"));
      assertThat(watch.isAlive()).as("the same curl, the same connection").isTrue();
      assertThat(added.stream().filter(n -> n.equals("kube-root-ca.crt")).count())
          .as("no re-list: the watch was never re-established")
          .isEqualTo(1);
      assertThat(SecureMetaServer.curl(ca, token, list).code()).isEqualTo(200);
      assertThat(SecureMetaServer.handshake(ca, "127.0.0.2", port).getSerialNumber())
          .isNotEqualTo(first.getSerialNumber());
    } finally {
      watch.destroy();
      watch.waitFor();
    }
  }

  static void configMap(KubernetesClient admin, String ns, String name) {
    admin
        .configMaps()
        .inNamespace(ns)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withData(Map.of("v", name))
                .build())
        .create();
  }
}
