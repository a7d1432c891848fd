package io.kedge.cloud.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.pki.Pem;
import io.kedge.pki.TlsContexts;
import io.kedge.protocol.config.CloudCoreConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BootstrapServerTest {
  private final CertificateAuthority ca =
      CertificateAuthority.create("KubeEdge", KeyPairs.ecP256(), Duration.ofDays(100));
  private final ExecutorService blocking = Executors.newSingleThreadExecutor();
  private BootstrapServer server;
  private String jwt;
  private URI base;

  @BeforeEach
  void start() {
    var cfg =
        CloudCoreConfig.load(
                null,
                List.of(
                    "modules.cloudHub.https.address=127.0.0.1",
                    "modules.cloudHub.https.port=0",
                    "modules.cloudHub.edgeCertSigningDuration=30"))
            .config()
            .modules()
            .cloudHub();
    KeyPair k = KeyPairs.ecP256();
    X509Certificate cert =
        ca.issue(
            CertSpec.server("KubeEdge", List.of("127.0.0.1"), List.of(), Duration.ofDays(10)),
            k.getPublic());
    server =
        new BootstrapServer(
            cfg,
            new HubTls(ca, cert, k.getPrivate()),
            node -> node.equals("known") ? Optional.of(true) : Optional.of(false),
            blocking,
            Clock.systemUTC());
    server.start();
    base = URI.create("https://127.0.0.1:" + server.address().getPort());
    jwt =
        JoinToken.create(
                ca.certificate(), HubPki.sec1(ca.privateKey()), Instant.now(), Duration.ofHours(1))
            .split("\\.", 2)[1];
  }

  @AfterEach
  void stop() {
    server.close();
    blocking.shutdownNow();
  }

  static byte[] csr(KeyPair kp, String cn, String org, String ip) throws Exception {
    X500NameBuilder n = new X500NameBuilder(BCStyle.INSTANCE);
    n.addRDN(BCStyle.C, "CN");
    if (org != null) {
      n.addRDN(BCStyle.O, org);
    }
    n.addRDN(BCStyle.CN, cn);
    var b = new JcaPKCS10CertificationRequestBuilder(n.build(), kp.getPublic());
    if (ip != null) {
      ExtensionsGenerator g = new ExtensionsGenerator();
      g.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(new GeneralName(GeneralName.iPAddress, ip)));
      b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, g.generate());
    }
    return b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()))
        .getEncoded();
  }

  private HttpResponse<byte[]> get(SSLContext ssl, String path, byte[] body, String... headers)
      throws Exception {
    HttpClient c = HttpClient.newBuilder().sslContext(ssl).build();
    HttpRequest.Builder r =
        HttpRequest.newBuilder(base.resolve(path))
            .method(
                "GET",
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(body));
    for (int i = 0; i < headers.length; i += 2) {
      r.header(headers[i], headers[i + 1]);
    }
    return c.send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private SSLContext anonymous() {
    return TlsContexts.client(List.of(ca.certificate()), null, null);
  }

  @Test
  void servesTheCaAsDer() throws Exception {
    var r = get(anonymous(), "/ca.crt", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(ca.certificate().getEncoded());
  }

  @Test
  void signsAJoinRequestCopyingSubjectAndSans() throws Exception {
    KeyPair kp = KeyPairs.ecP256();
    var r =
        get(
            anonymous(),
            "/edge.crt",
            csr(kp, "system:node:edge-1", "system:nodes", "10.1.2.3"),
            "NodeName",
            "edge-1",
            "Authorization",
            "Bearer " + jwt);
    assertThat(r.statusCode()).isEqualTo(200);
    X509Certificate cert = Pem.certificateFromDer(r.body());
    assertThat(cert.getSubjectX500Principal().getName())
        .isEqualTo("CN=system:node:edge-1,O=system:nodes");
    assertThat(cert.getPublicKey()).isEqualTo(kp.getPublic());
    assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
    assertThat(cert.getSubjectAlternativeNames())
        .anySatisfy(s -> assertThat(s.get(1)).isEqualTo("10.1.2.3"));
    assertThat(Duration.between(Instant.now(), cert.getNotAfter().toInstant()).toDays())
        .isBetween(29L, 30L);
    cert.verify(ca.certificate().getPublicKey());
  }

  @Test
  void rotatesWithTheNodesOwnCertificateAndNobodyElses() throws Exception {
    KeyPair old = KeyPairs.ecP256();
    X509Certificate current =
        ca.issue(
            CertSpec.client("system:node:edge-1", List.of("system:nodes"), Duration.ofDays(1)),
            old.getPublic());
    SSLContext mtls =
        TlsContexts.client(List.of(ca.certificate()), old.getPrivate(), List.of(current));
    KeyPair next = KeyPairs.ecP256();
    var ok =
        get(
            mtls,
            "/edge.crt",
            csr(next, "system:node:edge-1", "system:nodes", null),
            "NodeName",
            "edge-1");
    assertThat(ok.statusCode()).isEqualTo(200);
    var other =
        get(
            mtls,
            "/edge.crt",
            csr(next, "system:node:edge-2", "system:nodes", null),
            "NodeName",
            "edge-2");
    assertThat(other.statusCode()).isEqualTo(401);
  }

  @Test
  void refusesBadTokensAndRequests() throws Exception {
    KeyPair kp = KeyPairs.ecP256();
    byte[] good = csr(kp, "system:node:edge-1", "system:nodes", null);
    assertThat(get(anonymous(), "/edge.crt", good, "NodeName", "edge-1").statusCode())
        .isEqualTo(401);
    assertThat(
            get(
                    anonymous(),
                    "/edge.crt",
                    good,
                    "NodeName",
                    "edge-1",
                    "Authorization",
                    "Bearer x.y.z")
                .statusCode())
        .isEqualTo(401);
    CertificateAuthority other =
        CertificateAuthority.create("KubeEdge", KeyPairs.ecP256(), Duration.ofDays(1));
    String foreign =
        JoinToken.create(
                other.certificate(),
                HubPki.sec1(other.privateKey()),
                Instant.now(),
                Duration.ofHours(1))
            .split("\\.", 2)[1];
    var wrongKey =
        get(
            anonymous(),
            "/edge.crt",
            good,
            "NodeName",
            "edge-1",
            "Authorization",
            "Bearer " + foreign);
    assertThat(wrongKey.statusCode()).isEqualTo(401);
    assertThat(new String(wrongKey.body())).contains("signature");
    // a token cannot mint a certificate for another node
    assertThat(
            get(
                    anonymous(),
                    "/edge.crt",
                    csr(kp, "system:node:edge-2", "system:nodes", null),
                    "NodeName",
                    "edge-1",
                    "Authorization",
                    "Bearer " + jwt)
                .statusCode())
        .isEqualTo(400);
    assertThat(
            get(
                    anonymous(),
                    "/edge.crt",
                    csr(kp, "system:node:edge-1", "system:masters", null),
                    "NodeName",
                    "edge-1",
                    "Authorization",
                    "Bearer " + jwt)
                .statusCode())
        .isEqualTo(400);
    assertThat(
            get(
                    anonymous(),
                    "/edge.crt",
                    "garbage".getBytes(),
                    "NodeName",
                    "edge-1",
                    "Authorization",
                    "Bearer " + jwt)
                .statusCode())
        .isEqualTo(400);
    assertThat(get(anonymous(), "/edge.crt", good, "Authorization", "Bearer " + jwt).statusCode())
        .isEqualTo(400);
    assertThat(
            get(
                    anonymous(),
                    "/edge.crt",
                    new byte[BootstrapServer.MAX_CSR_BYTES + 10],
                    "NodeName",
                    "edge-1",
                    "Authorization",
                    "Bearer " + jwt)
                .statusCode())
        .isEqualTo(413);
  }

  @Test
  void answersWhetherANodeExists() throws Exception {
    assertThat(get(anonymous(), "/node/known", null).statusCode()).isEqualTo(200);
    assertThat(get(anonymous(), "/node/unknown", null).statusCode()).isEqualTo(404);
    assertThat(get(anonymous(), "/nothing", null).statusCode()).isEqualTo(404);
  }
}
