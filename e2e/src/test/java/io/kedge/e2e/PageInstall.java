package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.config.ConfigLoader;
import io.kedge.testkit.Ports;
import io.kedge.testkit.Waits;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import tools.jackson.databind.node.ObjectNode;

/**
 * One cloud and one edge node installed with the real {@code bin/keadm} under a test directory,
 * with free ports, as KubeEdge's in-cluster config page does it; {@link #close} resets both (so no
 * process is left behind).
 */
final class PageInstall implements AutoCloseable {
  final ControlPlane plane;
  final KubernetesClient admin;
  final Path cloudRoot;
  final Path edgeRoot;
  final String node;
  final int hubPort = Ports.free();
  final int certPort = Ports.free();
  final int metaPort = Ports.free();
  private boolean initDone;
  private boolean joinDone;

  PageInstall(ControlPlane plane, Path dir, String node) {
    this.plane = plane;
    this.admin = plane.adminClient();
    this.cloudRoot = dir.resolve("cloud");
    this.edgeRoot = dir.resolve("edge");
    this.node = node;
  }

  String kubeconfig() {
    return plane.adminKubeconfig().toString();
  }

  /** {@code keadm init} with the page's arguments plus what a shared test machine needs. */
  Keadm.Result init(List<String> pageArgs) {
    List<String> args = new ArrayList<>(List.of("init"));
    args.addAll(pageArgs);
    args.addAll(
        List.of(
            "--kube-config",
            kubeconfig(),
            "--root-dir",
            cloudRoot.toString(),
            "--set",
            "cloudCore.modules.cloudHub.websocket.port="
                + hubPort
                + ",cloudCore.modules.cloudHub.https.port="
                + certPort));
    initDone = true;
    return Keadm.run(args).ok();
  }

  /** {@code kubectl edit cm cloudcore -n kubeedge}: GET, change cloudcore.yaml, PUT. */
  void editCloudcoreConfigMap(Consumer<ObjectNode> change) {
    var cm = admin.configMaps().inNamespace("kubeedge").withName("cloudcore");
    ConfigMap current = cm.get();
    ObjectNode yaml = (ObjectNode) ConfigLoader.parseYaml(current.getData().get("cloudcore.yaml"));
    change.accept(yaml);
    current.getData().put("cloudcore.yaml", ConfigLoader.toYaml(yaml));
    admin.configMaps().inNamespace("kubeedge").resource(current).update();
  }

  Keadm.Result join(List<String> extra) {
    String token = Keadm.run("gettoken", "--kube-config", kubeconfig()).ok().out().strip();
    List<String> args =
        new ArrayList<>(
            List.of(
                "join",
                "--cloudcore-ipport=127.0.0.1:" + hubPort,
                "--certport=" + certPort,
                "--token=" + token,
                "--edgenode-name=" + node,
                "--kubeedge-version=v1.17.0",
                "--root-dir",
                edgeRoot.toString(),
                // One machine, several edge nodes: each its own MetaServer address and port.
                "--set",
                "modules.metaManager.metaServer.server=127.0.0.1:"
                    + metaPort
                    + ",modules.metaManager.metaServer.dummyServer=127.0.0.2:"
                    + metaPort));
    args.addAll(extra);
    joinDone = true;
    return Keadm.run(args).ok();
  }

  Path edgecoreYaml() {
    return edgeRoot.resolve("etc/kubeedge/config/edgecore.yaml");
  }

  /** {@code vi /etc/kubeedge/config/edgecore.yaml}, as a user edits it (keys by path). */
  void editEdgecoreYaml(Consumer<ObjectNode> change) {
    try {
      ObjectNode yaml = (ObjectNode) ConfigLoader.parseYaml(Files.readString(edgecoreYaml()));
      change.accept(yaml);
      Files.writeString(edgecoreYaml(), ConfigLoader.toYaml(yaml));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void restartCloudcore() {
    Keadm.run("restart", "cloudcore", "--root-dir", cloudRoot.toString()).ok();
  }

  void restartEdgecore() {
    Keadm.run("restart", "edgecore", "--root-dir", edgeRoot.toString()).ok();
  }

  void awaitNodeReady() {
    Waits.until(
        "node " + node + " Ready",
        Duration.ofMinutes(3),
        () -> {
          Node n = admin.nodes().withName(node).get();
          return n != null
              && n.getStatus().getConditions().stream()
                  .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
        });
  }

  /** Namespace, ConfigMap, ServiceAccount {@code reader}; with {@code grant}, a Role to list. */
  void demoNamespace(String ns, boolean grant) {
    readerNamespace(admin, ns, grant);
  }

  /**
   * Namespace {@code ns} with ConfigMap {@code greeting} and ServiceAccount {@code reader}, which
   * may read ConfigMaps when {@code grant}.
   */
  static void readerNamespace(KubernetesClient admin, String ns, boolean grant) {
    readerAccount(admin, ns, grant);
    admin
        .configMaps()
        .inNamespace(ns)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("greeting")
                .endMetadata()
                .withData(Map.of("message", "hello"))
                .build())
        .serverSideApply();
  }

  /**
   * Namespace {@code ns} with ServiceAccount reader, and — when {@code grant} — its right to read
   * ConfigMaps there.
   */
  static void readerAccount(KubernetesClient admin, String ns, boolean grant) {
    admin
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .serverSideApply();
    admin
        .serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("reader").endMetadata().build())
        .serverSideApply();
    if (grant) {
      grantReader(admin, ns);
    }
  }

  void grantReader(String ns) {
    grantReader(admin, ns);
  }

  /** Role {@code configmap-reader} (get, list, watch ConfigMaps) bound to ServiceAccount reader. */
  static void grantReader(KubernetesClient admin, String ns) {
    admin
        .rbac()
        .roles()
        .inNamespace(ns)
        .resource(
            new RoleBuilder()
                .withNewMetadata()
                .withName("configmap-reader")
                .endMetadata()
                .withRules(
                    new PolicyRuleBuilder()
                        .withApiGroups("")
                        .withResources("configmaps")
                        .withVerbs("get", "list", "watch")
                        .build())
                .build())
        .serverSideApply();
    bindConfigMapReader(admin, ns, "reader", "reader");
  }

  /**
   * RoleBinding {@code name} in {@code ns}: ServiceAccount {@code sa} gets Role configmap-reader.
   */
  static void bindConfigMapReader(KubernetesClient admin, String ns, String name, String sa) {
    admin
        .rbac()
        .roleBindings()
        .inNamespace(ns)
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("Role")
                .withName("configmap-reader")
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(sa)
                .withNamespace(ns)
                .endSubject()
                .build())
        .serverSideApply();
  }

  /**
   * A pod's in-cluster client: python3-kubernetes, {@code load_incluster_config()}, then a list of
   * ConfigMaps (or of Deployments, argument {@code deployments}) in the pod's namespace.
   */
  static final String CLIENT =
      String.join(
          "\n",
          "import sys",
          "from kubernetes import client, config",
          "config.load_incluster_config()",
          "ns = open('/var/run/secrets/kubernetes.io/serviceaccount/namespace').read().strip()",
          "what = sys.argv[1] if len(sys.argv) > 1 else 'configmaps'",
          "try:",
          "    if what == 'deployments':",
          "        items = client.AppsV1Api().list_namespaced_deployment(ns).items",
          "    else:",
          "        items = client.CoreV1Api().list_namespaced_config_map(ns).items",
          "    print('read', what, sorted(i.metadata.name for i in items), flush=True)",
          "except client.exceptions.ApiException as e:",
          "    print('status', e.status, e.body, flush=True)",
          "    sys.exit(1)",
          "");

  Outcome runClient(String ns, String name) {
    return runClient(ns, name, "configmaps");
  }

  /** Runs the client once as a pod on the edge node; returns how it ended and its output. */
  Outcome runClient(String ns, String name, String what) {
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(ns)
            .endMetadata()
            .withNewSpec()
            .withNodeName(node)
            .withServiceAccountName("reader")
            .withRestartPolicy("Never")
            .withTolerations(
                new TolerationBuilder()
                    .withKey("node.kubernetes.io/unreachable")
                    .withOperator("Exists")
                    .withEffect("NoExecute")
                    .build())
            .addNewContainer()
            .withName("client")
            .withImage("python:3")
            .withCommand("/usr/bin/python3", "-u", "-c", CLIENT, what)
            .endContainer()
            .endSpec()
            .build();
    admin.pods().inNamespace(ns).resource(pod).create();
    Pod[] last = {null};
    Waits.until(
        "pod " + ns + "/" + name + " finished",
        Duration.ofMinutes(3),
        () -> {
          last[0] = admin.pods().inNamespace(ns).withName(name).get();
          String phase = last[0].getStatus() == null ? null : last[0].getStatus().getPhase();
          return "Succeeded".equals(phase) || "Failed".equals(phase);
        });
    String out = podLog(last[0].getMetadata().getUid()).orElse("");
    if (out.isEmpty()) {
      // nothing ran: what the edge reported is the explanation
      out = "(no output) status: " + last[0].getStatus();
    }
    if ("Failed".equals(last[0].getStatus().getPhase())) {
      out += "\n--- edgecore log (TLS, MetaServer, edged):\n" + edgecoreLogTail();
    }
    return new Outcome(last[0].getStatus().getPhase(), out);
  }

  String edgecoreLogTail() {
    try {
      List<String> lines =
          Files.readAllLines(edgeRoot.resolve("var/log/kubeedge/edgecore.log")).stream()
              .filter(
                  l ->
                      l.contains("ServingCertificates")
                          || l.contains("MetaServer")
                          || l.contains("edged")
                          || l.contains("EdgeCore"))
              .toList();
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return e.toString();
    }
  }

  /**
   * Lines of cloudcore's log where the apiserver refused one of cloudcore's own calls (its
   * ServiceAccount kubeedge/cloudcore): RBAC gaps of the shipped ClusterRoles.
   */
  List<String> cloudcoreForbidden() {
    try {
      return Files.readAllLines(cloudRoot.resolve("var/log/kubeedge/cloudcore.log")).stream()
          .filter(
              l ->
                  l.contains("system:serviceaccount:kubeedge:cloudcore")
                      && l.toLowerCase(java.util.Locale.ROOT).contains("forbidden"))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  record Outcome(String phase, String output) {
    Outcome succeeded() {
      assertThat(phase).as(output).isEqualTo("Succeeded");
      return this;
    }
  }

  /** Edged keeps a container's output in {@code <pods dir>/<pod uid>/logs/<container>/<n>.log}. */
  Optional<String> podLog(String uid) {
    try (Stream<Path> s = Files.walk(edgeRoot)) {
      Optional<Path> f =
          s.filter(
                  p -> p.toString().contains("/" + uid + "/logs/") && p.toString().endsWith(".log"))
              .findFirst();
      return f.isPresent()
          ? Optional.of(Files.readString(f.get(), StandardCharsets.UTF_8))
          : Optional.empty();
    } catch (IOException | UncheckedIOException e) {
      return Optional.empty();
    }
  }

  @Override
  public void close() {
    if (joinDone) {
      Keadm.run("reset", "--force", "--root-dir", edgeRoot.toString());
    }
    if (initDone) {
      Keadm.run(
          "reset", "--force", "--root-dir", cloudRoot.toString(), "--kube-config", kubeconfig());
    }
    if (admin.nodes().withName(node).get() != null) {
      admin.nodes().withName(node).delete();
    }
  }
}
