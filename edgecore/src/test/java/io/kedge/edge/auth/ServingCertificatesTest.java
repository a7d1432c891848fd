package io.kedge.edge.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
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

class ServingCertificatesTest {
  @TempDir Path dir;
  final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  final SigningCloud cloud = new SigningCloud();

  @AfterEach
  void stop() throws InterruptedException {
    // a renewal may be writing under the temporary directory; let it finish before it is deleted
    timer.shutdownNow();
    assertThat(timer.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
  }

  ServingCertificates manager() {
    ServingCertificateSettings s =
        ServingCertificateSettings.defaults("edge-1", List.of("127.0.0.1", "169.254.30.10"), dir)
            .withPollInterval(Duration.ofMillis(20))
            .withWarnAfter(Duration.ofMillis(200));
    s = s.withRetry(Duration.ofMillis(20), Duration.ofMillis(100));
    return new ServingCertificates(s, cloud, timer, Clock.systemUTC());
  }

  @Test
  void requestsPollsStoresAndServes() throws Exception {
    cloud.approveAfterPolls = 3;
    ServingCertificates m = manager();
    m.start();
    var c = m.firstCertificate().get(60, TimeUnit.SECONDS);
    assertThat(c.leaf().getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(cloud.sans).containsExactly("127.0.0.1", "169.254.30.10");
    assertThat(cloud.csr.path("metadata").path("name").asString())
        .isEqualTo("metaserver-csr-edge-1");
    assertThat(cloud.csr.path("spec").path("signerName").asString())
        .isEqualTo("kubernetes.io/kubelet-serving");
    assertThat(cloud.received.get(0).resource())
        .isEqualTo("default/certificatesigningrequest/metaserver-csr-edge-1");
    assertThat(m.sslContext()).isNotNull();
    assertThat(Files.readString(dir.resolve("metaserver-current.pem")))
        .contains("BEGIN CERTIFICATE")
        .contains("PRIVATE KEY");
    assertThat(Files.getPosixFilePermissions(dir.resolve("metaserver-current.pem")))
        .containsExactlyInAnyOrder(
            java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    m.close();

    // restart without the cloud: the kept certificate serves at once
    cloud.setConnected(false);
    int before = cloud.received.size();
    ServingCertificates again = manager();
    again.start();
    assertThat(again.firstCertificate()).isCompleted();
    assertThat(again.current().leaf()).isEqualTo(c.leaf());
    assertThat(cloud.received).hasSize(before);
    again.close();
  }

  @Test
  void renewsBetween70And90PercentOfTheLifetime() throws Exception {
    cloud.validity = Duration.ofSeconds(4);
    ServingCertificates m = manager();
    m.start();
    var first = m.firstCertificate().get(60, TimeUnit.SECONDS);
    // backdated by a minute: the renewal point has already passed, so it renews at once
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> !m.current().leaf().equals(first.leaf()));
    assertThat(cloud.created.get()).isGreaterThanOrEqualTo(2);
    m.close();
  }

  @Test
  void aCertificateIssuedExpiredIsNamedNotServed() throws Exception {
    // valid from a minute ago until 30 s ago, as a signer whose lifetime is under its backdate
    cloud.validity = Duration.ofSeconds(-30);
    ServingCertificates m = manager();
    m.start();
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> m.problem().contains("already expired"));
    assertThat(m.problem()).contains("--cluster-signing-duration");
    assertThat(m.sslContext()).isNull();
    assertThat(dir.resolve(ServingCertificates.FILE)).doesNotExist();
    cloud.validity = Duration.ofHours(1);
    var c = m.firstCertificate().get(60, TimeUnit.SECONDS);
    assertThat(c.leaf().getNotAfter().toInstant()).isAfter(java.time.Instant.now());
    assertThat(m.problem()).isEmpty();
    m.close();
  }

  @Test
  void deniedRequestsAreRetriedAndReportedUntilApproved() throws Exception {
    cloud.deny = true;
    ServingCertificates m = manager();
    m.start();
    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> cloud.created.get() >= 2);
    assertThat(m.problem()).contains("denied").contains("Nope");
    assertThat(m.sslContext()).isNull();
    cloud.deny = false;
    m.firstCertificate().get(60, TimeUnit.SECONDS);
    assertThat(m.problem()).isEmpty();
    m.close();
  }

  @Test
  void pendingTooLongIsNamedAndOfflineWaitsForTheLink() throws Exception {
    cloud.approveAfterPolls = Integer.MAX_VALUE;
    ServingCertificates m = manager();
    m.start();
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> m.problem().contains("requireAuthorization"));
    m.close();

    SigningCloud offline = new SigningCloud();
    offline.connected = false;
    ServingCertificates o =
        new ServingCertificates(
            ServingCertificateSettings.defaults("edge-2", List.of("127.0.0.1"), dir.resolve("o"))
                .withPollInterval(Duration.ofMillis(20)),
            offline,
            timer,
            Clock.systemUTC());
    o.start();
    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> o.problem().contains("cloud"));
    offline.setConnected(true);
    o.firstCertificate().get(60, TimeUnit.SECONDS);
    o.close();
  }
}
