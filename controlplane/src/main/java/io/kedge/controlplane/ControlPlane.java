package io.kedge.controlplane;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.kedge.pki.Pem;
import io.kedge.pki.TlsContexts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager and
 * kube-scheduler, all on 127.0.0.1 with free ports, state under one directory. Several can run at
 * once. Started by {@link #start}, found again by {@link #attach}, stopped by {@link #close} or
 * {@link #down}.
 */
public final class ControlPlane implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ControlPlane.class);

  public static final String SERVICE_ACCOUNT_ISSUER =
      "https://kubernetes.default.svc.cluster.local";
  public static final String STATE_FILE = "control-plane.properties";
  public static final List<String> COMPONENTS =
      List.of("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler");
  private static final int PORT_ATTEMPTS = 4;

  private final Path dir;
  private final Properties state;
  private volatile KubernetesClient admin;

  private ControlPlane(Path dir, Properties state) {
    this.dir = dir;
    this.state = state;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Starts a new control plane as described; fails if one already runs in that directory. */
  public static ControlPlane start(ControlPlaneOptions opts) {
    long t0 = System.nanoTime();
    Path dir = opts.dir();
    if (attach(dir).isPresent()) {
      throw new ControlPlaneException(
          "a control plane is already running in " + dir + " (run 'down' first)");
    }
    boolean wasCached = KubeBinaries.cached().isPresent();
    KubeBinaries bin = KubeBinaries.ensure(opts.kedgeHome());
    try {
      Files.createDirectories(dir.resolve("logs"));
    } catch (IOException e) {
      throw new ControlPlaneException("cannot create " + dir + ": " + e.getMessage(), e);
    }
    ClusterPki pki = ClusterPki.at(dir.resolve("pki"));
    if (!pki.exists()) {
      pki = ClusterPki.generate(dir.resolve("pki"));
    }
    Properties st = new Properties();
    st.setProperty("dir", dir.toString());
    ControlPlane cp = new ControlPlane(dir, st);
    try {
      cp.startEtcd(bin);
      cp.startApiserver(bin, pki, opts.apiserverPort());
      cp.writeKubeconfigs(pki);
      cp.startControllerManager(bin, pki, opts.clusterSigningDuration());
      cp.startScheduler(bin);
      cp.saveState();
      cp.awaitControllers(opts.readyTimeout());
    } catch (RuntimeException e) {
      // Keep logs and PKI for diagnosis; drop the processes, the etcd store and the state file.
      cp.stopProcesses();
      String store = st.getProperty("etcd.data");
      if (store != null) {
        deleteTree(Path.of(store));
      }
      deleteTree(dir.resolve(STATE_FILE));
      throw e;
    }
    LOG.info(
        "control plane ready in {} ms ({} binaries) at {}; KUBECONFIG={}",
        (System.nanoTime() - t0) / 1_000_000,
        wasCached ? "cached" : "freshly built",
        cp.apiserverUrl(),
        cp.adminKubeconfig());
    return cp;
  }

  /** The control plane running in {@code dir}, if its apiserver process is alive. */
  public static java.util.Optional<ControlPlane> attach(Path dir) {
    Path f = dir.resolve(STATE_FILE);
    if (!Files.isRegularFile(f)) {
      return java.util.Optional.empty();
    }
    Properties st = new Properties();
    try (InputStream in = Files.newInputStream(f)) {
      st.load(in);
    } catch (IOException e) {
      return java.util.Optional.empty();
    }
    ControlPlane cp = new ControlPlane(dir, st);
    return cp.componentAlive("kube-apiserver")
        ? java.util.Optional.of(cp)
        : java.util.Optional.empty();
  }

  /**
   * Stops the control plane in {@code dir} (exactly the processes it started) and removes its
   * state. Returns false when nothing was running there.
   */
  public static boolean down(Path dir) {
    Path f = dir.resolve(STATE_FILE);
    if (!Files.isRegularFile(f)) {
      return false;
    }
    Properties st = new Properties();
    try (InputStream in = Files.newInputStream(f)) {
      st.load(in);
    } catch (IOException e) {
      return false;
    }
    ControlPlane cp = new ControlPlane(dir, st);
    boolean any = cp.stopProcesses();
    cp.removeState();
    return any;
  }

  @Override
  public void close() {
    KubernetesClient c = admin;
    if (c != null) {
      c.close();
    }
    stopProcesses();
    removeState();
  }

  // ---------------------------------------------------------------- accessors

  public Path dir() {
    return dir;
  }

  public String apiserverUrl() {
    return state.getProperty("apiserver.url");
  }

  /**
   * How long certificates the controller-manager signs for CSRs live ({@code
   * --cluster-signing-duration}); empty when the plane's state does not say.
   */
  public java.util.Optional<Duration> clusterSigningDuration() {
    String d = state.getProperty("cluster-signing-duration");
    return d == null ? java.util.Optional.empty() : java.util.Optional.of(Duration.parse(d));
  }

  public Path adminKubeconfig() {
    return dir.resolve("admin.kubeconfig");
  }

  public ClusterPki pki() {
    return ClusterPki.at(dir.resolve("pki"));
  }

  /** A shared admin client (system:masters); closed with the control plane. */
  public KubernetesClient adminClient() {
    KubernetesClient c = admin;
    if (c == null) {
      synchronized (this) {
        if (admin == null) {
          admin = newAdminClient();
        }
        c = admin;
      }
    }
    return c;
  }

  /** A new admin client the caller closes. */
  public KubernetesClient newAdminClient() {
    Config cfg = Config.fromKubeconfig(null, readFile(adminKubeconfig()), null);
    return new KubernetesClientBuilder().withConfig(cfg).build();
  }

  /** A kubeconfig with the token of {@code namespace/name} (created if missing). */
  public Path serviceAccountKubeconfig(String namespace, String name, Path file) {
    return ServiceAccountKubeconfig.write(
        adminClient(), namespace, name, apiserverUrl(), pki().caPem(), file);
  }

  /** pid of a component, or -1. */
  public long pid(String component) {
    return Long.parseLong(state.getProperty("pid." + component, "-1"));
  }

  public boolean componentAlive(String component) {
    long pid = pid(component);
    return pid > 0 && ManagedProcess.find(pid, dir.toString()).isPresent();
  }

  /** Component name → running, in start order. */
  public Map<String, Boolean> status() {
    Map<String, Boolean> m = new LinkedHashMap<>();
    for (String c : COMPONENTS) {
      m.put(c, componentAlive(c));
    }
    return m;
  }

  public Path log(String component) {
    return dir.resolve("logs").resolve(component + ".log");
  }

  /** An SSL context that trusts the cluster CA and presents the admin certificate. */
  public SSLContext adminSslContext() {
    ClusterPki p = pki();
    return TlsContexts.client(List.of(p.ca()), p.adminKey(), List.of(p.adminCert()));
  }

  // ---------------------------------------------------------------- components

  private void startEtcd(KubeBinaries bin) {
    Path store = etcdDataDir();
    state.setProperty("etcd.data", store.toString());
    // etcd is given DIR/etcd-data (a link to tmpfs when available) so that its command line names
    // DIR like every other component: down and status recognise exactly their own processes.
    Path data = dir.resolve("etcd-data");
    try {
      Files.createDirectories(store);
      if (!store.equals(data)) {
        Files.deleteIfExists(data);
        Files.createSymbolicLink(data, store);
      }
    } catch (IOException e) {
      throw new ControlPlaneException("cannot create etcd data directory " + store + ": " + e, e);
    }
    retryOnPortConflict(
        "etcd",
        () -> {
          int client = freePort();
          int peer = freePort();
          List<String> cmd =
              List.of(
                  bin.etcd().toString(),
                  "--name=kedge",
                  "--data-dir=" + data,
                  "--listen-client-urls=http://127.0.0.1:" + client,
                  "--advertise-client-urls=http://127.0.0.1:" + client,
                  "--listen-peer-urls=http://127.0.0.1:" + peer,
                  "--initial-advertise-peer-urls=http://127.0.0.1:" + peer,
                  "--initial-cluster=kedge=http://127.0.0.1:" + peer,
                  "--listen-metrics-urls=http://127.0.0.1:0",
                  "--quota-backend-bytes=2147483648",
                  "--unsafe-no-fsync=false",
                  "--log-level=warn",
                  "--logger=zap");
          long pid = ManagedProcess.start("etcd", cmd, log("etcd"));
          state.setProperty("pid.etcd", Long.toString(pid));
          state.setProperty("etcd.url", "http://127.0.0.1:" + client);
          return awaitHttp(
              "etcd",
              pid,
              URI.create("http://127.0.0.1:" + client + "/health"),
              null,
              Duration.ofSeconds(30));
        });
  }

  private Path etcdDataDir() {
    Path shm = Path.of("/dev/shm");
    if (Files.isDirectory(shm) && Files.isWritable(shm)) {
      return shm.resolve("kedge-etcd-" + UUID.randomUUID());
    }
    return dir.resolve("etcd-store");
  }

  private void startApiserver(KubeBinaries bin, ClusterPki pki, int preferredPort) {
    pki.ensureKubeletClient();
    SSLContext ssl =
        TlsContexts.client(List.of(pki.ca()), pki.adminKey(), List.of(pki.adminCert()));
    int[] first = {preferredPort};
    retryOnPortConflict(
        "kube-apiserver",
        () -> {
          int port = freePort();
          if (first[0] > 0) {
            if (portFree(first[0])) {
              port = first[0];
            } else {
              LOG.warn("kube-apiserver: port {} is in use; using {} instead", first[0], port);
            }
            first[0] = 0;
          }
          Path auditPolicy = writeAuditPolicy();
          List<String> cmd = new ArrayList<>();
          cmd.add(bin.apiserver().toString());
          cmd.addAll(
              List.of(
                  "--etcd-servers=" + state.getProperty("etcd.url"),
                  "--bind-address=127.0.0.1",
                  "--advertise-address=127.0.0.1",
                  "--secure-port=" + port,
                  "--insecure-port=0",
                  "--tls-cert-file=" + pki.cert("apiserver"),
                  "--tls-private-key-file=" + pki.key("apiserver"),
                  "--client-ca-file=" + pki.caCert(),
                  // kubectl logs/exec/attach: the kubelet client cloudStream's stream server
                  // verifies, dialling a node's InternalIP (which the DNAT to cloudcore matches)
                  "--kubelet-client-certificate=" + pki.cert(ClusterPki.KUBELET_CLIENT),
                  "--kubelet-client-key=" + pki.key(ClusterPki.KUBELET_CLIENT),
                  "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
                  "--service-account-key-file=" + pki.serviceAccountPublicKey(),
                  "--service-account-signing-key-file=" + pki.serviceAccountKey(),
                  "--service-account-issuer=" + SERVICE_ACCOUNT_ISSUER,
                  "--api-audiences=" + SERVICE_ACCOUNT_ISSUER,
                  "--authorization-mode=Node,RBAC",
                  "--enable-admission-plugins=NodeRestriction",
                  "--feature-gates=BoundServiceAccountTokenVolume=true",
                  "--endpoint-reconciler-type=none",
                  "--service-cluster-ip-range=10.96.0.0/16",
                  "--allow-privileged=true",
                  "--profiling=false",
                  "--cert-dir=" + dir.resolve("pki/apiserver-generated"),
                  "--audit-policy-file=" + auditPolicy,
                  "--audit-log-path=" + auditLog(),
                  "--audit-log-maxsize=100",
                  "--audit-log-maxbackup=1",
                  "--v=1"));
          long pid = ManagedProcess.start("kube-apiserver", cmd, log("kube-apiserver"));
          state.setProperty("pid.kube-apiserver", Long.toString(pid));
          state.setProperty("apiserver.url", "https://127.0.0.1:" + port);
          return awaitHttp(
              "kube-apiserver",
              pid,
              URI.create("https://127.0.0.1:" + port + "/readyz"),
              ssl,
              Duration.ofSeconds(90));
        });
  }

  /**
   * The apiserver's audit log. It records watches only (who watched what, when a watch started and
   * ended): the apiserver's metrics do not say which client holds a watch.
   */
  public Path auditLog() {
    return dir.resolve("logs/kube-apiserver-audit.log");
  }

  private Path writeAuditPolicy() {
    Path policy = dir.resolve("audit-policy.yaml");
    try {
      Files.createDirectories(auditLog().getParent());
      Files.writeString(
          policy,
          """
          apiVersion: audit.k8s.io/v1
          kind: Policy
          rules:
          - level: Metadata
            verbs: [watch]
          - level: None
          """);
    } catch (IOException e) {
      throw new ControlPlaneException("cannot write the audit policy " + policy, e);
    }
    return policy;
  }

  private void writeKubeconfigs(ClusterPki pki) {
    String ca = pki.caPem();
    for (String[] u :
        new String[][] {
          {"admin", "kedge-admin"},
          {"controller-manager", "system:kube-controller-manager"},
          {"scheduler", "system:kube-scheduler"}
        }) {
      Kubeconfigs.writeWithClientCert(
          dir.resolve(u[0] + ".kubeconfig"),
          apiserverUrl(),
          ca,
          Pem.read(pki.cert(u[0])),
          Pem.read(pki.key(u[0])),
          u[1]);
    }
  }

  private void startControllerManager(KubeBinaries bin, ClusterPki pki, Duration signing) {
    Path kc = dir.resolve("controller-manager.kubeconfig");
    List<String> cmd =
        List.of(
            bin.controllerManager().toString(),
            "--kubeconfig=" + kc,
            "--authentication-kubeconfig=" + kc,
            "--authorization-kubeconfig=" + kc,
            "--bind-address=127.0.0.1",
            "--port=0",
            "--secure-port=0",
            "--leader-elect=false",
            "--use-service-account-credentials=true",
            "--service-account-private-key-file=" + pki.serviceAccountKey(),
            "--root-ca-file=" + pki.caCert(),
            "--cluster-signing-cert-file=" + pki.caCert(),
            "--cluster-signing-key-file=" + pki.caKey(),
            "--cluster-signing-duration=" + signing.toSeconds() + "s",
            "--feature-gates=BoundServiceAccountTokenVolume=true",
            "--controllers=*",
            "--v=1");
    long pid = ManagedProcess.start("kube-controller-manager", cmd, log("kube-controller-manager"));
    state.setProperty("pid.kube-controller-manager", Long.toString(pid));
    state.setProperty("cluster-signing-duration", signing.toString());
  }

  private void startScheduler(KubeBinaries bin) {
    Path kc = dir.resolve("scheduler.kubeconfig");
    List<String> cmd =
        List.of(
            bin.scheduler().toString(),
            "--kubeconfig=" + kc,
            "--authentication-kubeconfig=" + kc,
            "--authorization-kubeconfig=" + kc,
            "--bind-address=127.0.0.1",
            "--port=0",
            "--secure-port=0",
            "--leader-elect=false",
            "--v=1");
    long pid = ManagedProcess.start("kube-scheduler", cmd, log("kube-scheduler"));
    state.setProperty("pid.kube-scheduler", Long.toString(pid));
  }

  /** The controller-manager works once the default namespace has its ServiceAccount and root CA. */
  private void awaitControllers(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    KubernetesClient c = adminClient();
    while (true) {
      for (String comp : List.of("kube-controller-manager", "kube-scheduler")) {
        if (!componentAlive(comp)) {
          throw new ControlPlaneException(
              comp
                  + " exited during start-up; see "
                  + log(comp)
                  + ": "
                  + lastLine(ManagedProcess.tail(log(comp), 5)));
        }
      }
      try {
        boolean sa = c.serviceAccounts().inNamespace("default").withName("default").get() != null;
        boolean ca =
            c.configMaps().inNamespace("default").withName("kube-root-ca.crt").get() != null;
        if (sa && ca) {
          return;
        }
      } catch (RuntimeException e) {
        // apiserver hiccup during start-up: try again
      }
      if (System.nanoTime() > deadline) {
        throw new ControlPlaneException(
            "controller-manager did not create the default ServiceAccount and kube-root-ca.crt within "
                + timeout.toSeconds()
                + " s; see "
                + log("kube-controller-manager"));
      }
      ManagedProcess.sleep(200);
    }
  }

  // ---------------------------------------------------------------- helpers

  private interface Attempt {
    /** Returns null when ready, else the reason start-up failed (the process has exited). */
    String run();
  }

  private void retryOnPortConflict(String component, Attempt attempt) {
    for (int i = 1; ; i++) {
      String failure = attempt.run();
      if (failure == null) {
        return;
      }
      boolean portInUse = failure.contains("address already in use");
      if (portInUse && i < PORT_ATTEMPTS) {
        LOG.warn("{}: port in use, picking another", component);
        continue;
      }
      throw new ControlPlaneException(
          component
              + (portInUse ? " could not bind a free port" : " failed to start")
              + "; see "
              + log(component)
              + ": "
              + lastLine(failure));
    }
  }

  /** Polls {@code url} until 200; returns null then, or the log tail if the process exited. */
  private String awaitHttp(String component, long pid, URI url, SSLContext ssl, Duration timeout) {
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
    if (ssl != null) {
      b.sslContext(ssl);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    HttpClient http = b.build();
    {
      while (true) {
        if (!ManagedProcess.alive(pid)) {
          ManagedProcess.sleep(100);
          String tail = ManagedProcess.tail(log(component), 20);
          return tail.isBlank() ? component + " exited" : tail;
        }
        try {
          HttpResponse<String> r =
              http.send(
                  HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5)).GET().build(),
                  HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 200) {
            return null;
          }
        } catch (IOException e) {
          // not listening yet
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new ControlPlaneException("interrupted", e);
        }
        if (System.nanoTime() > deadline) {
          ManagedProcess.stop(pid, dir.toString(), Duration.ofSeconds(5));
          return component
              + " not ready within "
              + timeout.toSeconds()
              + " s: "
              + lastLine(ManagedProcess.tail(log(component), 5));
        }
        ManagedProcess.sleep(100);
      }
    }
  }

  private static String lastLine(String text) {
    String[] lines = text.strip().split("\n");
    // Prefer the line that names the problem.
    for (int i = lines.length - 1; i >= 0; i--) {
      String l = lines[i];
      if (l.contains("address already in use") || l.contains("error") || l.contains("Error")) {
        return l.strip();
      }
    }
    return lines.length == 0 ? "" : lines[lines.length - 1].strip();
  }

  /** A loopback port nothing listens on right now. */
  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port", e);
    }
  }

  static boolean portFree(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private void saveState() {
    try (OutputStream out = Files.newOutputStream(dir.resolve(STATE_FILE))) {
      state.store(out, "kedge local control plane");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write state in " + dir, e);
    }
  }

  /** Stops components in reverse start order; returns whether any was running. */
  private boolean stopProcesses() {
    boolean any = false;
    List<String> reverse = new ArrayList<>(COMPONENTS);
    java.util.Collections.reverse(reverse);
    for (String c : reverse) {
      long pid = pid(c);
      if (pid > 0) {
        any |= ManagedProcess.stop(pid, dir.toString(), Duration.ofSeconds(10));
      }
    }
    return any;
  }

  private void removeState() {
    String data = state.getProperty("etcd.data");
    if (data != null) {
      deleteTree(Path.of(data));
    }
    for (String f :
        List.of(
            STATE_FILE,
            "admin.kubeconfig",
            "controller-manager.kubeconfig",
            "scheduler.kubeconfig",
            "pki",
            "logs",
            "etcd-data",
            "etcd-store",
            "audit-policy.yaml")) {
      deleteTree(dir.resolve(f));
    }
    try (Stream<Path> s = Files.list(dir)) {
      if (s.findAny().isEmpty()) {
        Files.delete(dir);
      }
    } catch (IOException e) {
      // leave a non-empty or vanished directory alone
    }
  }

  private static void deleteTree(Path p) {
    if (Files.isSymbolicLink(p)) {
      // etcd-data links to tmpfs; its target is gone by now, and exists() would follow the link
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        // best effort
      }
      return;
    }
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      s.sorted(Comparator.reverseOrder())
          .forEach(
              x -> {
                try {
                  Files.deleteIfExists(x);
                } catch (IOException e) {
                  // best effort
                }
              });
    } catch (IOException e) {
      // best effort
    }
  }

  private static String readFile(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p, e);
    }
  }
}
