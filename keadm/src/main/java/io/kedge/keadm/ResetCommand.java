package io.kedge.keadm;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kedge.cloud.cloudstream.TunnelPortRules;
import io.kedge.protocol.config.ConfigException;
import io.kedge.protocol.config.EdgeCoreConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code keadm reset}: undoes {@code keadm init} and/or {@code keadm join} on this machine (or
 * under {@code --root-dir}): stops the services and removes what they installed.
 */
@Command(
    name = "reset",
    mixinStandardHelpOptions = true,
    header = "Undo 'keadm init' and/or 'keadm join' on this machine.",
    description =
        "For init: stops cloudcore, removes its service, its cluster objects (except the CRDs,"
            + " which may hold data) and its local files. For join: stops edgecore, removes its"
            + " service, configuration, certificates and data.")
public final class ResetCommand implements Callable<Integer> {
  private final KeadmEnvironment env;

  @Option(
      names = "--root-dir",
      paramLabel = "DIR",
      description = "the install under DIR (as given to init or join)")
  Path rootDir;

  @Option(
      names = "--kube-config",
      paramLabel = "FILE",
      description =
          "admin kubeconfig for removing cloudcore's cluster objects (default: the one init used)")
  Path kubeConfig;

  @Option(
      names = {"--force", "-f"},
      description = "do not ask for confirmation")
  boolean force;

  ResetCommand(KeadmEnvironment env) {
    this.env = env;
  }

  @Override
  public Integer call() {
    InstallLayout layout = InstallLayout.of(rootDir);
    ServiceManager services = ServiceManager.choose(env, layout);
    ServiceSpec cloud = ServiceSpec.cloudcore(env, layout);
    ServiceSpec edge = ServiceSpec.edgecore(env, layout);
    Optional<CloudRecord> record = CloudRecord.read(layout);
    boolean cloudHere = record.isPresent() || services.running(cloud);
    boolean edgeHere = Files.exists(layout.edgecoreConfig()) || services.running(edge);
    if (!cloudHere && !edgeHere) {
      env.out()
          .println(
              "[reset] nothing to reset: no cloudcore or edgecore install under " + layout.root());
      return 0;
    }
    String what =
        (cloudHere ? "cloudcore" : "")
            + (cloudHere && edgeHere ? " and " : "")
            + (edgeHere ? "edgecore" : "");
    if (!force
        && !confirm(
            "[reset] this removes "
                + what
                + " installed under "
                + layout.root()
                + ". Are you sure? [y/N] ")) {
      throw new KeadmException("aborted; pass --force to reset without asking");
    }
    if (edgeHere) {
      resetEdge(layout, services, edge);
    }
    if (cloudHere) {
      resetCloud(layout, services, cloud, record);
    }
    for (Path dir :
        List.of(
            layout.configDir(), layout.etc(), layout.varLib(), layout.logDir(), layout.runDir())) {
      deleteIfEmpty(dir);
    }
    if (!layout.systemRoot()) {
      for (String p : List.of("/etc", "/var/lib", "/var/log", "/var/run", "/var")) {
        deleteIfEmpty(layout.rooted(p));
      }
    }
    env.out().println("[reset] done");
    return 0;
  }

  private void resetEdge(InstallLayout layout, ServiceManager services, ServiceSpec edge) {
    if (services.stop(edge)) {
      env.progress("reset", "stopped edgecore");
    }
    services.uninstall(edge);
    List<Path> remove = new ArrayList<>();
    EdgeCoreConfig cfg = null;
    if (Files.isRegularFile(layout.edgecoreConfig())) {
      try {
        cfg = EdgeCoreConfig.load(layout.edgecoreConfig(), List.of()).config();
      } catch (ConfigException e) {
        env.warn(
            "cannot read "
                + layout.edgecoreConfig()
                + " ("
                + e.getMessage()
                + "); removing the default paths");
      }
    }
    if (cfg == null) {
      cfg =
          EdgeCoreValues.build(
                  new EdgeCoreValues.Join(
                      "127.0.0.1:10000",
                      List.of(10002),
                      "",
                      "node",
                      null,
                      null,
                      null,
                      null,
                      null,
                      KubeEdgeVersion.DEFAULT,
                      List.of()),
                  layout)
              .config();
    }
    var hub = cfg.modules().edgeHub();
    var meta = cfg.modules().metaManager().metaServer();
    String db = cfg.database().dataSource();
    for (String p :
        List.of(
            hub.tlsCaFile(),
            hub.tlsCertFile(),
            hub.tlsPrivateKeyFile(),
            meta.tlsCaFile(),
            meta.tlsCertFile(),
            meta.tlsPrivateKeyFile(),
            db,
            db + "-wal",
            db + "-shm",
            db + "-journal")) {
      if (p != null && !p.isBlank()) {
        remove.add(Path.of(p));
      }
    }
    remove.add(Path.of(cfg.modules().edged().rootDirectory()));
    remove.add(layout.etc().resolve("pki"));
    if (meta.pkiDir() != null && !meta.pkiDir().isBlank()) {
      remove.add(Path.of(meta.pkiDir()));
    }
    remove.add(layout.edgecoreConfig());
    remove.add(edge.log());
    for (Path p : remove) {
      if (Files.exists(p)) {
        env.progress("reset", "removing " + p);
        deleteTree(p);
      }
    }
    if (meta.enable() && cfg.requireAuthorization()) {
      removeDummyAddress(meta.dummyServer());
    }
    for (Path p :
        List.of(
            layout.etc().resolve("ca"),
            layout.etc().resolve("certs"),
            Path.of(cfg.modules().edged().rootDirectory()).getParent())) {
      deleteIfEmpty(p);
    }
  }

  /**
   * Takes MetaServer's dummy address (KubeEdge's 169.254.30.10) off the link edgecore put it on,
   * and removes the link {@code edge-dummy0} once it carries no address, so that a reset leaves no
   * network state behind. Nothing happens where the address was never added.
   */
  private void removeDummyAddress(String dummyServer) {
    String host =
        dummyServer == null || dummyServer.isBlank()
            ? "169.254.30.10"
            : dummyServer.substring(0, Math.max(0, dummyServer.lastIndexOf(':')));
    if (host.isEmpty() || host.startsWith("127.")) {
      return; // a loopback address needs no link
    }
    String link = "edge-dummy0";
    for (String dev : List.of(link, "lo")) {
      String shown = ip("-o", "addr", "show", "dev", dev);
      if (shown != null && shown.contains(" " + host + "/32")) {
        if (ip("addr", "del", host + "/32", "dev", dev) != null) {
          env.progress("reset", "removed MetaServer's address " + host + " from " + dev);
        }
      }
    }
    String left = ip("-o", "addr", "show", "dev", link);
    if (left != null && !left.contains(" inet") && ip("link", "delete", link) != null) {
      env.progress("reset", "removed the link " + link);
    }
  }

  /** Runs {@code ip ARGS}; its output, or null when it failed (or is not installed). */
  private static String ip(String... args) {
    List<String> cmd = new ArrayList<>(List.of("ip"));
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return p.waitFor() == 0 ? out : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private void resetCloud(
      InstallLayout layout,
      ServiceManager services,
      ServiceSpec cloud,
      Optional<CloudRecord> record) {
    if (services.stop(cloud)) {
      env.progress("reset", "stopped cloudcore");
    }
    services.uninstall(cloud);
    Path kc = kubeConfig;
    if (kc == null
        && record.isPresent()
        && record.get().kubeconfig() != null
        && Files.isRegularFile(record.get().kubeconfig())) {
      kc = record.get().kubeconfig();
    }
    try {
      ClusterAccess cluster = ClusterAccess.resolve(kc, env);
      try (KubernetesClient client = cluster.client()) {
        cluster.serverVersion(client);
        // cloudStream's route from the apiserver to cloudcore (KubeEdge's TUNNEL-PORT DNAT)
        for (String rule : TunnelPortRules.removeAll(TunnelPortRules.record(client))) {
          env.progress("reset", "removed iptables nat rule " + rule);
        }
        CloudInstaller installer =
            new CloudInstaller(env, client, env.kedgeHome().resolve("deploy"));
        var others = io.kedge.cloud.ha.CloudCorePresence.running(client);
        if (others.isEmpty()) {
          installer.uninstall(installer.manifests(true));
        } else {
          env.progress(
              "reset",
              "other cloudcores still serve this cluster ("
                  + String.join(", ", others.keySet())
                  + "): its objects (ConfigMap, CA, RBAC) are kept");
        }
      }
    } catch (KeadmException | KubernetesClientException e) {
      env.warn("cluster objects were not removed: " + e.getMessage());
    }
    for (Path p :
        List.of(
            layout.cloudcoreKubeconfig(),
            layout.cloudInstallRecord(),
            LocalCloudSettings.file(layout),
            cloud.log())) {
      if (Files.exists(p)) {
        env.progress("reset", "removing " + p);
        deleteTree(p);
      }
    }
    deleteIfEmpty(layout.cloudInstallRecord().getParent());
  }

  private boolean confirm(String question) {
    if (System.console() == null) {
      return false;
    }
    env.out().print(question);
    env.out().flush();
    try {
      String answer =
          new BufferedReader(new InputStreamReader(env.in(), StandardCharsets.UTF_8)).readLine();
      return answer != null
          && (answer.strip().equalsIgnoreCase("y") || answer.strip().equalsIgnoreCase("yes"));
    } catch (IOException e) {
      return false;
    }
  }

  static void deleteTree(Path p) {
    if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(x);
      }
    } catch (IOException e) {
      throw new KeadmException("cannot remove " + p + ": " + e.getMessage(), e);
    }
  }

  static void deleteIfEmpty(Path dir) {
    if (dir == null || !Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> s = Files.list(dir)) {
      if (s.findAny().isEmpty()) {
        Files.delete(dir);
      }
    } catch (IOException e) {
      // leave it
    }
  }
}
