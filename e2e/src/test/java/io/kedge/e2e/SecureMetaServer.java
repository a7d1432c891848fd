package io.kedge.e2e;

import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.pki.Pem;
import io.kedge.protocol.Json;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.EdgeCoreProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * MetaServer over HTTPS as a pod reaches it with {@code requireAuthorization}: the real {@code
 * curl} with the cluster's CA and a bearer token, TLS handshakes that report the served
 * certificate, and the tokens the tests need (TokenRequest bound to a pod; tokens re-signed with
 * another key or with the cluster's own service-account key and different times).
 */
final class SecureMetaServer {
  private SecureMetaServer() {}

  /** cloudcore as edge pods need it: DynamicController and requireAuthorization on. */
  static CloudCoreProcess startCloud(ControlPlane plane, Path dir) {
    return CloudCoreProcess.start(
        plane,
        dir,
        "modules.dynamicController.enable=true",
        "featureGates.requireAuthorization=true");
  }

  /**
   * An edgecore with requireAuthorization whose MetaServer serves HTTPS at 127.0.0.1:{@code port}
   * (one machine, several edge nodes in the suite: this node's own port) and at 127.0.0.2:{@code
   * port}, a loopback address standing in for the link-local dummy address, which would need a link
   * on the host.
   */
  static EdgeCoreProcess startEdge(
      Path dir, String node, CloudCoreProcess cloud, int port, String javaOpts, String... more) {
    List<String> sets =
        new ArrayList<>(
            List.of(
                "featureGates.requireAuthorization=true",
                "modules.metaManager.metaServer.enable=true",
                "modules.metaManager.metaServer.server=127.0.0.1:" + port,
                "modules.metaManager.metaServer.dummyServer=127.0.0.2:" + port));
    sets.addAll(List.of(more));
    return EdgeCoreProcess.start(
        dir,
        node,
        cloud.hubUri(),
        cloud.bootstrapUri(),
        cloud.token(),
        Map.of("KEDGE_JAVA_OPTS", javaOpts),
        sets.toArray(String[]::new));
  }

  /** What curl got: HTTP status (0 when no HTTP answer came) and body. */
  record Answer(int code, String body, String error) {
    JsonNode json() {
      return Json.parse(body);
    }

    /** The names of a list's items. */
    List<String> names() {
      List<String> out = new ArrayList<>();
      for (JsonNode i : json().path("items")) {
        out.add(i.path("metadata").path("name").asString());
      }
      return out;
    }

    @Override
    public String toString() {
      return code + " " + body + (error.isEmpty() ? "" : " (curl: " + error + ")");
    }
  }

  /**
   * {@code curl --cacert <ca> -H "Authorization: Bearer <token>" <url>}; {@code token} null sends
   * no header.
   */
  static Answer curl(Path ca, String token, String url) {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "30"));
    cmd.addAll(List.of("--cacert", ca.toString()));
    if (token != null) {
      cmd.addAll(List.of("-H", "Authorization: Bearer " + token));
    }
    cmd.addAll(List.of("-w", "\n%{http_code}", url));
    try {
      Process p = new ProcessBuilder(cmd).start();
      byte[] out = p.getInputStream().readAllBytes();
      String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(40, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
      String s = new String(out, StandardCharsets.UTF_8);
      int nl = s.lastIndexOf('\n');
      int code = Integer.parseInt(s.substring(nl + 1).strip());
      return new Answer(code, s.substring(0, Math.max(0, nl)), err);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A TLS handshake with {@code host:port}, trusting only {@code ca}; the served leaf. */
  static X509Certificate handshake(Path ca, String host, int port) {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setCertificateEntry("ca", Pem.certificate(Pem.read(ca)));
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(host, port)) {
        s.setSoTimeout(10_000);
        s.startHandshake();
        return (X509Certificate) s.getSession().getPeerCertificates()[0];
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The leaf of MetaServer's kept serving certificate ({@code <pkiDir>/metaserver-current.pem}).
   */
  static X509Certificate keptCertificate(Path pkiDir) {
    String pem = Pem.read(pkiDir.resolve("metaserver-current.pem"));
    String end = "-----END CERTIFICATE-----";
    // the chain, then the key
    return Pem.certificates(pem.substring(0, pem.lastIndexOf(end) + end.length())).get(0);
  }

  static String serial(X509Certificate c) {
    return c.getSerialNumber().toString(16);
  }

  /** TokenRequest (10 minutes, the apiserver's minimum) for {@code sa}, bound to a pod. */
  static String podToken(KubernetesClient admin, String ns, String sa, String pod, String podUid) {
    TokenRequest r =
        admin
            .serviceAccounts()
            .inNamespace(ns)
            .withName(sa)
            .tokenRequest(
                new TokenRequestBuilder()
                    .withNewSpec()
                    .withExpirationSeconds(600L)
                    .withNewBoundObjectRef()
                    .withApiVersion("v1")
                    .withKind("Pod")
                    .withName(pod)
                    .withUid(podUid)
                    .endBoundObjectRef()
                    .endSpec()
                    .build());
    return r.getStatus().getToken();
  }

  /** A JWT's claims. */
  static ObjectNode claims(String jwt) {
    String[] parts = jwt.split("\\.");
    return (ObjectNode) Json.parse(Base64.getUrlDecoder().decode(parts[1]));
  }

  /**
   * {@code token}'s header and claims, the claims' {@code iat}/{@code nbf}/{@code exp} moved to the
   * given times, signed (RS256) with {@code key}.
   */
  static String resigned(String token, PrivateKey key, Instant issued, Instant expires) {
    String[] parts = token.split("\\.");
    ObjectNode c = claims(token);
    c.put("iat", issued.getEpochSecond());
    c.put("nbf", issued.getEpochSecond());
    c.put("exp", expires.getEpochSecond());
    String signingInput = parts[0] + "." + b64(Json.bytes(c));
    return signingInput + "." + b64(rs256(signingInput, key));
  }

  /** {@code token} unchanged except for its signature, made by a key the cluster never had. */
  static String forged(String token) {
    String[] parts = token.split("\\.");
    String signingInput = parts[0] + "." + parts[1];
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      KeyPair other = g.generateKeyPair();
      return signingInput + "." + b64(rs256(signingInput, other.getPrivate()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] rs256(String input, PrivateKey key) {
    try {
      Signature s = Signature.getInstance("SHA256withRSA");
      s.initSign(key);
      s.update(input.getBytes(StandardCharsets.US_ASCII));
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String b64(byte[] b) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }
}
