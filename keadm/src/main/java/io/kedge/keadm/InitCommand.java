package io.kedge.keadm;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kedge.cloud.hub.HubTls;
import io.kedge.controlplane.ServiceAccountKubeconfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code keadm init}: installs cloudcore for the cluster of {@code --kube-config} and starts it on
 * this machine as a service that reads its configuration from ConfigMap {@code kubeedge/cloudcore}
 * and talks to the apiserver as ServiceAccount {@code kubeedge/cloudcore}.
 */
@Command(
    name = "init",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Install cloudcore for a cluster and start it on this machine.",
    description =
        "Creates namespace kubeedge, ServiceAccount cloudcore with its RBAC, the CRDs and"
            + " ConfigMap kubeedge/cloudcore (cloudcore.yaml), then starts cloudcore as a service"
            + " (systemd unit cloudcore.service, or a supervised process where systemd does not"
            + " run) that reads that ConfigMap and acts as ServiceAccount kubeedge/cloudcore.",
    footer = {
      "",
      "Example (KubeEdge's in-cluster config page):",
      "  keadm init --advertise-address=\"THE-EXPOSED-IP\" --kubeedge-version=v1.17.0 \\",
      "    --set cloudCore.modules.dynamicController.enable=true,\\",
      "cloudCore.featureGates.requireAuthorization=true",
      "",
      "On a cluster that has a cloudcore, init adds this machine's cloudcore to it (several",
      "cloudcores share the ConfigMap, the CA and the join token; only its",
      "addresses, ports and name may be set for the one added: cloudCore.modules.cloudHub.*,",
      "cloudCore.modules.cloudStream.tunnelPort/streamPort,",
      "cloudCore.commonConfig.monitorServer.bindAddress, cloudCore.highAvailability.name):",
      "  keadm init --advertise-address=\"ANOTHER-IP\""
    })
public final class InitCommand implements Callable<Integer> {
  static final String NAMESPACE = "kubeedge";
  static final String CONFIGMAP = "cloudcore";
  static final String CONFIG_KEY = "cloudcore.yaml";
  static final Duration START_TIMEOUT = Duration.ofSeconds(180);

  private final KeadmEnvironment env;

  @Spec CommandSpec spec;

  @Option(
      names = "--advertise-address",
      paramLabel = "IP[,IP]",
      split = ",",
      description =
          "IP addresses edge nodes reach cloudcore at; they go into cloudcore's certificate"
              + " (default: this host's first IPv4 address)")
  List<String> advertiseAddress = new ArrayList<>();

  @Option(
      names = "--kubeedge-version",
      paramLabel = "VERSION",
      description =
          "KubeEdge release to be compatible with (recorded with the install; default: ${DEFAULT-VALUE})",
      defaultValue = "v1.17.0")
  String kubeedgeVersion;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE[,KEY=VALUE]",
      description = {
        "cloudcore settings as KubeEdge's chart values: cloudCore.modules.<module>.<key>=V or",
        "cloudCore.featureGates.<gate>=true; comma-separated or repeated"
      })
  List<String> sets = new ArrayList<>();

  @Parameters(
      paramLabel = "KEY=VALUE",
      arity = "0..*",
      description = "a bare KEY=VALUE after --set is applied as another --set (with a notice)")
  List<String> positional = new ArrayList<>();

  @Option(
      names = "--kube-config",
      paramLabel = "FILE",
      description = "admin kubeconfig of the cluster (default: $KUBECONFIG, else ~/.kube/config)")
  Path kubeConfig;

  @Option(
      names = "--root-dir",
      paramLabel = "DIR",
      description = "keep this install's local files under DIR instead of / (Kedge)")
  Path rootDir;

  @Option(
      names = "--dry-run",
      description = "print what would be applied and started; change nothing")
  boolean dryRun;

  @Option(names = "--force", description = "reinstall over an existing install")
  boolean force;

  @Option(
      names = "--image-repository",
      paramLabel = "REPO",
      description = "accepted for KubeEdge compatibility; Kedge uses no images")
  String imageRepository;

  @Option(
      names = "--profile",
      paramLabel = "PROFILE",
      description = "accepted for KubeEdge compatibility; ignored")
  String profile;

  @Option(
      names = "--skip-preflight-checks",
      paramLabel = "CHECKS",
      split = ",",
      description = "accepted for KubeEdge compatibility; ignored")
  List<String> skipPreflight;

  InitCommand(KeadmEnvironment env) {
    this.env = env;
  }

  @Override
  public Integer call() {
    KubeEdgeVersion version = usage(() -> KubeEdgeVersion.parse(kubeedgeVersion));
    List<String> allSets = usage(() -> SetArguments.merge(sets, positional, env));
    InstallLayout layout = InstallLayout.of(rootDir);
    List<String> addresses = new ArrayList<>(advertiseAddress);
    addresses.removeIf(String::isBlank);
    if (addresses.isEmpty()) {
      addresses.add(CloudCoreValues.defaultAdvertiseAddress());
    }
    CloudCoreValues.Result values = usage(() -> CloudCoreValues.build(allSets, addresses, layout));
    values.notices().forEach(env::notice);
    if (imageRepository != null) {
      env.notice("--image-repository is ignored: Kedge runs cloudcore without images");
    }
    if (profile != null) {
      env.notice("--profile is ignored: Kedge takes its settings from --set");
    }
    boolean gate = values.config().requireAuthorization();
    ServiceSpec service = ServiceSpec.cloudcore(env, layout);
    ServiceManager services = ServiceManager.choose(env, layout);

    if (dryRun) {
      return dryRun(version, values, gate, layout, service, services);
    }

    ClusterAccess cluster = ClusterAccess.resolve(kubeConfig, env);
    try (KubernetesClient client = cluster.client()) {
      String k8s = cluster.serverVersion(client);
      env.progress(
          "init", "cluster " + cluster.server() + " (Kubernetes " + k8s + ") is reachable");
      CloudInstaller installer = new CloudInstaller(env, client, env.kedgeHome().resolve("deploy"));
      var existing = installer.existing();
      if (existing.isPresent() && !force) {
        if (services.running(service)) {
          throw new KeadmException(
              describeExisting(existing.get(), true)
                  + "; use --force to reinstall, or 'keadm reset' to remove it");
        }
        List<String> missing = installer.missingSharedSecrets();
        if (!missing.isEmpty()) {
          // a cloudcore added to it would have no CA, certificate or token to share: it fails
          throw new KeadmException(
              describeExisting(existing.get(), false)
                  + ", but without the Secrets another cloudcore shares ("
                  + String.join(", ", missing)
                  + " missing), so none can be added to it; use --force to reinstall, or"
                  + " 'keadm reset' to remove it");
        }
        return addCloudcore(cluster, client, installer, existing.get(), allSets, addresses, layout);
      }
      if (existing.isPresent()) {
        env.progress("init", "reinstalling over the existing install (--force)");
        if (services.stop(service)) {
          env.progress("init", "stopped cloudcore");
        }
      }
      if (gate && !installer.featureRoleShipped()) {
        env.warn(
            "deploy/rbac/"
                + CloudInstaller.FEATURE_ROLE
                + ".yaml is missing from "
                + env.kedgeHome()
                + "; requireAuthorization's ClusterRole is not installed");
      }
      installer.apply(installer.manifests(gate));
      if (!gate) {
        installer.removeFeatureRole();
      }
      installer.applyConfigMap(installer.configMap(values, version));
      writeCloudcoreCredentials(cluster, client, layout);
      CloudRecord.write(layout, cluster.kubeconfig(), version);
      HubTls tls = installer.ensureCredentials(values.config());
      var stream = values.config().modules().cloudStream();
      if (stream != null && stream.enable()) {
        Path streamCa = Path.of(stream.tlsStreamCAFile());
        if (!Files.exists(streamCa)) {
          // cloudStream verifies the apiserver's kubelet client certificate against this CA; the
          // kubeconfig's cluster CA signs it in kubeadm's clusters and in the local control plane.
          env.progress(
              "init",
              "writing "
                  + streamCa
                  + " (the cluster CA of the kubeconfig): cloudStream accepts only kubelet clients"
                  + " whose certificate it signed (the apiserver's --kubelet-client-certificate)");
          try {
            Files.createDirectories(streamCa.getParent());
            Files.writeString(streamCa, cluster.caPem());
          } catch (java.io.IOException e) {
            throw new KeadmException("cannot write " + streamCa + ": " + e.getMessage());
          }
        }
      }

      env.progress("init", "starting cloudcore as a " + services.describe(service));
      services.start(service);
      var https = values.config().modules().cloudHub().https();
      String probeHost =
          https.address() == null || https.address().isBlank() || https.address().equals("0.0.0.0")
              ? "127.0.0.1"
              : https.address();
      env.progress(
          "init",
          "waiting for cloudcore to serve certificates on " + probeHost + ":" + https.port());
      installer.awaitCloudcore(
          tls.ca().certificate(),
          probeHost,
          https.port(),
          START_TIMEOUT,
          () -> services.running(service),
          service.log());
      String ip = values.config().modules().cloudHub().advertiseAddress().get(0);
      int port = values.config().modules().cloudHub().websocket().port();
      int certPort = values.config().modules().cloudHub().https().port();
      env.out().println();
      env.out()
          .println(
              "CloudCore started (KubeEdge "
                  + version
                  + " compatible)"
                  + (gate ? ", requireAuthorization on" : "")
                  + ".");
      env.out()
          .println(
              "  configuration: kubectl edit cm "
                  + CONFIGMAP
                  + " -n "
                  + NAMESPACE
                  + "   (then: "
                  + env.keadmCommand()
                  + " restart cloudcore"
                  + layout.rootDirArgument()
                  + ")");
      env.out().println("  logs:          " + services.logHint(service));
      reportReadiness(values.config());
      env.out().println("  join an edge node:");
      env.out()
          .println(
              "    "
                  + env.keadmCommand()
                  + " join --cloudcore-ipport="
                  + EdgeCoreValues.hostPort(ip, port)
                  + (certPort == 10002 ? "" : " --certport=" + certPort)
                  + " --token=$("
                  + env.keadmCommand()
                  + " gettoken --kube-config "
                  + cluster.kubeconfig()
                  + ") --edgenode-name=NAME");
      return 0;
    } catch (KubernetesClientException e) {
      throw new KeadmException("the cluster refused a request: " + ClusterAccess.reason(e), e);
    }
  }

  /**
   * A cluster that has a cloudcore gets one more: the shared objects are brought up to date (RBAC,
   * CRDs), the ConfigMap is left as it is, and this machine's cloudcore starts with its own
   * addresses and ports on top of it.
   */
  private int addCloudcore(
      ClusterAccess cluster,
      KubernetesClient client,
      CloudInstaller installer,
      ConfigMap existing,
      List<String> allSets,
      List<String> addresses,
      InstallLayout layout) {
    List<String> local = new ArrayList<>(usage(() -> LocalCloudSettings.of(allSets, addresses)));
    io.kedge.protocol.config.CloudCoreConfig shared = sharedConfig(existing, local);
    var monitor = shared.commonConfig() == null ? null : shared.commonConfig().monitorServer();
    String monitorBind = monitor == null ? "" : monitor.bindAddress();
    var moved =
        usage(
            () -> LocalCloudSettings.monitorFor(local, monitorBind, LocalCloudSettings::bindable));
    if (moved.isPresent()) {
      // most likely another cloudcore of the cluster on this machine: without a port of its own
      // this one would run without metrics and health endpoints
      local.add(LocalCloudSettings.MONITOR_KEY + "=" + moved.get());
      env.progress(
          "init",
          monitorBind
              + " (metrics, /healthz, /readyz) is in use on this machine; this cloudcore serves them"
              + " on "
              + moved.get()
              + " (--set cloudCore."
              + LocalCloudSettings.MONITOR_KEY
              + "=… chooses)");
      shared = sharedConfig(existing, local);
    }
    Map<String, String> others = io.kedge.cloud.ha.CloudCorePresence.running(client);
    env.progress(
        "init",
        describeExisting(existing, false)
            + "; adding the cloudcore of this machine to the "
            + (others.isEmpty() ? "cluster" : others.size() + " running (" + others.keySet() + ")")
            + ": they share the ConfigMap, the CA and the join token");
    boolean gate = shared.requireAuthorization();
    installer.apply(installer.manifests(gate));
    LocalCloudSettings.write(layout, local);
    env.progress(
        "init",
        "this cloudcore's own settings ("
            + String.join(", ", local)
            + ") in "
            + LocalCloudSettings.file(layout));
    writeCloudcoreCredentials(cluster, client, layout);
    String version =
        existing.getMetadata().getAnnotations() == null
            ? KubeEdgeVersion.DEFAULT.toString()
            : existing
                .getMetadata()
                .getAnnotations()
                .getOrDefault(
                    CloudInstaller.VERSION_ANNOTATION, KubeEdgeVersion.DEFAULT.toString());
    CloudRecord.write(layout, cluster.kubeconfig(), KubeEdgeVersion.parse(version));
    HubTls tls = io.kedge.cloud.hub.HubPki.load(shared.modules().cloudHub(), client);
    ServiceSpec service = ServiceSpec.cloudcore(env, layout);
    ServiceManager services = ServiceManager.choose(env, layout);
    env.progress("init", "starting cloudcore as a " + services.describe(service));
    services.start(service);
    var https = shared.modules().cloudHub().https();
    String probeHost =
        https.address() == null || https.address().isBlank() || https.address().equals("0.0.0.0")
            ? "127.0.0.1"
            : https.address();
    installer.awaitCloudcore(
        tls.ca().certificate(),
        probeHost,
        https.port(),
        START_TIMEOUT,
        () -> services.running(service),
        service.log());
    String ip = shared.modules().cloudHub().advertiseAddress().get(0);
    int port = shared.modules().cloudHub().websocket().port();
    List<String> all = new ArrayList<>();
    for (String a : others.values()) {
      if (!a.isBlank() && !all.contains(a)) {
        all.add(a);
      }
    }
    String mine = EdgeCoreValues.hostPort(ip, port);
    if (!all.contains(mine)) {
      all.add(mine);
    }
    env.out().println();
    env.out()
        .println(
            "CloudCore started, one of "
                + all.size()
                + " for this cluster; each edge is held by one at a time, cluster-wide duties run"
                + " on the holder of Lease "
                + NAMESPACE
                + "/cloudcore.");
    env.out()
        .println(
            "  this cloudcore's own settings: "
                + LocalCloudSettings.file(layout)
                + "; shared ones: kubectl edit cm "
                + CONFIGMAP
                + " -n "
                + NAMESPACE);
    env.out().println("  logs:          " + services.logHint(service));
    env.out().println("  cloudcores:    kubectl get leases -n " + NAMESPACE);
    env.out().println("  join an edge node to all of them:");
    env.out()
        .println(
            "    keadm join --cloudcore-ipport="
                + String.join(",", all)
                + " --token=$(keadm gettoken --kube-config "
                + cluster.kubeconfig()
                + ") --edgenode-name=NAME");
    return 0;
  }

  /** The ConfigMap's cloudcore.yaml with this cloudcore's own settings on top. */
  private static io.kedge.protocol.config.CloudCoreConfig sharedConfig(
      ConfigMap existing, List<String> local) {
    try {
      return io.kedge.protocol.config.CloudCoreConfig.loadText(
              existing.getData().get(CONFIG_KEY), "ConfigMap " + NAMESPACE + "/" + CONFIGMAP, local)
          .config();
    } catch (RuntimeException e) {
      throw new KeadmException(
          "ConfigMap " + NAMESPACE + "/" + CONFIGMAP + " cannot be used: " + e.getMessage(), e);
    }
  }

  private int dryRun(
      KubeEdgeVersion version,
      CloudCoreValues.Result values,
      boolean gate,
      InstallLayout layout,
      ServiceSpec service,
      ServiceManager services) {
    try (KubernetesClient offline =
        new KubernetesClientBuilder().withConfig(Config.empty()).build()) {
      CloudInstaller installer =
          new CloudInstaller(env, offline, env.kedgeHome().resolve("deploy"));
      var out = env.out();
      out.println("# keadm init --dry-run: nothing is changed. It would apply, in this order:");
      for (CloudInstaller.Manifest m : installer.manifests(gate)) {
        for (HasMetadata item : m.items()) {
          if (item
              instanceof
              io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition) {
            out.println("---");
            out.println(
                "# CustomResourceDefinition "
                    + item.getMetadata().getName()
                    + " (from "
                    + m.file()
                    + ")");
            continue;
          }
          out.println("---");
          out.print(offline.getKubernetesSerialization().asYaml(item).replaceFirst("^---\n", ""));
        }
      }
      ConfigMap cm = installer.configMap(values, version);
      out.println("---");
      out.print(offline.getKubernetesSerialization().asYaml(cm).replaceFirst("^---\n", ""));
      out.println("---");
      out.println(
          "# cloudcore's kubeconfig (ServiceAccount "
              + NAMESPACE
              + "/cloudcore): "
              + layout.cloudcoreKubeconfig());
      out.println("# cloudcore would run as a " + services.describe(service) + ":");
      out.println("#   " + String.join(" ", service.command()));
      out.println(
          "# KubeEdge compatibility: " + version + (gate ? "; requireAuthorization on" : ""));
      return 0;
    }
  }

  /** cloudcore's kubeconfig: ServiceAccount kubeedge/cloudcore's token, the cluster's CA. */
  private void writeCloudcoreCredentials(
      ClusterAccess cluster, KubernetesClient client, InstallLayout layout) {
    env.progress(
        "init",
        "writing cloudcore's credentials (ServiceAccount "
            + NAMESPACE
            + "/cloudcore) to "
            + layout.cloudcoreKubeconfig());
    ServiceAccountKubeconfig.write(
        client,
        NAMESPACE,
        "cloudcore",
        cluster.server(),
        cluster.caPem(),
        layout.cloudcoreKubeconfig());
  }

  static String describeExisting(ConfigMap cm, boolean runningHere) {
    String v =
        cm.getMetadata().getAnnotations() == null
            ? null
            : cm.getMetadata().getAnnotations().get(CloudInstaller.VERSION_ANNOTATION);
    return "cloudcore is already installed in this cluster (ConfigMap "
        + NAMESPACE
        + "/"
        + CONFIGMAP
        + (v == null ? "" : ", KubeEdge " + v)
        + ", created "
        + cm.getMetadata().getCreationTimestamp()
        + "; cloudcore "
        + (runningHere ? "is running" : "is not running")
        + " on this machine)";
  }

  private <T> T usage(java.util.function.Supplier<T> s) {
    try {
      return s.get();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
    }
  }

  /** How long init waits for cloudcore's {@code /readyz} after it serves certificates. */
  static final Duration READY_WAIT = Duration.ofSeconds(60);

  /**
   * Prints where cloudcore's health and metrics are, and, when cloudcore is not ready within {@link
   * #READY_WAIT}, which of its checks fail (a warning: it may still get there).
   */
  private void reportReadiness(io.kedge.protocol.config.CloudCoreConfig config) {
    var monitor = config.commonConfig() == null ? null : config.commonConfig().monitorServer();
    if (monitor == null || monitor.bindAddress() == null || monitor.bindAddress().isBlank()) {
      return;
    }
    ReadyzProbe probe = new ReadyzProbe("cloudcore", monitor.bindAddress());
    env.out().println("  health:        curl '" + probe.url() + "'");
    env.out().println("  metrics:       curl " + probe.metricsUrl());
    ReadyzProbe.Answer a = probe.await(READY_WAIT);
    if (!a.ready()) {
      env.warn("cloudcore is not ready: " + a.describe());
    }
  }
}
