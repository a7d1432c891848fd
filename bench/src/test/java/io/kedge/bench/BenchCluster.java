package io.kedge.bench;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.testkit.Waits;
import java.time.Duration;

/** Cluster objects the benchmarks set up: read rights, pods on edge nodes, their tokens. */
final class BenchCluster {
  private BenchCluster() {}

  /** Role {@code name} in {@code ns} (get, list, watch ConfigMaps), bound to {@code saNs/sa}. */
  static void configMapReader(
      KubernetesClient admin, String ns, String name, String saNs, String sa) {
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
                        .withVerbs("get", "list", "watch")
                        .build())
                .build())
        .create();
    admin
        .rbac()
        .roleBindings()
        .inNamespace(ns)
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", name)
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(sa)
                .withNamespace(saNs)
                .endSubject()
                .build())
        .create();
  }

  /**
   * A pod of ServiceAccount {@code sa} bound to {@code node}, tolerating everything. Retried: the
   * ServiceAccount admission plugin refuses pods until the account is fully set up.
   */
  static Pod pod(KubernetesClient admin, String ns, String name, String sa, String node) {
    Pod p =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .endMetadata()
            .withNewSpec()
            .withServiceAccountName(sa)
            .withNodeName(node)
            .withRestartPolicy("Never")
            .addNewToleration()
            .withOperator("Exists")
            .endToleration()
            .addNewContainer()
            .withName("c")
            .withImage("busybox")
            .withCommand("/bin/sleep", "3600")
            .endContainer()
            .endSpec()
            .build();
    Pod[] out = new Pod[1];
    Waits.until(
        "pod " + ns + "/" + name,
        Duration.ofSeconds(30),
        () -> {
          out[0] = admin.pods().inNamespace(ns).resource(p).create();
          return true;
        });
    return out[0];
  }

  /** A token of {@code p}'s ServiceAccount bound to {@code p}, valid for an hour. */
  static String boundToken(KubernetesClient admin, Pod p) {
    return admin
        .serviceAccounts()
        .inNamespace(p.getMetadata().getNamespace())
        .withName(p.getSpec().getServiceAccountName())
        .tokenRequest(
            new TokenRequestBuilder()
                .withNewSpec()
                .withExpirationSeconds(3600L)
                .withNewBoundObjectRef()
                .withApiVersion("v1")
                .withKind("Pod")
                .withName(p.getMetadata().getName())
                .withUid(p.getMetadata().getUid())
                .endBoundObjectRef()
                .endSpec()
                .build())
        .getStatus()
        .getToken();
  }
}
