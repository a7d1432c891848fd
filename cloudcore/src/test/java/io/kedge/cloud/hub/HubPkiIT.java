package io.kedge.cloud.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.config.CloudHubConfig;
import io.kedge.testkit.KedgeManifests;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CA, server certificate and join token kept in Secrets, with cloudcore's own rights. */
@WithControlPlane
class HubPkiIT {

  private static CloudHubConfig hubConfig(Path dir, String... sets) {
    List<String> all =
        new java.util.ArrayList<>(
            List.of(
                "modules.cloudHub.tlsCAFile=" + dir.resolve("ca.crt"),
                "modules.cloudHub.tlsCAKeyFile=" + dir.resolve("ca.key"),
                "modules.cloudHub.tlsCertFile=" + dir.resolve("server.crt"),
                "modules.cloudHub.tlsPrivateKeyFile=" + dir.resolve("server.key")));
    all.addAll(List.of(sets));
    return CloudCoreConfig.load(null, all).config().modules().cloudHub();
  }

  static KubeClients cloudcoreClients(ControlPlane plane, Path dir) {
    Path kc =
        KedgeManifests.cloudcoreKubeconfig(
            plane, Path.of(System.getProperty("kedge.home")), dir.resolve("cloudcore.kubeconfig"));
    return KubeClients.create(new CloudCoreConfig.KubeApiConfig("", kc.toString(), "", 0, 0));
  }

  @Test
  void generatesKeepsAndReissuesOnlyWhatChanged(
      ControlPlane plane, KubernetesClient admin, @TempDir Path dir) throws Exception {
    for (String s : List.of("casecret", "cloudcoresecret", "tokensecret")) {
      admin.secrets().inNamespace("kubeedge").withName(s).delete();
    }
    try (KubeClients kube = cloudcoreClients(plane, dir)) {
      CloudHubConfig cfg = hubConfig(dir, "modules.cloudHub.advertiseAddress={127.0.0.1}");
      HubTls first = HubPki.load(cfg, kube.own());
      assertThat(first.serverCert().getPublicKey().getAlgorithm()).isEqualTo("EC");
      first.serverCert().verify(first.ca().certificate().getPublicKey());
      Secret ca = admin.secrets().inNamespace("kubeedge").withName("casecret").get();
      assertThat(Base64.getDecoder().decode(ca.getData().get("cadata")))
          .isEqualTo(first.ca().certificate().getEncoded());

      HubTls again = HubPki.load(cfg, kube.own());
      assertThat(again.ca().certificate()).isEqualTo(first.ca().certificate());
      assertThat(again.serverCert()).isEqualTo(first.serverCert());

      HubTls moved =
          HubPki.load(hubConfig(dir, "modules.cloudHub.advertiseAddress={127.0.0.2}"), kube.own());
      assertThat(moved.ca().certificate()).isEqualTo(first.ca().certificate());
      assertThat(moved.serverCert()).isNotEqualTo(first.serverCert());
      assertThat(moved.serverCert().getSubjectAlternativeNames())
          .anySatisfy(s -> assertThat(s.get(1)).isEqualTo("127.0.0.2"));

      ScheduledExecutorService ses = Executors.newSingleThreadScheduledExecutor();
      try {
        new JoinTokenRefresher(moved, kube.own(), Duration.ofHours(12), ses, Clock.systemUTC())
            .start();
        Secret tok = admin.secrets().inNamespace("kubeedge").withName("tokensecret").get();
        String token =
            new String(
                Base64.getDecoder().decode(tok.getData().get("tokendata")),
                StandardCharsets.US_ASCII);
        String[] parts = token.split("\\.", 2);
        assertThat(parts[0]).isEqualTo(JoinToken.caHash(moved.ca().certificate()));
        assertThat(JoinToken.problem(parts[1], HubPki.sec1(moved.ca().privateKey()), Instant.now()))
            .isNull();
        assertThat(
                JoinToken.problem(
                    parts[1],
                    HubPki.sec1(moved.ca().privateKey()),
                    Instant.now().plus(Duration.ofHours(25))))
            .contains("expired");
      } finally {
        ses.shutdownNow();
      }
    }
  }

  @Test
  void pemFilesWinOverSecrets(ControlPlane plane, @TempDir Path dir) {
    var ca =
        io.kedge.pki.CertificateAuthority.create(
            "file-ca", io.kedge.pki.KeyPairs.ecP256(), Duration.ofDays(10));
    io.kedge.pki.Pem.write(dir.resolve("ca.crt"), io.kedge.pki.Pem.encode(ca.certificate()), false);
    io.kedge.pki.Pem.write(dir.resolve("ca.key"), io.kedge.pki.Pem.encode(ca.privateKey()), true);
    try (KubeClients kube = cloudcoreClients(plane, dir)) {
      HubTls tls =
          HubPki.load(hubConfig(dir, "modules.cloudHub.advertiseAddress={127.0.0.1}"), kube.own());
      assertThat(tls.ca().certificate()).isEqualTo(ca.certificate());
    }
  }
}
