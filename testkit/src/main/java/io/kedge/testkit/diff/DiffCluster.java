package io.kedge.testkit.diff;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.controlplane.ServiceAccountKubeconfig;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.EdgeCoreProcess;
import io.kedge.testkit.LinkProxy;
import io.kedge.testkit.Ports;
import io.kedge.testkit.Waits;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the differential test runs against, kept across schedules: the control plane's apiserver, a
 * real cloudcore, a real edgecore with requireAuthorization whose cloud link goes through a {@link
 * LinkProxy}, two namespaces with service accounts {@code writer} (may write ConfigMaps), {@code
 * reader} (may read them) and {@code nobody}, pods of those accounts on the edge node in {@link
 * Schedule#SLOTS} slots per namespace with tokens bound to them, and the {@link History} of the
 * namespaces' ConfigMaps.
 */
public final class DiffCluster implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DiffCluster.class);
  static final Duration WAIT = Duration.ofMinutes(3);
  private static final Duration TOKEN_REFRESH = Duration.ofMinutes(4);

  /** A pod in a slot and the token bound to it. */
  static final class Actor {
    final String pod;
    final String uid;
    volatile String token;
    volatile long tokenAt;
    volatile boolean alive = true;

    Actor(String pod, String uid, String token) {
      this.pod = pod;
      this.uid = uid;
      this.token = token;
      this.tokenAt = System.nanoTime();
    }
  }

  final ControlPlane plane;
  final KubernetesClient admin;
  final KubeHttp http;
  final String node;
  final List<String> namespaces;
  final Path dir;
  private final CloudCoreProcess cloud;
  private final boolean ownsCloud;
  private final LinkProxy proxy;
  private final EdgeCoreProcess edge;
  private final int metaServerPort;
  private final String recorderToken;
  final History history;
  private final Actor[][] current = new Actor[2][Schedule.SLOTS];
  private final Actor[][] previous = new Actor[2][Schedule.SLOTS];
  private final boolean[][] bound = {{true, true}, {true, true}};
  private final LogFollower edgeLog;
  private int generation;
  private boolean cut;

  private DiffCluster(
      ControlPlane plane,
      KubernetesClient admin,
      Path dir,
      String node,
      List<String> namespaces,
      CloudCoreProcess cloud,
      boolean ownsCloud,
      LinkProxy proxy,
      EdgeCoreProcess edge,
      int metaServerPort,
      String recorderToken,
      History history) {
    this.plane = plane;
    this.admin = admin;
    this.dir = dir;
    this.node = node;
    this.namespaces = namespaces;
    this.cloud = cloud;
    this.ownsCloud = ownsCloud;
    this.proxy = proxy;
    this.edge = edge;
    this.metaServerPort = metaServerPort;
    this.recorderToken = recorderToken;
    this.history = history;
    this.http = new KubeHttp(plane.pki().ca());
    this.edgeLog = new LogFollower(edge.dir().resolve("edgecore.log"));
  }

  /** Starts cloudcore, the link proxy and edgecore, and makes the namespaces, accounts and pods. */
  public static DiffCluster start(ControlPlane plane, KubernetesClient admin, Path dir) {
    CloudCoreProcess cloud = startCloud(plane, dir.resolve("cloudcore"));
    try {
      return start(plane, admin, dir, cloud, true);
    } catch (RuntimeException | Error e) {
      cloud.close();
      throw e;
    }
  }

  /** A cloudcore as the differential test needs it (DynamicController, requireAuthorization). */
  public static CloudCoreProcess startCloud(ControlPlane plane, Path dir) {
    return CloudCoreProcess.start(
        plane,
        dir,
        "modules.dynamicController.enable=true",
        "featureGates.requireAuthorization=true");
  }

  /**
   * As {@link #start(ControlPlane, KubernetesClient, Path)}, with an edge node of its own connected
   * to a cloudcore that several clusters share (the bench runs schedules on several edges at once);
   * closing the cluster leaves that cloudcore running.
   */
  public static DiffCluster startOn(
      ControlPlane plane, KubernetesClient admin, Path dir, CloudCoreProcess cloud) {
    return start(plane, admin, dir, cloud, false);
  }

  private static DiffCluster start(
      ControlPlane plane,
      KubernetesClient admin,
      Path dir,
      CloudCoreProcess cloud,
      boolean ownsCloud) {
    String suffix = Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    String node = "edge-diff-" + suffix;
    List<String> namespaces = List.of("diff-a-" + suffix, "diff-b-" + suffix);
    for (String ns : namespaces) {
      accounts(admin, ns);
    }
    String recorderToken = recorder(admin, namespaces.get(0));
    KubeHttp http = new KubeHttp(plane.pki().ca());
    KubeHttp.Reply now =
        http.get(plane.apiserverUrl(), "/api/v1/configmaps?limit=1", recorderToken);
    Waits.until(
        "the recorder's token accepted",
        Duration.ofSeconds(60),
        () ->
            http.get(plane.apiserverUrl(), "/api/v1/configmaps?limit=1", recorderToken).code()
                == 200);
    long from =
        Long.parseLong(
            http.get(plane.apiserverUrl(), "/api/v1/configmaps?limit=1", recorderToken)
                .json()
                .path("metadata")
                .path("resourceVersion")
                .asString("0"));
    LOG.debug("first answer {}", now.code());
    History history =
        new History(http, plane.apiserverUrl(), recorderToken, Set.copyOf(namespaces), from);
    LinkProxy proxy = LinkProxy.start("127.0.0.1", cloud.webSocketPort());
    int port = Ports.free();
    EdgeCoreProcess edge =
        EdgeCoreProcess.start(
            dir.resolve("edge"),
            node,
            URI.create("wss://127.0.0.1:" + proxy.port()),
            cloud.bootstrapUri(),
            cloud.token(),
            Map.of("KEDGE_JAVA_OPTS", "-Xmx256m -XX:+UseSerialGC"),
            "featureGates.requireAuthorization=true",
            // A silent cut is noticed after 4 heartbeats without a pong: 8 s rather than 12.
            "modules.edgeHub.heartbeat=2",
            "modules.metaManager.metaServer.enable=true",
            "modules.metaManager.metaServer.server=127.0.0.1:" + port,
            "modules.metaManager.metaServer.dummyServer=127.0.0.2:" + port);
    DiffCluster c =
        new DiffCluster(
            plane,
            admin,
            dir,
            node,
            namespaces,
            cloud,
            ownsCloud,
            proxy,
            edge,
            port,
            recorderToken,
            history);
    Waits.until("node " + node + " Ready", WAIT, () -> c.nodeReady());
    Path pki = edge.dir().resolve("pki/metaserver");
    Waits.until(
        "MetaServer's serving certificate",
        WAIT,
        () -> Files.isRegularFile(pki.resolve("metaserver-current.pem")));
    for (int ns = 0; ns < 2; ns++) {
      for (int slot = 0; slot < Schedule.SLOTS; slot++) {
        c.current[ns][slot] = c.newPod(ns, slot);
      }
    }
    for (int ns = 0; ns < 2; ns++) {
      for (int slot = 0; slot < Schedule.SLOTS; slot++) {
        c.awaitAgreement(ns, slot, Step.Token.CURRENT, "the pod's token accepted at the edge");
      }
    }
    return c;
  }

  // ---------------------------------------------------------------- the fixed objects

  private static void accounts(KubernetesClient admin, String ns) {
    admin
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .serverSideApply();
    for (String sa : List.of("writer", "reader", "nobody")) {
      admin
          .serviceAccounts()
          .inNamespace(ns)
          .resource(
              new ServiceAccountBuilder().withNewMetadata().withName(sa).endMetadata().build())
          .serverSideApply();
    }
    role(
        admin,
        ns,
        "configmap-writer",
        "get",
        "list",
        "watch",
        "create",
        "update",
        "patch",
        "delete");
    role(admin, ns, "configmap-reader", "get", "list", "watch");
    bind(admin, ns, "writer");
    bind(admin, ns, "reader");
  }

  private static void role(KubernetesClient admin, String ns, String name, String... verbs) {
    admin
        .rbac()
        .roles()
        .inNamespace(ns)
        .resource(
            new RoleBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withRules(
                    new PolicyRuleBuilder()
                        .withApiGroups("")
                        .withResources("configmaps")
                        .withVerbs(verbs)
                        .build())
                .build())
        .serverSideApply();
  }

  private static void bind(KubernetesClient admin, String ns, String sa) {
    admin
        .rbac()
        .roleBindings()
        .inNamespace(ns)
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName(sa)
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("Role")
                .withName("configmap-" + sa)
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(sa)
                .withNamespace(ns)
                .endSubject()
                .build())
        .serverSideApply();
  }

  /** A ServiceAccount that may read every ConfigMap: the history's and the oracle's own reads. */
  private static String recorder(KubernetesClient admin, String ns) {
    admin
        .rbac()
        .clusterRoles()
        .resource(
            new ClusterRoleBuilder()
                .withNewMetadata()
                .withName("kedge-diff-recorder")
                .endMetadata()
                .withRules(
                    new PolicyRuleBuilder()
                        .withApiGroups("")
                        .withResources("configmaps")
                        .withVerbs("get", "list", "watch")
                        .build())
                .build())
        .serverSideApply();
    String token = ServiceAccountKubeconfig.token(admin, ns, "recorder");
    admin
        .rbac()
        .clusterRoleBindings()
        .resource(
            new ClusterRoleBindingBuilder()
                .withNewMetadata()
                .withName("kedge-diff-recorder-" + ns)
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("ClusterRole")
                .withName("kedge-diff-recorder")
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("recorder")
                .withNamespace(ns)
                .endSubject()
                .build())
        .serverSideApply();
    return token;
  }

  // ---------------------------------------------------------------- addresses and tokens

  String metaServer() {
    return "https://127.0.0.1:" + metaServerPort;
  }

  String apiserver() {
    return plane.apiserverUrl();
  }

  String recorderToken() {
    return recorderToken;
  }

  String ns(int i) {
    return namespaces.get(i);
  }

  /** The token a request of {@code slot} carries ("" when the slot never had such a pod). */
  String token(int ns, int slot, Step.Token which) {
    Actor a = which == Step.Token.PREVIOUS ? previous[ns][slot] : current[ns][slot];
    if (a == null && which == Step.Token.PREVIOUS) {
      a = current[ns][slot];
    }
    return a == null ? "" : a.token;
  }

  boolean alive(int ns, int slot) {
    Actor a = current[ns][slot];
    return a != null && a.alive;
  }

  boolean isCut() {
    return cut;
  }

  // ---------------------------------------------------------------- pods and bindings

  private Actor newPod(int ns, int slot) {
    String sa = Schedule.SLOT_ACCOUNTS.get(slot);
    String name = sa + "-" + slot + "-" + (++generation);
    Pod p =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(ns(ns))
            .endMetadata()
            .withNewSpec()
            .withNodeName(node)
            .withServiceAccountName(sa)
            .withRestartPolicy("Never")
            .withTolerations(
                new TolerationBuilder()
                    .withKey("node.kubernetes.io/unreachable")
                    .withOperator("Exists")
                    .withEffect("NoExecute")
                    .build(),
                new TolerationBuilder()
                    .withKey("node.kubernetes.io/not-ready")
                    .withOperator("Exists")
                    .withEffect("NoExecute")
                    .build())
            .addNewContainer()
            .withName("main")
            .withImage("kedge/host-process")
            .withCommand("/bin/sleep", "86400")
            .endContainer()
            .endSpec()
            .build();
    Pod[] created = {null};
    // The ServiceAccount admission plugin may not know a new ServiceAccount for a moment.
    Waits.until(
        "pod " + ns(ns) + "/" + name + " created",
        Duration.ofSeconds(30),
        () -> (created[0] = admin.pods().inNamespace(ns(ns)).resource(p).create()) != null);
    String uid = created[0].getMetadata().getUid();
    return new Actor(name, uid, podToken(ns, sa, name, uid));
  }

  private String podToken(int ns, String sa, String pod, String uid) {
    return admin
        .serviceAccounts()
        .inNamespace(ns(ns))
        .withName(sa)
        .tokenRequest(
            new TokenRequestBuilder()
                .withNewSpec()
                .withExpirationSeconds(600L)
                .withNewBoundObjectRef()
                .withApiVersion("v1")
                .withKind("Pod")
                .withName(pod)
                .withUid(uid)
                .endBoundObjectRef()
                .endSpec()
                .build())
        .getStatus()
        .getToken();
  }

  /** Creates the pod of an empty slot; waits until the edge answers its token as the apiserver. */
  void createPod(int ns, int slot) {
    Actor a = newPod(ns, slot);
    current[ns][slot] = a;
    if (!cut) {
      awaitAgreement(ns, slot, Step.Token.CURRENT, "the new pod's token accepted at the edge");
    }
  }

  /** Deletes the slot's pod; waits until its token is refused at the apiserver and at the edge. */
  void deletePod(int ns, int slot, boolean graceful) {
    Actor a = current[ns][slot];
    var pod = admin.pods().inNamespace(ns(ns)).withName(a.pod);
    if (graceful) {
      pod.delete();
    } else {
      pod.withGracePeriod(0).delete();
    }
    a.alive = false;
    previous[ns][slot] = a;
    if (!cut) {
      awaitAgreement(ns, slot, Step.Token.PREVIOUS, "the deleted pod's token refused");
    }
  }

  /** Removes or restores the RoleBinding of {@code sa}; waits until the edge answers as before. */
  void binding(int ns, String sa, boolean grant) {
    int which = sa.equals("writer") ? 0 : 1;
    if (grant) {
      bind(admin, ns(ns), sa);
    } else {
      admin.rbac().roleBindings().inNamespace(ns(ns)).withName(sa).delete();
    }
    bound[ns][which] = grant;
    if (!cut) {
      for (int slot = 0; slot < Schedule.SLOTS; slot++) {
        if (Schedule.SLOT_ACCOUNTS.get(slot).equals(sa) && alive(ns, slot)) {
          awaitAgreement(ns, slot, Step.Token.CURRENT, "the edge follows the RoleBinding change");
        }
      }
    }
  }

  /**
   * The answer a list with {@code slot}'s token must get now: 401 for a token whose pod is gone,
   * 403 without a RoleBinding, else 200.
   */
  int expectedListCode(int ns, int slot, Step.Token which) {
    Actor a = which == Step.Token.PREVIOUS ? previous[ns][slot] : current[ns][slot];
    if (a == null || !a.alive) {
      return 401;
    }
    String sa = Schedule.SLOT_ACCOUNTS.get(slot);
    if (sa.equals("nobody")) {
      return 403;
    }
    return bound[ns][sa.equals("writer") ? 0 : 1] ? 200 : 403;
  }

  /**
   * Waits until the apiserver answers a list with the slot's token as the cluster now says, then
   * until MetaServer answers it the same: the delay with which the edge hears of pods and
   * RoleBindings, bounded.
   */
  Duration awaitAgreement(int ns, int slot, Step.Token which, String what) {
    String token = token(ns, slot, which);
    int want = expectedListCode(ns, slot, which);
    String path = "/api/v1/namespaces/" + ns(ns) + "/configmaps?resourceVersion=0";
    Waits.until(
        "the apiserver answers " + want + " to slot " + slot + " in " + ns(ns),
        WAIT,
        () -> http.get(apiserver(), path, token).code() == want);
    return Waits.until(
        what + " (" + ns(ns) + " slot " + slot + ", " + want + ")",
        WAIT,
        () -> http.get(metaServer(), path, token).code() == want);
  }

  // ---------------------------------------------------------------- faults

  /** {@code kill -9} of edgecore and a start; returns once MetaServer answers again. */
  void killEdge() {
    int connected = edgeLog.count(LogFollower.CONNECTED);
    edge.kill();
    try {
      edge.process().waitFor(Duration.ofSeconds(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    edge.startProcess();
    String token = token(0, 0, Step.Token.CURRENT);
    Waits.until(
        "MetaServer answers after the restart",
        WAIT,
        () ->
            http.get(metaServer(), "/api/v1/namespaces/" + ns(0) + "/configmaps", token).code()
                > 0);
    if (!cut) {
      Waits.until(
          "edgecore connected after the restart",
          WAIT,
          () -> edgeLog.count(LogFollower.CONNECTED) > connected);
    }
  }

  /** Cuts the link; returns once the edge knows it is offline. */
  void cut(boolean silent) {
    if (cut) {
      return;
    }
    int offline = edgeLog.count(LogFollower.DISCONNECTED);
    proxy.cut(silent ? LinkProxy.Cut.SILENT : LinkProxy.Cut.RESET);
    cut = true;
    Waits.until(
        "the edge notices the cut link",
        WAIT,
        () -> edgeLog.count(LogFollower.DISCONNECTED) > offline);
  }

  /** Restores the link; returns once the edge is connected again. */
  void restore() {
    if (!cut) {
      return;
    }
    int connected = edgeLog.count(LogFollower.CONNECTED);
    proxy.restore();
    cut = false;
    Waits.until(
        "the edge connects again", WAIT, () -> edgeLog.count(LogFollower.CONNECTED) > connected);
  }

  /** How often edgecore has connected (from its log). */
  int connections() {
    return edgeLog.count(LogFollower.CONNECTED);
  }

  // ---------------------------------------------------------------- between schedules

  /**
   * The state every schedule starts from: link up, edgecore running, no test ConfigMaps, every slot
   * with a live pod and a fresh token, every RoleBinding in place, the edge agreeing on all tokens.
   */
  void reset() {
    if (cut) {
      restore();
    }
    if (!edge.process().isAlive()) {
      LOG.warn("edgecore was not running at the start of a schedule; starting it");
      edge.startProcess();
      Waits.until("edgecore connected", WAIT, () -> connections() > 0);
    }
    for (int ns = 0; ns < 2; ns++) {
      admin.configMaps().inNamespace(ns(ns)).withLabel("app").delete();
      for (int which = 0; which < 2; which++) {
        if (!bound[ns][which]) {
          bind(admin, ns(ns), which == 0 ? "writer" : "reader");
          bound[ns][which] = true;
        }
      }
      for (int slot = 0; slot < Schedule.SLOTS; slot++) {
        Actor a = current[ns][slot];
        if (a == null || !a.alive) {
          current[ns][slot] = newPod(ns, slot);
        } else if (System.nanoTime() - a.tokenAt > TOKEN_REFRESH.toNanos()) {
          a.token = podToken(ns, Schedule.SLOT_ACCOUNTS.get(slot), a.pod, a.uid);
          a.tokenAt = System.nanoTime();
        }
        previous[ns][slot] = null;
      }
    }
    for (int ns = 0; ns < 2; ns++) {
      for (int slot = 0; slot < Schedule.SLOTS; slot++) {
        awaitAgreement(ns, slot, Step.Token.CURRENT, "the edge agrees on the slot's token");
      }
    }
  }

  private boolean nodeReady() {
    Node n = admin.nodes().withName(node).get();
    return n != null
        && n.getStatus() != null
        && n.getStatus().getConditions() != null
        && n.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /** Lines of edgecore's log that point at a fault worth a look (for the run's record). */
  List<String> edgeWarnings() {
    return edgeLog.warnings();
  }

  /** Whether edgecore is running (it may have been killed by a step). */
  boolean edgeRunning() {
    return edge.process().isAlive();
  }

  Path edgeLogFile() {
    return edge.dir().resolve("edgecore.log");
  }

  Path cloudLogFile() {
    return cloud.logFile();
  }

  @Override
  public void close() {
    try {
      history.close();
    } finally {
      try {
        edge.close();
      } finally {
        try {
          proxy.close();
          if (ownsCloud) {
            cloud.close();
          }
        } finally {
          try {
            admin.nodes().withName(node).delete();
            for (String ns : namespaces) {
              admin.namespaces().withName(ns).delete();
            }
          } catch (RuntimeException e) {
            LOG.warn("cleaning up after the differential test: {}", e.toString());
          }
        }
      }
    }
  }

  /** Reads edgecore's log as it grows (it is appended to across restarts), counting lines. */
  static final class LogFollower {
    static final String CONNECTED = "connected to the cloud at";
    static final String DISCONNECTED = "disconnected from the cloud";

    private final Path file;
    private long offset;
    private final Map<String, Integer> counts = new java.util.HashMap<>();
    private final List<String> warnings = new ArrayList<>();
    private String partial = "";

    LogFollower(Path file) {
      this.file = file;
    }

    synchronized int count(String what) {
      read();
      return counts.getOrDefault(what, 0);
    }

    synchronized List<String> warnings() {
      read();
      return List.copyOf(warnings);
    }

    private void read() {
      if (!Files.exists(file)) {
        return;
      }
      try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
        long len = f.length();
        if (len < offset) {
          offset = 0;
        }
        if (len == offset) {
          return;
        }
        byte[] b = new byte[(int) Math.min(len - offset, 64L << 20)];
        f.seek(offset);
        f.readFully(b);
        offset += b.length;
        String text = partial + new String(b, StandardCharsets.UTF_8);
        int last = text.lastIndexOf('\n');
        partial = text.substring(last + 1);
        for (String line : text.substring(0, last + 1).split("\n")) {
          for (String k : List.of(CONNECTED, DISCONNECTED)) {
            if (line.contains(k)) {
              counts.merge(k, 1, Integer::sum);
            }
          }
          if (line.contains("Exception in thread")
              || line.contains("integrity check")
              || line.contains("ERROR")) {
            if (warnings.size() < 200) {
              warnings.add(line);
            }
          }
        }
      } catch (IOException e) {
        LOG.debug("reading {}: {}", file, e.toString());
      }
    }
  }
}
