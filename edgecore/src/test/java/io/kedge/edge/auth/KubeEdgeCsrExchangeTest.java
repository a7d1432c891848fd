package io.kedge.edge.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.pki.KeyPairs;
import io.kedge.pki.Pem;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MetaServer's serving certificate obtained from a cloud that answers as KubeEdge v1.17.0's does
 * (the recorded shapes of seq 161 and 293), including the name being taken.
 */
class KubeEdgeCsrExchangeTest {
  static final String NAME = "metaserver-csr-edge-node-1";

  @TempDir Path dir;
  final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  final KubeEdgeCsrCloud cloud = new KubeEdgeCsrCloud();

  @AfterEach
  void stop() throws InterruptedException {
    timer.shutdownNow();
    assertThat(timer.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
  }

  ServingCertificates manager(Duration reportEvery) {
    return new ServingCertificates(
        ServingCertificateSettings.defaults(
                "edge-node-1", List.of("127.0.0.1", "169.254.30.10"), dir)
            .withPollInterval(Duration.ofMillis(20))
            .withWarnAfter(Duration.ofMillis(200))
            .withRetry(Duration.ofMillis(50), Duration.ofMillis(400))
            .withReportEvery(reportEvery),
        cloud,
        timer,
        Clock.systemUTC());
  }

  @Test
  void theRecordedFormsOfInsertAndPollAreAccepted() throws Exception {
    cloud.approveAfterPolls = 2;
    ServingCertificates m = manager(Duration.ofMinutes(1));
    m.start();
    var c = m.firstCertificate().get(60, TimeUnit.SECONDS);
    assertThat(cloud.inserts.get()).isEqualTo(1);
    assertThat(c.leaf().getPublicKey())
        .isEqualTo(
            new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter()
                .getPublicKey(
                    Pem.csr(
                            new String(
                                java.util.Base64.getDecoder()
                                    .decode(
                                        cloud
                                            .csrs
                                            .get(NAME)
                                            .path("spec")
                                            .path("request")
                                            .asString())))
                        .getSubjectPublicKeyInfo()));
    assertThat(dir.resolve(ServingCertificates.PENDING_FILE)).doesNotExist();
    m.close();
  }

  @Test
  void aPendingKeyTheKeptCertificateIsForIsForgotten() throws Exception {
    ServingCertificates m = manager(Duration.ofMinutes(1));
    m.start();
    var c = m.firstCertificate().get(60, TimeUnit.SECONDS);
    m.close();
    // edgecore stopped after keeping the certificate, before forgetting the key
    Pem.write(
        dir.resolve(ServingCertificates.PENDING_FILE),
        Pem.encode(c.leaf().getPublicKey(), c.key()),
        true);
    ServingCertificates again = manager(Duration.ofMinutes(1));
    again.start();
    assertThat(again.current().leaf()).isEqualTo(c.leaf());
    assertThat(dir.resolve(ServingCertificates.PENDING_FILE)).doesNotExist();
    again.close();
  }

  @Test
  void aTakenNameWithThisEdgesKeyIsWaitedForNotRecreated() throws Exception {
    // A first run created the CSR and stopped before it was issued; its key was kept.
    cloud.approveAfterPolls = Integer.MAX_VALUE;
    ServingCertificates first = manager(Duration.ofMinutes(1));
    first.start();
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                cloud
                        .polls
                        .getOrDefault(NAME, new java.util.concurrent.atomic.AtomicInteger())
                        .get()
                    > 0);
    first.close();
    assertThat(dir.resolve(ServingCertificates.PENDING_FILE)).exists();
    String uid = cloud.csrs.get(NAME).path("metadata").path("uid").asString();

    cloud.approveAfterPolls = 1;
    ServingCertificates again = manager(Duration.ofMinutes(1));
    again.start();
    var c = again.firstCertificate().get(60, TimeUnit.SECONDS);
    assertThat(cloud.csrs).containsOnlyKeys(NAME);
    assertThat(cloud.csrs.get(NAME).path("metadata").path("uid").asString()).isEqualTo(uid);
    assertThat(cloud.inserts.get()).isEqualTo(2); // the second one answered 409
    assertThat(c.leaf()).isNotNull();
    again.close();
  }

  @Test
  void aTakenNameWithAnotherKeyIsReplacedUnderANameOfItsOwnOnce() throws Exception {
    // Left by someone else (or by a run whose key is lost): the cloud cannot delete it.
    KeyPair other = KeyPairs.ecP256();
    cloud.csrs.put(
        NAME,
        cloud.created(
            NAME,
            io.kedge.protocol.Json.parse(
                "{\"spec\":{\"request\":\""
                    + java.util.Base64.getEncoder()
                        .encodeToString(
                            io.kedge.pki.CertificateRequests.pem(
                                    other,
                                    "system:node:edge-node-1",
                                    List.of("system:nodes"),
                                    List.of("127.0.0.1"),
                                    List.of())
                                .getBytes())
                    + "\",\"signerName\":\"kubernetes.io/kubelet-serving\"}}")));
    ServingCertificates m = manager(Duration.ofMinutes(1));
    m.start();
    var c = m.firstCertificate().get(60, TimeUnit.SECONDS);
    assertThat(cloud.csrs).hasSize(2);
    String replacement =
        cloud.csrs.keySet().stream().filter(n -> !n.equals(NAME)).findFirst().orElseThrow();
    assertThat(replacement).matches(NAME + "-[0-9a-f]{10}");
    assertThat(cloud.inserts.get()).isEqualTo(2);
    assertThat(ServingCertificates.forKey(cloud.csrs.get(replacement), other)).isFalse();
    assertThat(c.leaf().getPublicKey()).isNotEqualTo(other.getPublic());
    m.close();
  }

  @Test
  void whileNotIssuedTheProblemNamesTheCsrAndItsState() throws Exception {
    cloud.approveAfterPolls = Integer.MAX_VALUE;
    java.io.PrintStream err = System.err;
    java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(log, true, java.nio.charset.StandardCharsets.UTF_8));
    ServingCertificates m = manager(Duration.ofMillis(300));
    try {
      m.start();
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> m.problem().contains("not approved after"));
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> log.toString().contains("not approved"));
    } finally {
      m.close();
      System.setErr(err);
    }
    assertThat(m.problem()).contains(NAME);
    assertThat(m.state()).startsWith(NAME + " not approved");
    assertThat(cloud.inserts.get()).isEqualTo(1);
    // the edge's own log says it, at WARN, naming the CSR and its state
    assertThat(log.toString())
        .containsPattern(
            "WARN ServingCertificates - MetaServer has no serving certificate: CSR "
                + NAME
                + " (created|not approved)");
  }
}
