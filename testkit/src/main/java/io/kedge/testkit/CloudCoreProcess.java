package io.kedge.testkit;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.Pem;
import io.kedge.testkit.edge.EdgeIdentity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * {@code bin/cloudcore} as a real process, as ServiceAccount kubeedge/cloudcore with the shipped
 * RBAC, on free loopback ports, its files and log under a test directory. Can be stopped, killed
 * and started again on the same ports.
 */
public final class CloudCoreProcess implements AutoCloseable {
  private final ControlPlane plane;
  private final Path dir;
  private final List<String> args;
  private final int wsPort;
  private final int httpsPort;
  private final Path log;
  private ProgramProcess proc;
  private int starts;

  private CloudCoreProcess(ControlPlane plane, Path dir, List<String> args, int ws, int https) {
    this.plane = plane;
    this.dir = dir;
    this.args = args;
    this.wsPort = ws;
    this.httpsPort = https;
    this.log = dir.resolve("cloudcore.log");
  }

  /** Starts cloudcore with the test settings plus {@code sets} ({@code --set} syntax). */
  public static CloudCoreProcess start(ControlPlane plane, Path dir, String... sets) {
    CloudCoreProcess p = prepare(plane, dir, sets);
    p.startProcess();
    return p;
  }

  private static CloudCoreProcess prepare(ControlPlane plane, Path dir, String... sets) {
    Path kc =
        KedgeManifests.cloudcoreKubeconfig(plane, kedgeHome(), dir.resolve("cloudcore.kubeconfig"));
    int ws = Ports.free();
    int https = Ports.free();
    List<String> args = new ArrayList<>();
    Path cfg = dir.resolve("cloudcore.yaml");
    try {
      Files.writeString(
          cfg,
          "apiVersion: cloudcore.config.kubeedge.io/v1alpha2\nkind: CloudCore\n",
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    args.add("--config=" + cfg);
    for (String s : testSettings(dir, kc)) {
      if (!s.contains(".port=")) {
        args.add("--set=" + s);
      }
    }
    args.add("--set=modules.cloudHub.websocket.port=" + ws);
    args.add("--set=modules.cloudHub.https.port=" + https);
    for (String s : sets) {
      args.add("--set=" + s);
    }
    return new CloudCoreProcess(plane, dir, args, ws, https);
  }

  /** As {@link #start}, with extra environment for the process. */
  public static CloudCoreProcess start(
      ControlPlane plane, Path dir, Map<String, String> env, String... sets) {
    CloudCoreProcess p = prepare(plane, dir, sets);
    p.startProcess(env);
    return p;
  }

  /**
   * Settings for a cloudcore under test ({@code --set} syntax): loopback, free ports (0), files
   * under {@code dir}, short protocol timers.
   */
  public static String[] testSettings(Path dir, Path kubeconfig) {
    return new String[] {
      "kubeAPIConfig.kubeConfig=" + kubeconfig,
      "modules.cloudHub.advertiseAddress={127.0.0.1}",
      "modules.cloudHub.websocket.address=127.0.0.1",
      "modules.cloudHub.websocket.port=0",
      "modules.cloudHub.https.address=127.0.0.1",
      "modules.cloudHub.https.port=0",
      "modules.cloudHub.tlsCAFile=" + dir.resolve("ca/rootCA.crt"),
      "modules.cloudHub.tlsCAKeyFile=" + dir.resolve("ca/rootCA.key"),
      "modules.cloudHub.tlsCertFile=" + dir.resolve("certs/server.crt"),
      "modules.cloudHub.tlsPrivateKeyFile=" + dir.resolve("certs/server.key"),
      "modules.cloudHub.ackTimeout=2",
      "modules.syncController.resyncPeriod=1"
    };
  }

  /** The checkout (system property {@code kedge.home}). */
  public static Path kedgeHome() {
    return Path.of(System.getProperty("kedge.home"));
  }

  /** Starts (again) and waits until cloudcore says it is up. */
  public void startProcess() {
    startProcess(Map.of("KEDGE_JAVA_OPTS", "-Xmx384m -XX:+UseSerialGC"));
  }

  /** Starts (again) with extra environment (e.g. {@code KEDGE_JAVA_OPTS}) and waits for it. */
  public void startProcess(Map<String, String> env) {
    starts++;
    proc = ProgramProcess.launcher(kedgeHome(), "cloudcore", args, env, log);
    // Generous: on a loaded shared host the JVM alone has taken over two minutes to start.
    try {
      proc.awaitLog("(?s)(cloudcore started.*){" + starts + "}", Duration.ofSeconds(300));
    } catch (RuntimeException | Error e) {
      // a cloudcore that never came up must not outlive the test that started it
      proc.kill();
      throw e;
    }
  }

  public ProgramProcess process() {
    return proc;
  }

  /** SIGKILL. */
  public void kill() {
    proc.kill();
  }

  public int stop() {
    return proc.stop(Duration.ofSeconds(30));
  }

  public URI hubUri() {
    return URI.create("wss://127.0.0.1:" + wsPort);
  }

  public URI bootstrapUri() {
    return URI.create("https://127.0.0.1:" + httpsPort);
  }

  public int webSocketPort() {
    return wsPort;
  }

  public int httpsPort() {
    return httpsPort;
  }

  public Path dir() {
    return dir;
  }

  public Path logFile() {
    return log;
  }

  public String log() {
    return proc.output();
  }

  /** The hub CA, as cloudcore keeps it in Secret kubeedge/casecret. */
  public CertificateAuthority ca() {
    KubernetesClient admin = plane.adminClient();
    Waits.until(
        "Secret kubeedge/casecret",
        Duration.ofSeconds(60),
        () -> admin.secrets().inNamespace("kubeedge").withName("casecret").get() != null);
    Secret s = admin.secrets().inNamespace("kubeedge").withName("casecret").get();
    byte[] cert = Base64.getDecoder().decode(s.getData().get("cadata"));
    byte[] key = Base64.getDecoder().decode(s.getData().get("cakeydata"));
    String keyPem =
        "-----BEGIN EC PRIVATE KEY-----\n"
            + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(key)
            + "\n-----END EC PRIVATE KEY-----\n";
    return new CertificateAuthority(Pem.certificateFromDer(cert), Pem.privateKey(keyPem));
  }

  /** The join token cloudcore wrote to Secret kubeedge/tokensecret. */
  public String token() {
    KubernetesClient admin = plane.adminClient();
    Waits.until(
        "Secret kubeedge/tokensecret",
        Duration.ofSeconds(60),
        () -> admin.secrets().inNamespace("kubeedge").withName("tokensecret").get() != null);
    Secret s = admin.secrets().inNamespace("kubeedge").withName("tokensecret").get();
    return new String(
        Base64.getDecoder().decode(s.getData().get("tokendata")), StandardCharsets.US_ASCII);
  }

  public EdgeIdentity identity(String node) {
    return EdgeIdentity.issue(ca(), node);
  }

  /** Lines of the log that mention the apiserver refusing cloudcore (RBAC gaps). */
  public List<String> forbiddenLines() {
    return log()
        .lines()
        .filter(
            l ->
                l.contains("system:serviceaccount:kubeedge:cloudcore")
                    && l.toLowerCase(java.util.Locale.ROOT).contains("forbidden"))
        .toList();
  }

  /**
   * Fails when the apiserver refused any of cloudcore's own calls during this process's life (all
   * its starts): the shipped ClusterRoles must cover everything cloudcore does.
   */
  public void assertNoForbidden() {
    List<String> lines = forbiddenLines();
    if (!lines.isEmpty()) {
      throw new AssertionError(
          "the apiserver refused cloudcore's own calls ("
              + lines.size()
              + " log lines, see "
              + log
              + "); the shipped RBAC in deploy/rbac lacks a rule:\n"
              + String.join("\n", lines.subList(0, Math.min(10, lines.size()))));
    }
  }

  @Override
  public void close() {
    if (proc != null) {
      proc.close();
    }
  }
}
