package io.kedge.keadm;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The quickstart's demo: namespace {@code kedge-demo} with a ConfigMap, a ServiceAccount that may
 * list ConfigMaps there, and a pod on the edge node whose Python client uses in-cluster config
 * unchanged and prints what it reads every few seconds.
 */
final class DemoWorkload {
  static final String NAMESPACE = QuickstartCommand.DEMO_NAMESPACE;
  static final String POD = QuickstartCommand.DEMO_POD;
  static final String SERVICE_ACCOUNT = "demo-reader";

  /** The pod's program: python3-kubernetes with {@code load_incluster_config()}, nothing else. */
  static final String SCRIPT =
      String.join(
          "\n",
          "import datetime, time",
          "from kubernetes import client, config",
          "config.load_incluster_config()",
          "api = client.CoreV1Api()",
          "ns = open('/var/run/secrets/kubernetes.io/serviceaccount/namespace').read().strip()",
          "while True:",
          "    now = datetime.datetime.now(datetime.timezone.utc).strftime('%H:%M:%S')",
          "    try:",
          "        items = api.list_namespaced_config_map(ns).items",
          "        shown = ', '.join(c.metadata.name + ('' if c.metadata.name == 'kube-root-ca.crt'",
          "                          else '=' + str(c.data or {})) for c in items)",
          "        print(now, 'read', len(items), 'ConfigMaps in', ns + ':', shown, flush=True)",
          "    except Exception as e:",
          "        print(now, 'error:', str(e).splitlines()[0], flush=True)",
          "    time.sleep(5)",
          "");

  private final KubernetesClient admin;
  private final String node;

  DemoWorkload(KubernetesClient admin, String node) {
    this.admin = admin;
    this.node = node;
  }

  /** Edge pods stay bound to their node while it is unreachable (offline is the point). */
  static List<Toleration> offlineTolerations() {
    return List.of(
        new TolerationBuilder()
            .withKey("node.kubernetes.io/unreachable")
            .withOperator("Exists")
            .withEffect("NoExecute")
            .build(),
        new TolerationBuilder()
            .withKey("node.kubernetes.io/not-ready")
            .withOperator("Exists")
            .withEffect("NoExecute")
            .build());
  }

  static Pod pod(String node) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(POD)
        .withNamespace(NAMESPACE)
        .withLabels(Map.of("app", POD))
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .withServiceAccountName(SERVICE_ACCOUNT)
        .withTolerations(offlineTolerations())
        .addNewContainer()
        .withName("client")
        .withImage("python:3")
        .withCommand("/usr/bin/python3", "-u", "-c", SCRIPT)
        .endContainer()
        .endSpec()
        .build();
  }

  void apply() {
    admin
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
        .serverSideApply();
    admin
        .configMaps()
        .inNamespace(NAMESPACE)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("greeting")
                .withNamespace(NAMESPACE)
                .endMetadata()
                .withData(Map.of("message", "hello from the cloud"))
                .build())
        .serverSideApply();
    admin
        .serviceAccounts()
        .inNamespace(NAMESPACE)
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName(SERVICE_ACCOUNT)
                .withNamespace(NAMESPACE)
                .endMetadata()
                .build())
        .serverSideApply();
    admin
        .rbac()
        .roles()
        .inNamespace(NAMESPACE)
        .resource(
            new RoleBuilder()
                .withNewMetadata()
                .withName("configmap-reader")
                .withNamespace(NAMESPACE)
                .endMetadata()
                .withRules(
                    new PolicyRuleBuilder()
                        .withApiGroups("")
                        .withResources("configmaps")
                        .withVerbs("get", "list", "watch")
                        .build())
                .build())
        .serverSideApply();
    admin
        .rbac()
        .roleBindings()
        .inNamespace(NAMESPACE)
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName("demo-reader-reads-configmaps")
                .withNamespace(NAMESPACE)
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("Role")
                .withName("configmap-reader")
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(SERVICE_ACCOUNT)
                .withNamespace(NAMESPACE)
                .endSubject()
                .build())
        .serverSideApply();
    // The ServiceAccount's token controller must have run before the pod is admitted.
    admin.pods().inNamespace(NAMESPACE).resource(pod(node)).serverSideApply();
  }

  Pod awaitRunning(Duration atMost, KeadmEnvironment env) {
    Pod[] last = {null};
    new QuickstartCommand(env)
        .waitFor(
            "pod " + NAMESPACE + "/" + POD + " to run on " + node,
            atMost,
            () -> {
              last[0] = admin.pods().inNamespace(NAMESPACE).withName(POD).get();
              return last[0] != null
                  && last[0].getStatus() != null
                  && "Running".equals(last[0].getStatus().getPhase());
            });
    return last[0];
  }
}
