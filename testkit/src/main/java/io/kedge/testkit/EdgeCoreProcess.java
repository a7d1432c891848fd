package io.kedge.testkit;

import io.kedge.protocol.Json;
import io.kedge.protocol.config.ConfigLoader;
import io.kedge.protocol.config.ConfigOverrides;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code bin/edgecore} as a real process for one node: an {@code edgecore.yaml} with the cloud's
 * addresses and join token, every file under a test directory, short protocol timers, and the
 * launcher's own JVM flags. Can be stopped, killed and started again with its stored certificate.
 */
public final class EdgeCoreProcess implements AutoCloseable {
  private final String node;
  private final Path dir;
  private final Path config;
  private final Path log;
  private final Map<String, String> env;
  private final int metaServerPort;
  private List<String> prefix = List.of();
  private ProgramProcess proc;

  private EdgeCoreProcess(
      String node, Path dir, Path config, Map<String, String> env, int metaServerPort) {
    this.node = node;
    this.dir = dir;
    this.config = config;
    this.log = dir.resolve("edgecore.log");
    this.env = env;
    this.metaServerPort = metaServerPort;
  }

  /**
   * Writes the configuration and starts edgecore.
   *
   * @param hub CloudHub's WebSocket address ({@code wss://host:port})
   * @param bootstrap CloudHub's certificate server ({@code https://host:port})
   * @param token the join token ({@code keadm gettoken}, Secret kubeedge/tokensecret)
   * @param sets further settings in {@code --set} syntax
   */
  public static EdgeCoreProcess start(
      Path dir, String node, URI hub, URI bootstrap, String token, String... sets) {
    EdgeCoreProcess p = prepare(dir, node, hub, bootstrap, token, Map.of(), sets);
    p.startProcess();
    return p;
  }

  /** Like {@link #start} with extra environment (e.g. {@code KEDGE_JAVA_OPTS}). */
  public static EdgeCoreProcess start(
      Path dir,
      String node,
      URI hub,
      URI bootstrap,
      String token,
      Map<String, String> env,
      String... sets) {
    EdgeCoreProcess p = prepare(dir, node, hub, bootstrap, token, env, sets);
    p.startProcess();
    return p;
  }

  /**
   * Like {@link #start(Path, String, URI, URI, String, Map, String...)}, the program run behind
   * {@code commandPrefix} (e.g. {@link NetworkNamespace#prefix()}, for an edge in a network
   * namespace of its own).
   */
  public static EdgeCoreProcess startWithPrefix(
      List<String> commandPrefix,
      Path dir,
      String node,
      URI hub,
      URI bootstrap,
      String token,
      Map<String, String> env,
      String... sets) {
    EdgeCoreProcess p = prepare(dir, node, hub, bootstrap, token, env, sets);
    p.prefix = List.copyOf(commandPrefix);
    p.startProcess();
    return p;
  }

  /**
   * Like {@link #start(Path, String, URI, URI, String, Map, String...)} for an edge of several
   * cloudcores: every WebSocket and certificate server, as {@code keadm join} writes them.
   */
  public static EdgeCoreProcess start(
      Path dir,
      String node,
      List<URI> hubs,
      List<URI> bootstraps,
      String token,
      Map<String, String> env,
      String... sets) {
    EdgeCoreProcess p =
        prepare(
            dir,
            node,
            String.join(",", hubs.stream().map(h -> h.getHost() + ":" + h.getPort()).toList()),
            String.join(",", bootstraps.stream().map(URI::toString).toList()),
            token,
            env,
            sets);
    p.startProcess();
    return p;
  }

  private static EdgeCoreProcess prepare(
      Path dir,
      String node,
      URI hub,
      URI bootstrap,
      String token,
      Map<String, String> env,
      String... sets) {
    return prepare(
        dir, node, hub.getHost() + ":" + hub.getPort(), bootstrap.toString(), token, env, sets);
  }

  private static EdgeCoreProcess prepare(
      Path dir,
      String node,
      String hubs,
      String bootstraps,
      String token,
      Map<String, String> env,
      String... sets) {
    // Several edgecores share the host: each MetaServer gets its own free port (whether or not a
    // test enables it), its files under dir, and never the link-local dummy address.
    int metaServerPort = Ports.free();
    String metaServer = "127.0.0.1:" + metaServerPort;
    ObjectNode tree = (ObjectNode) Json.object();
    tree.put("apiVersion", "edgecore.config.kubeedge.io/v1alpha2");
    tree.put("kind", "EdgeCore");
    List<String> settings =
        List.of(
            "database.dataSource=" + dir.resolve("edgecore.db"),
            "modules.edgeHub.heartbeat=3",
            "modules.edgeHub.reconnectMinDelay=1",
            "modules.edgeHub.reconnectMaxDelay=3",
            "modules.edgeHub.tlsCaFile=" + dir.resolve("ca/rootCA.crt"),
            "modules.edgeHub.tlsCertFile=" + dir.resolve("certs/server.crt"),
            "modules.edgeHub.tlsPrivateKeyFile=" + dir.resolve("certs/server.key"),
            "modules.edged.hostnameOverride=" + node,
            "modules.edged.nodeIP=127.0.0.1",
            "modules.edged.nodeStatusUpdateFrequency=3",
            "modules.edged.rootDirectory=" + dir.resolve("pods"),
            "modules.metaManager.metaServer.server=" + metaServer,
            "modules.metaManager.metaServer.dummyServer=" + metaServer,
            "modules.metaManager.metaServer.pkiDir=" + dir.resolve("pki/metaserver"));
    for (String s : settings) {
      for (ConfigOverrides.Override o : ConfigOverrides.parse(s)) {
        ConfigOverrides.apply(tree, o);
      }
    }
    // The token holds '.', the server lists ','; set them verbatim rather than through --set
    // parsing.
    ObjectNode hub = (ObjectNode) tree.path("modules").path("edgeHub");
    hub.put("token", token);
    hub.put("httpServer", bootstraps);
    ObjectNode ws = hub.get("websocket") instanceof ObjectNode o ? o : hub.putObject("websocket");
    ws.put("server", hubs);
    for (String s : sets) {
      for (ConfigOverrides.Override o : ConfigOverrides.parse(s)) {
        ConfigOverrides.apply(tree, o);
      }
    }
    Path cfg = dir.resolve("edgecore.yaml");
    try {
      Files.createDirectories(dir);
      Files.writeString(cfg, ConfigLoader.toYaml(tree), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new EdgeCoreProcess(node, dir, cfg, env, metaServerPort);
  }

  /** Starts (again); returns once the process runs (connecting is up to the test to wait for). */
  public void startProcess() {
    if (proc != null && proc.isAlive()) {
      throw new IllegalStateException("edgecore for " + node + " is already running");
    }
    if (prefix.isEmpty()) {
      proc =
          ProgramProcess.launcher(
              kedgeHome(), "edgecore", List.of("--config", config.toString()), env, log);
    } else {
      List<String> cmd = new java.util.ArrayList<>(prefix);
      cmd.addAll(
          List.of(kedgeHome().resolve("bin/edgecore").toString(), "--config", config.toString()));
      proc = ProgramProcess.start("edgecore", cmd, env, log);
    }
  }

  /** How many times this edgecore has connected to the cloud, from its log. */
  public int connections() {
    Matcher m = Pattern.compile("connected to the cloud at").matcher(log());
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  /** Waits until the log shows {@code n} connections in total. */
  public void awaitConnections(int n, Duration atMost) {
    Waits.until(node + " connected " + n + " time(s)", atMost, () -> connections() >= n);
  }

  public String node() {
    return node;
  }

  public Path dir() {
    return dir;
  }

  /** The edge's SQLite store ({@code database.dataSource}). */
  public Path database() {
    return dir.resolve("edgecore.db");
  }

  /**
   * MetaServer's address ({@code http://127.0.0.1:port}, a free port picked for this edge); it
   * serves only when {@code modules.metaManager.metaServer.enable=true} is set.
   */
  public URI metaServerUri() {
    return URI.create("http://127.0.0.1:" + metaServerPort);
  }

  public Path configFile() {
    return config;
  }

  public ProgramProcess process() {
    return proc;
  }

  public String log() {
    return proc == null ? "" : proc.output();
  }

  /** SIGTERM; returns the exit code. */
  public int stop() {
    return proc.stop(Duration.ofSeconds(30));
  }

  /** SIGKILL. */
  public void kill() {
    proc.kill();
  }

  @Override
  public void close() {
    if (proc != null) {
      proc.close();
    }
  }

  /** Where the checkout is (system property {@code kedge.home}). */
  private static Path kedgeHome() {
    return Path.of(System.getProperty("kedge.home", ".")).toAbsolutePath();
  }
}
