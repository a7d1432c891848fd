package io.kedge.keadm;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.cloud.hub.HubPki;
import io.kedge.cloud.hub.HubTls;
import io.kedge.cloud.hub.JoinToken;
import io.kedge.pki.TlsContexts;
import io.kedge.protocol.config.CloudCoreConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * The cluster side of {@code keadm init} and {@code keadm reset}: namespace, ServiceAccount, RBAC
 * and CRDs from {@code deploy/}, ConfigMap {@code kubeedge/cloudcore}; and reading the join token.
 */
final class CloudInstaller {
  static final String FEATURE_ROLE = "cloudcore-feature";
  static final String FIELD_MANAGER = "keadm";
  static final String VERSION_ANNOTATION = "kedge.io/kubeedge-version";
  static final String TOKEN_SECRET = "tokensecret";
  static final String TOKEN_KEY = "tokendata";
  static final List<String> CLOUD_SECRETS =
      List.of(TOKEN_SECRET, "casecret", "cloudcoresecret", "cloudcore-kubeconfig-token");

  private final KeadmEnvironment env;
  private final KubernetesClient client;
  private final Path deployDir;

  CloudInstaller(KeadmEnvironment env, KubernetesClient client, Path deployDir) {
    this.env = env;
    this.client = client;
    this.deployDir = deployDir;
  }

  /** A shipped manifest: the file it came from and its objects. */
  record Manifest(Path file, List<HasMetadata> items) {}

  /** CRDs first, then RBAC; the {@code cloudcore-feature} role only with the gate. */
  List<Manifest> manifests(boolean featureGate) {
    List<Manifest> out = new ArrayList<>();
    out.add(
        new Manifest(
            null,
            List.of(
                new NamespaceBuilder()
                    .withNewMetadata()
                    .withName(InitCommand.NAMESPACE)
                    .endMetadata()
                    .build())));
    for (String dir : List.of("crds", "rbac")) {
      for (Path f : yamlFiles(deployDir.resolve(dir))) {
        List<HasMetadata> items = new ArrayList<>();
        for (HasMetadata m : load(f)) {
          if (!featureGate && isFeatureRole(f, m)) {
            continue;
          }
          if (m instanceof Namespace) {
            continue;
          }
          items.add(m);
        }
        if (!items.isEmpty()) {
          out.add(new Manifest(f, items));
        }
      }
    }
    return out;
  }

  static boolean isFeatureRole(Path file, HasMetadata m) {
    return (file != null && file.getFileName().toString().equals(FEATURE_ROLE + ".yaml"))
        || FEATURE_ROLE.equals(m.getMetadata().getName());
  }

  /** Whether {@code deploy/rbac} ships the feature role yet. */
  boolean featureRoleShipped() {
    return Files.isRegularFile(deployDir.resolve("rbac").resolve(FEATURE_ROLE + ".yaml"));
  }

  ConfigMap configMap(CloudCoreValues.Result values, KubeEdgeVersion version) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("k8s-app", "kubeedge");
    labels.put("kubeedge", "cloudcore");
    labels.put("app.kubernetes.io/managed-by", "keadm");
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(InitCommand.CONFIGMAP)
        .withNamespace(InitCommand.NAMESPACE)
        .withLabels(labels)
        .withAnnotations(Map.of(VERSION_ANNOTATION, version.toString()))
        .endMetadata()
        .withData(Map.of(InitCommand.CONFIG_KEY, values.yaml()))
        .build();
  }

  Optional<ConfigMap> existing() {
    return Optional.ofNullable(
        client
            .configMaps()
            .inNamespace(InitCommand.NAMESPACE)
            .withName(InitCommand.CONFIGMAP)
            .get());
  }

  void apply(List<Manifest> manifests) {
    var ns = client.namespaces().withName(InitCommand.NAMESPACE).get();
    if (ns != null && ns.getMetadata().getDeletionTimestamp() != null) {
      env.progress("init", "namespace " + InitCommand.NAMESPACE + " is being deleted; waiting");
      awaitNamespaceGone("init");
    }
    for (Manifest m : manifests) {
      String from = m.file() == null ? "" : " (" + deployDir.getParent().relativize(m.file()) + ")";
      for (HasMetadata item : m.items()) {
        env.progress(
            "init",
            "applying "
                + item.getKind()
                + " "
                + (item.getMetadata().getNamespace() == null
                    ? ""
                    : item.getMetadata().getNamespace() + "/")
                + item.getMetadata().getName()
                + from);
      }
      for (HasMetadata item : m.items()) {
        client.resource(item).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
      }
      for (HasMetadata item : m.items()) {
        if (item instanceof CustomResourceDefinition crd) {
          awaitEstablished(crd.getMetadata().getName());
        }
      }
    }
  }

  void applyConfigMap(ConfigMap cm) {
    env.progress(
        "init",
        "applying ConfigMap "
            + InitCommand.NAMESPACE
            + "/"
            + InitCommand.CONFIGMAP
            + " (key "
            + InitCommand.CONFIG_KEY
            + ")");
    client.resource(cm).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
  }

  /** Removes the feature role left by an earlier install with the gate on. */
  void removeFeatureRole() {
    var roles = client.rbac().clusterRoles().withName(FEATURE_ROLE);
    if (roles.get() != null) {
      env.progress(
          "init", "removing ClusterRole " + FEATURE_ROLE + " (requireAuthorization is off)");
      roles.delete();
    }
  }

  private void awaitEstablished(String name) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      CustomResourceDefinition c =
          client.apiextensions().v1().customResourceDefinitions().withName(name).get();
      if (c != null
          && c.getStatus() != null
          && c.getStatus().getConditions() != null
          && c.getStatus().getConditions().stream()
              .anyMatch(x -> "Established".equals(x.getType()) && "True".equals(x.getStatus()))) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new KeadmException("CustomResourceDefinition " + name + " not established in 60 s");
      }
      sleep(100);
    }
  }

  /**
   * The hub CA and cloudcore's server certificate in Secrets {@code kubeedge/casecret} and {@code
   * kubeedge/cloudcoresecret} (cloudcore's own code: existing ones are kept, missing ones created),
   * and a fresh join token in {@code kubeedge/tokensecret} in cloudcore's token format, so that
   * {@code keadm gettoken} works as soon as init returns.
   */
  HubTls ensureCredentials(CloudCoreConfig config) {
    env.progress(
        "init",
        "CA and server certificate in Secrets "
            + InitCommand.NAMESPACE
            + "/"
            + HubPki.CA_SECRET
            + " and "
            + InitCommand.NAMESPACE
            + "/"
            + HubPki.CERT_SECRET);
    HubTls tls = HubPki.load(config.modules().cloudHub(), client);
    Duration validity =
        Duration.ofHours(2L * Math.max(1, config.modules().cloudHub().tokenRefreshDuration()));
    String token =
        JoinToken.create(
            tls.ca().certificate(), HubPki.sec1(tls.ca().privateKey()), Instant.now(), validity);
    env.progress(
        "init",
        "join token in Secret "
            + InitCommand.NAMESPACE
            + "/"
            + TOKEN_SECRET
            + " (valid "
            + validity.toHours()
            + " h; cloudcore renews it)");
    Secret s =
        new SecretBuilder()
            .withNewMetadata()
            .withName(TOKEN_SECRET)
            .withNamespace(InitCommand.NAMESPACE)
            .endMetadata()
            .withData(
                Map.of(
                    TOKEN_KEY,
                    Base64.getEncoder().encodeToString(token.getBytes(StandardCharsets.US_ASCII))))
            .build();
    client.resource(s).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
    return tls;
  }

  /**
   * Waits until cloudcore's certificate server on this machine presents a certificate from the hub
   * CA, while {@code alive} holds; prints progress every 10 s.
   */
  void awaitCloudcore(
      X509Certificate ca, String host, int port, Duration atMost, BooleanSupplier alive, Path log) {
    SSLContext trustHubCa = TlsContexts.client(List.of(ca), null, null);
    long t0 = System.nanoTime();
    long deadline = t0 + atMost.toNanos();
    long nextNote = t0 + Duration.ofSeconds(10).toNanos();
    while (true) {
      try (SSLSocket socket = (SSLSocket) trustHubCa.getSocketFactory().createSocket()) {
        socket.connect(new InetSocketAddress(host, port), 2000);
        socket.setSoTimeout(5000);
        socket.startHandshake();
        return;
      } catch (IOException e) {
        // not listening yet, or another server holds the port (then the CA check fails)
      }
      long now = System.nanoTime();
      if (!alive.getAsBoolean()) {
        throw new KeadmException(
            "cloudcore is not running; its log " + log + " ends with: " + tail(log));
      }
      if (now > deadline) {
        throw new KeadmException(
            "cloudcore did not answer on "
                + host
                + ":"
                + port
                + " with the hub CA's certificate within "
                + atMost.toSeconds()
                + " s; its log "
                + log
                + " ends with: "
                + tail(log));
      }
      if (now > nextNote) {
        env.progress(
            "init",
            "waiting for cloudcore to listen on "
                + host
                + ":"
                + port
                + " ("
                + Duration.ofNanos(now - t0).toSeconds()
                + " s)");
        nextNote = now + Duration.ofSeconds(10).toNanos();
      }
      sleep(250);
    }
  }

  /**
   * The Secrets every cloudcore of a cluster shares (hub CA, server certificate, join token) that
   * are missing: an install without them cannot take another cloudcore.
   */
  List<String> missingSharedSecrets() {
    List<String> missing = new java.util.ArrayList<>();
    for (String name : List.of("casecret", "cloudcoresecret", TOKEN_SECRET)) {
      if (client.secrets().inNamespace(InitCommand.NAMESPACE).withName(name).get() == null) {
        missing.add(InitCommand.NAMESPACE + "/" + name);
      }
    }
    return missing;
  }

  /** The join token from Secret kubeedge/tokensecret, if there is one. */
  Optional<String> token() {
    Secret s = client.secrets().inNamespace(InitCommand.NAMESPACE).withName(TOKEN_SECRET).get();
    if (s == null || s.getData() == null || s.getData().get(TOKEN_KEY) == null) {
      return Optional.empty();
    }
    String t =
        new String(Base64.getDecoder().decode(s.getData().get(TOKEN_KEY)), StandardCharsets.UTF_8)
            .strip();
    return t.isEmpty() ? Optional.empty() : Optional.of(t);
  }

  /** Removes everything {@code init} created in the cluster except the CRDs (they hold data). */
  void uninstall(List<Manifest> manifests) {
    for (Manifest m : manifests) {
      for (HasMetadata item : m.items()) {
        if (item instanceof CustomResourceDefinition || item instanceof Namespace) {
          continue;
        }
        if (item.getMetadata().getNamespace() == null
            || !item.getMetadata().getNamespace().equals(InitCommand.NAMESPACE)) {
          env.progress("reset", "deleting " + item.getKind() + " " + item.getMetadata().getName());
          client.resource(item).delete();
        }
      }
    }
    var feature = client.rbac().clusterRoles().withName(FEATURE_ROLE);
    if (feature.get() != null) {
      env.progress("reset", "deleting ClusterRole " + FEATURE_ROLE);
      feature.delete();
    }
    if (client.namespaces().withName(InitCommand.NAMESPACE).get() != null) {
      env.progress(
          "reset",
          "deleting namespace "
              + InitCommand.NAMESPACE
              + " (ConfigMap cloudcore, ServiceAccount cloudcore, CA and token Secrets)");
      client.namespaces().withName(InitCommand.NAMESPACE).delete();
      awaitNamespaceGone("reset");
    }
  }

  /** Namespace deletion is asynchronous; a new install must not race it. */
  void awaitNamespaceGone(String step) {
    long t0 = System.nanoTime();
    long deadline = t0 + Duration.ofSeconds(120).toNanos();
    long note = t0 + Duration.ofSeconds(10).toNanos();
    while (client.namespaces().withName(InitCommand.NAMESPACE).get() != null) {
      long now = System.nanoTime();
      if (now > deadline) {
        throw new KeadmException(
            "namespace " + InitCommand.NAMESPACE + " is still being deleted after 120 s");
      }
      if (now > note) {
        env.progress(
            step,
            "waiting for namespace "
                + InitCommand.NAMESPACE
                + " to be deleted ("
                + Duration.ofNanos(now - t0).toSeconds()
                + " s)");
        note = now + Duration.ofSeconds(10).toNanos();
      }
      sleep(250);
    }
  }

  private List<HasMetadata> load(Path f) {
    try (InputStream in = Files.newInputStream(f)) {
      return client.load(in).items();
    } catch (IOException e) {
      throw new KeadmException("cannot read " + f + ": " + e.getMessage(), e);
    }
  }

  static List<Path> yamlFiles(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    } catch (IOException e) {
      throw new KeadmException("cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      List<String> last =
          lines.subList(Math.max(0, lines.size() - 3), lines.size()).stream()
              .map(String::strip)
              .filter(l -> !l.isEmpty())
              .toList();
      return last.isEmpty() ? "(empty)" : String.join(" | ", last);
    } catch (IOException e) {
      return "(no log)";
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KeadmException("interrupted");
    }
  }
}
