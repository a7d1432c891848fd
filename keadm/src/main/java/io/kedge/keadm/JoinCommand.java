package io.kedge.keadm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code keadm join}: writes {@code edgecore.yaml}, gets the node's certificate and starts edgecore
 * as a service ({@code edgecore.service} with systemd, a supervised process otherwise).
 */
@Command(
    name = "join",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Join this machine to cloudcore as an edge node.",
    description =
        "Writes /etc/kubeedge/config/edgecore.yaml, obtains the node's certificate with the join"
            + " token and starts edgecore as a service (systemd unit edgecore.service, or a"
            + " supervised process where systemd does not run).",
    footer = {
      "",
      "Example:",
      "  keadm join --cloudcore-ipport=192.168.1.10:10000 --token=TOKEN \\",
      "    --edgenode-name=edge-1 \\",
      "    --set modules.metaManager.metaServer.enable=true",
      "",
      "Several cloudcores (the edge connects to one and moves to another when it is lost):",
      "  keadm join --cloudcore-ipport=192.168.1.10:10000,192.168.1.11:10000 --token=TOKEN \\",
      "    --edgenode-name=edge-1"
    })
public final class JoinCommand implements Callable<Integer> {
  static final Pattern NODE_NAME =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  static final Pattern TOKEN = Pattern.compile("[0-9a-fA-F]{64}\\.[\\w-]+\\.[\\w-]+\\.[\\w-]*");
  static final Duration START_CHECK = Duration.ofSeconds(3);

  private final KeadmEnvironment env;

  @Spec CommandSpec spec;

  @Option(
      names = {"-e", "--cloudcore-ipport"},
      required = true,
      paramLabel = "IP:PORT[,IP:PORT...]",
      description =
          "cloudcore's WebSocket address (port 10000 by default); several cloudcores (Kedge):"
              + " several addresses, comma separated, or a name that resolves to several")
  String cloudcoreIpPort;

  @Option(
      names = {"-i", "--edgenode-name"},
      paramLabel = "NAME",
      description = "node name (default: this host's name)")
  String nodeName;

  @Option(
      names = {"-t", "--token"},
      paramLabel = "TOKEN",
      description = "join token, from 'keadm gettoken' on the cloud side")
  String token;

  @Option(
      names = {"-s", "--certport"},
      paramLabel = "PORT[,PORT...]",
      defaultValue = "10002",
      split = ",",
      description =
          "cloudcore's certificate port (default: ${DEFAULT-VALUE}); with several cloudcores one"
              + " for all, or one per --cloudcore-ipport address")
  List<Integer> certPort = new ArrayList<>();

  @Option(
      names = "--kubeedge-version",
      paramLabel = "VERSION",
      defaultValue = "v1.17.0",
      description = "KubeEdge release to be compatible with (default: ${DEFAULT-VALUE})")
  String kubeedgeVersion;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE[,KEY=VALUE]",
      description = {
        "edgecore.yaml settings by key path, e.g.",
        "modules.metaManager.metaServer.server=127.0.0.1:10551; comma-separated or repeated"
      })
  List<String> sets = new ArrayList<>();

  @Parameters(
      paramLabel = "KEY=VALUE",
      arity = "0..*",
      description = "a bare KEY=VALUE after --set is applied as another --set (with a notice)")
  List<String> positional = new ArrayList<>();

  @Option(
      names = {"-l", "--labels"},
      paramLabel = "KEY=VALUE[,KEY=VALUE]",
      split = ",",
      description = "labels for the node")
  List<String> labels = new ArrayList<>();

  @Option(
      names = {"-r", "--runtimetype"},
      paramLabel = "TYPE",
      description = "how pods run: process (host processes, Kedge's default) or remote (CRI)")
  String runtimeType;

  @Option(
      names = {"-p", "--remote-runtime-endpoint"},
      paramLabel = "ENDPOINT",
      description = "CRI endpoint for --runtimetype=remote")
  String remoteRuntimeEndpoint;

  @Option(
      names = "--cgroupdriver",
      paramLabel = "DRIVER",
      defaultValue = "cgroupfs",
      description = "cgroupfs or systemd (CRI runtime; default: ${DEFAULT-VALUE})")
  String cgroupDriver;

  @Option(
      names = "--certPath",
      paramLabel = "DIR",
      description = "where the node's certificate and key go (default: /etc/kubeedge/certs)")
  String certPath;

  @Option(
      names = "--root-dir",
      paramLabel = "DIR",
      description = "keep everything of this edge node under DIR instead of / (Kedge)")
  Path rootDir;

  @Option(
      names = "--tarballpath",
      paramLabel = "DIR",
      description = "accepted for KubeEdge compatibility; Kedge downloads nothing")
  String tarballPath;

  @Option(
      names = "--image-repository",
      paramLabel = "REPO",
      description = "accepted for KubeEdge compatibility; Kedge uses no images")
  String imageRepository;

  @Option(
      names = "--with-mqtt",
      description = "accepted for KubeEdge compatibility; Kedge has no MQTT broker")
  boolean withMqtt;

  JoinCommand(KeadmEnvironment env) {
    this.env = env;
  }

  @Override
  public Integer call() {
    KubeEdgeVersion version = usage(() -> KubeEdgeVersion.parse(kubeedgeVersion));
    List<String> allSets = usage(() -> SetArguments.merge(sets, positional, env));
    checkIpPort(cloudcoreIpPort);
    String node = nodeName == null || nodeName.isBlank() ? env.hostname() : nodeName.strip();
    if (node.length() > 253 || !NODE_NAME.matcher(node).matches()) {
      throw usageError(
          "--edgenode-name: '"
              + node
              + "' is not a valid node name (lower-case letters, digits, '-' and '.')");
    }
    if (token == null || token.isBlank()) {
      throw usageError("--token is required: get it with 'keadm gettoken' on the cloud side");
    }
    if (!TOKEN.matcher(token.strip()).matches()) {
      throw usageError(
          "--token: not a join token (expected the output of 'keadm gettoken':"
              + " <64 hex digits>.<JWT>)");
    }
    if (!cgroupDriver.equals("cgroupfs") && !cgroupDriver.equals("systemd")) {
      throw usageError("--cgroupdriver must be cgroupfs or systemd, got '" + cgroupDriver + "'");
    }
    String runtime = null;
    if (runtimeType != null) {
      runtime =
          switch (runtimeType) {
            case "process" -> "process";
            case "remote", "cri" -> "cri";
            default ->
                throw usageError(
                    "--runtimetype must be process or remote, got '" + runtimeType + "'");
          };
    }
    Map<String, String> nodeLabels = new LinkedHashMap<>();
    for (String l : labels) {
      int eq = l.indexOf('=');
      if (eq <= 0) {
        throw usageError("--labels: expected KEY=VALUE, got '" + l + "'");
      }
      nodeLabels.put(l.substring(0, eq).strip(), l.substring(eq + 1).strip());
    }
    if (tarballPath != null) {
      env.notice("--tarballpath is ignored: Kedge downloads nothing");
    }
    if (imageRepository != null) {
      env.notice("--image-repository is ignored: Kedge uses no images");
    }
    if (withMqtt) {
      env.notice("--with-mqtt is ignored: Kedge has no MQTT broker");
    }

    InstallLayout layout = InstallLayout.of(rootDir);
    EdgeCoreValues.Join join =
        new EdgeCoreValues.Join(
            cloudcoreIpPort.strip(),
            certPort,
            token.strip(),
            node,
            CloudCoreValues.defaultAdvertiseAddress(),
            runtime,
            remoteRuntimeEndpoint,
            certPath,
            nodeLabels,
            version,
            allSets);
    EdgeCoreValues.Result values = usage(() -> EdgeCoreValues.build(join, layout));
    values.notices().forEach(env::notice);

    ServiceSpec service = ServiceSpec.edgecore(env, layout);
    ServiceManager services = ServiceManager.choose(env, layout);
    preflight(layout, values, services, service);

    env.progress("join", "writing " + layout.edgecoreConfig());
    writeConfig(layout.edgecoreConfig(), values.yaml(version));
    try {
      EdgeCertificates.bootstrap(env, values.config(), layout);
    } catch (RuntimeException e) {
      // Leave nothing behind, so that join can simply be run again.
      var hub = values.config().modules().edgeHub();
      for (String f :
          List.of(
              layout.edgecoreConfig().toString(),
              hub.tlsCaFile(),
              hub.tlsCertFile(),
              hub.tlsPrivateKeyFile())) {
        ResetCommand.deleteTree(Path.of(f));
      }
      throw e;
    }

    env.progress("join", "starting edgecore as a " + services.describe(service));
    services.start(service);
    sleep(START_CHECK);
    if (!services.running(service)) {
      throw new KeadmException(
          "edgecore stopped right after it started; its log "
              + service.log()
              + " ends with: "
              + CloudInstaller.tail(service.log()));
    }
    env.out().println();
    env.out()
        .println(
            "edgecore started: node "
                + node
                + " joins cloudcore at "
                + cloudcoreIpPort
                + " (KubeEdge "
                + version
                + " compatible).");
    env.out().println("  configuration: " + layout.edgecoreConfig());
    env.out().println("  logs:          " + services.logHint(service));
    env.out()
        .println(
            "  after editing the configuration: " + restartHint(env, services, layout, "edgecore"));
    String monitor = values.config().monitorAddress();
    if (!monitor.isEmpty()) {
      ReadyzProbe probe = new ReadyzProbe("edgecore", monitor);
      env.out().println("  health:        curl '" + probe.url() + "'");
      env.out().println("  metrics:       curl " + probe.metricsUrl());
      ReadyzProbe.Answer a = probe.await(READY_WAIT);
      if (!a.ready()) {
        env.warn("edgecore is not ready yet: " + a.describe());
      }
    }
    return 0;
  }

  static String restartHint(
      KeadmEnvironment env, ServiceManager services, InstallLayout layout, String name) {
    return services instanceof SystemdServices
        ? "systemctl restart " + name + ".service"
        : env.keadmCommand() + " restart " + name + layout.rootDirArgument();
  }

  private void preflight(
      InstallLayout layout,
      EdgeCoreValues.Result values,
      ServiceManager services,
      ServiceSpec service) {
    if (services.running(service)) {
      throw new KeadmException(
          "edgecore is already running here ("
              + services.describe(service)
              + "); run 'keadm reset"
              + layout.rootDirArgument()
              + "' first");
    }
    var hub = values.config().modules().edgeHub();
    List<Path> leftovers = new ArrayList<>();
    for (Path p :
        List.of(
            layout.edgecoreConfig(),
            Path.of(hub.tlsCaFile()),
            Path.of(hub.tlsCertFile()),
            Path.of(hub.tlsPrivateKeyFile()),
            Path.of(values.config().database().dataSource()))) {
      if (Files.exists(p)) {
        leftovers.add(p);
      }
    }
    if (!leftovers.isEmpty()) {
      throw new KeadmException(
          layout.etc()
              + " is not clean (found "
              + leftovers.get(0)
              + (leftovers.size() > 1 ? " and " + (leftovers.size() - 1) + " more" : "")
              + "); run 'keadm reset"
              + layout.rootDirArgument()
              + "' first");
    }
  }

  static void writeConfig(Path file, String yaml) {
    try {
      Files.createDirectories(file.getParent());
      Path tmp = Files.createTempFile(file.getParent(), ".edgecore", ".tmp");
      // It holds the join token.
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      Files.writeString(tmp, yaml, StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new KeadmException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  private void checkIpPort(String v) {
    String all = v == null ? "" : v.strip();
    if (all.isEmpty()) {
      throw usageError("--cloudcore-ipport: expected IP:PORT, got '" + v + "'");
    }
    for (String part : all.split(",")) {
      String s = part.strip();
      int c = s.lastIndexOf(':');
      if (c <= 0) {
        throw usageError("--cloudcore-ipport: expected IP:PORT, got '" + s + "'");
      }
      try {
        int port = Integer.parseInt(s.substring(c + 1));
        if (port < 1 || port > 65535) {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException e) {
        throw usageError("--cloudcore-ipport: '" + s.substring(c + 1) + "' is not a port");
      }
      String host = EdgeCoreValues.host(s);
      if (!host.matches("[A-Za-z0-9.:-]+")) {
        throw usageError("--cloudcore-ipport: '" + host + "' is not an address");
      }
    }
  }

  private CommandLine.ParameterException usageError(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  private <T> T usage(java.util.function.Supplier<T> s) {
    try {
      return s.get();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
    }
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KeadmException("interrupted");
    }
  }

  /**
   * How long join waits for edgecore's {@code /readyz}: with requireAuthorization MetaServer is
   * ready once cloudcore has issued its serving certificate.
   */
  static final Duration READY_WAIT = Duration.ofSeconds(60);
}
