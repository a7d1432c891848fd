package io.kedge.cloud.hub;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.pki.Pem;
import io.kedge.protocol.config.CloudHubConfig;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where CloudHub's CA and server certificate come from, as in KubeEdge: PEM files when {@code
 * tlsCAFile}/{@code tlsCAKeyFile} (and {@code tlsCertFile}/{@code tlsPrivateKeyFile}) exist,
 * otherwise Secrets {@code kubeedge/casecret} ({@code cadata}, {@code cakeydata}) and {@code
 * kubeedge/cloudcoresecret} ({@code cloudcoredata}, {@code cloudcorekeydata}) — DER, keys SEC1 —
 * generated when missing. The server certificate is re-issued when its SANs no longer match {@code
 * advertiseAddress}/{@code dnsNames}.
 */
public final class HubPki {
  private static final Logger LOG = LoggerFactory.getLogger(HubPki.class);

  public static final String NAMESPACE = "kubeedge";
  public static final String CA_SECRET = "casecret";
  public static final String CA_DATA = "cadata";
  public static final String CA_KEY_DATA = "cakeydata";
  public static final String CERT_SECRET = "cloudcoresecret";
  public static final String CERT_DATA = "cloudcoredata";
  public static final String CERT_KEY_DATA = "cloudcorekeydata";
  static final Duration HUNDRED_YEARS = Duration.ofDays(36500);

  private HubPki() {}

  /** Loads or creates the hub's TLS material. */
  public static HubTls load(CloudHubConfig cfg, KubernetesClient client) {
    CertificateAuthority ca = loadCa(cfg, client);
    Path certFile = path(cfg.tlsCertFile());
    Path keyFile = path(cfg.tlsPrivateKeyFile());
    if (certFile != null
        && keyFile != null
        && Files.isRegularFile(certFile)
        && Files.isRegularFile(keyFile)) {
      LOG.info("cloudhub: server certificate from {}", certFile);
      return new HubTls(ca, Pem.certificate(Pem.read(certFile)), Pem.privateKey(Pem.read(keyFile)));
    }
    Secret s = get(client, CERT_SECRET);
    if (s != null && s.getData() != null && s.getData().get(CERT_DATA) != null) {
      X509Certificate cert = Pem.certificateFromDer(decode(s, CERT_DATA));
      PrivateKey key = fromSec1(decode(s, CERT_KEY_DATA));
      if (sansMatch(cert, cfg) && issuedBy(cert, ca)) {
        LOG.info("cloudhub: server certificate from Secret {}/{}", NAMESPACE, CERT_SECRET);
        return new HubTls(ca, cert, key);
      }
      LOG.info(
          "cloudhub: server certificate in Secret {}/{} does not match advertiseAddress/dnsNames or"
              + " the CA; issuing a new one",
          NAMESPACE,
          CERT_SECRET);
    }
    KeyPair kp = KeyPairs.ecP256();
    X509Certificate cert = ca.issue(serverSpec(cfg), kp.getPublic());
    save(
        client,
        CERT_SECRET,
        Map.of(CERT_DATA, JoinToken.der(cert), CERT_KEY_DATA, sec1(kp.getPrivate())));
    LOG.info(
        "cloudhub: issued server certificate (IPs {}, DNS {}) into Secret {}/{}",
        cfg.advertiseAddress(),
        cfg.dnsNames(),
        NAMESPACE,
        CERT_SECRET);
    return new HubTls(ca, cert, kp.getPrivate());
  }

  static CertSpec serverSpec(CloudHubConfig cfg) {
    return CertSpec.server(
            "KubeEdge",
            cfg.advertiseAddress() == null ? List.of() : cfg.advertiseAddress(),
            cfg.dnsNames() == null
                ? List.of()
                : cfg.dnsNames().stream().filter(d -> !d.isBlank()).toList(),
            HUNDRED_YEARS)
        .withOrganizations(List.of("KubeEdge"));
  }

  private static CertificateAuthority loadCa(CloudHubConfig cfg, KubernetesClient client) {
    Path caFile = path(cfg.tlsCAFile());
    Path caKey = path(cfg.tlsCAKeyFile());
    if (caFile != null
        && caKey != null
        && Files.isRegularFile(caFile)
        && Files.isRegularFile(caKey)) {
      LOG.info("cloudhub: CA from {}", caFile);
      return new CertificateAuthority(
          Pem.certificate(Pem.read(caFile)), Pem.privateKey(Pem.read(caKey)));
    }
    Secret s = get(client, CA_SECRET);
    if (s != null && s.getData() != null && s.getData().get(CA_DATA) != null) {
      LOG.info("cloudhub: CA from Secret {}/{}", NAMESPACE, CA_SECRET);
      return new CertificateAuthority(
          Pem.certificateFromDer(decode(s, CA_DATA)), fromSec1(decode(s, CA_KEY_DATA)));
    }
    CertificateAuthority ca =
        CertificateAuthority.create("KubeEdge", KeyPairs.ecP256(), HUNDRED_YEARS);
    if (!create(
        client,
        CA_SECRET,
        Map.of(CA_DATA, JoinToken.der(ca.certificate()), CA_KEY_DATA, sec1(ca.privateKey())))) {
      // Another cloudcore created it first: a CA is never overwritten.
      Secret other = get(client, CA_SECRET);
      return new CertificateAuthority(
          Pem.certificateFromDer(decode(other, CA_DATA)), fromSec1(decode(other, CA_KEY_DATA)));
    }
    LOG.info("cloudhub: created a new CA into Secret {}/{}", NAMESPACE, CA_SECRET);
    return ca;
  }

  /** The CA key as SEC1 DER: the HMAC key of join tokens. */
  public static byte[] sec1(PrivateKey key) {
    String pem = Pem.encode(key);
    StringBuilder b64 = new StringBuilder();
    for (String line : pem.split("\n")) {
      if (!line.startsWith("-----") && !line.isBlank()) {
        b64.append(line.strip());
      }
    }
    return Base64.getDecoder().decode(b64.toString());
  }

  static PrivateKey fromSec1(byte[] der) {
    String b64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
    return Pem.privateKey(
        "-----BEGIN EC PRIVATE KEY-----\n" + b64 + "\n-----END EC PRIVATE KEY-----\n");
  }

  private static boolean issuedBy(X509Certificate cert, CertificateAuthority ca) {
    try {
      cert.verify(ca.certificate().getPublicKey());
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  private static boolean sansMatch(X509Certificate cert, CloudHubConfig cfg) {
    Set<String> want = new LinkedHashSet<>();
    for (String ip : cfg.advertiseAddress() == null ? List.<String>of() : cfg.advertiseAddress()) {
      want.add("ip:" + normalizeIp(ip));
    }
    for (String d : cfg.dnsNames() == null ? List.<String>of() : cfg.dnsNames()) {
      if (!d.isBlank()) {
        want.add("dns:" + d);
      }
    }
    Set<String> have = new LinkedHashSet<>();
    try {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          int type = (Integer) san.get(0);
          if (type == 7) {
            have.add("ip:" + normalizeIp(String.valueOf(san.get(1))));
          } else if (type == 2) {
            have.add("dns:" + san.get(1));
          }
        }
      }
    } catch (CertificateParsingException e) {
      return false;
    }
    return have.equals(want);
  }

  private static String normalizeIp(String ip) {
    try {
      return InetAddress.getByName(ip).getHostAddress();
    } catch (Exception e) {
      return ip;
    }
  }

  private static Secret get(KubernetesClient client, String name) {
    return client.secrets().inNamespace(NAMESPACE).withName(name).get();
  }

  private static byte[] decode(Secret s, String key) {
    String v = s.getData().get(key);
    if (v == null) {
      throw new IllegalStateException(
          "Secret " + NAMESPACE + "/" + s.getMetadata().getName() + " has no " + key);
    }
    return Base64.getDecoder().decode(v);
  }

  private static Secret secret(String name, Map<String, byte[]> data) {
    Map<String, String> enc = new HashMap<>();
    data.forEach((k, v) -> enc.put(k, Base64.getEncoder().encodeToString(v)));
    return new SecretBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(NAMESPACE)
        .endMetadata()
        .withType("Opaque")
        .withData(enc)
        .build();
  }

  /** Creates a Secret in {@code kubeedge}; false when it already exists. */
  static boolean create(KubernetesClient client, String name, Map<String, byte[]> data) {
    try {
      client.secrets().inNamespace(NAMESPACE).resource(secret(name, data)).create();
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return false;
      }
      throw e;
    }
  }

  /** Creates or replaces a Secret in {@code kubeedge}. */
  static void save(KubernetesClient client, String name, Map<String, byte[]> data) {
    if (create(client, name, data)) {
      return;
    }
    Secret s = secret(name, data);
    Secret cur = client.secrets().inNamespace(NAMESPACE).withName(name).get();
    s.getMetadata().setResourceVersion(cur.getMetadata().getResourceVersion());
    client.secrets().inNamespace(NAMESPACE).resource(s).update();
  }

  private static Path path(String s) {
    return s == null || s.isBlank() ? null : Path.of(s);
  }
}
