package io.kedge.cloud.dynamiccontroller;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.controlplane.ControlPlane;
import io.kedge.controlplane.ControlPlaneOptions;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.testkit.KedgeManifests;
import io.kedge.testkit.Waits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Objects the DynamicController tests need in the real cluster, made with admin rights; closing it
 * deletes the namespaces and nodes it made, so that later test classes on the same control plane do
 * not inherit them.
 */
final class ClusterFixture implements AutoCloseable {
  private final KubernetesClient admin;
  private final List<String> namespaces = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final List<String> nodes = new java.util.concurrent.CopyOnWriteArrayList<>();

  ClusterFixture(KubernetesClient admin) {
    this.admin = admin;
  }

  @Override
  public void close() {
    for (String ns : namespaces) {
      admin.namespaces().withName(ns).delete();
    }
    for (String n : nodes) {
      admin.nodes().withName(n).delete();
    }
  }

  /** cloudcore's clients: ServiceAccount kubeedge/cloudcore with exactly the shipped RBAC. */
  static KubeClients cloudcore(ControlPlane plane, Path dir) {
    Path home = ControlPlaneOptions.kedgeHomeFromEnvironment();
    Path kc = KedgeManifests.cloudcoreKubeconfig(plane, home, dir.resolve("cloudcore.kubeconfig"));
    return KubeClients.create(
        new CloudCoreConfig.KubeApiConfig("", kc.toString(), "application/json", 100, 200));
  }

  String namespace(String prefix) {
    String ns = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    admin
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    namespaces.add(ns);
    return ns;
  }

  void serviceAccount(String ns, String name) {
    admin
        .serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
  }

  /**
   * A Role granting {@code verbs} on {@code resources} (core group), bound to {@code sa}; returns
   * once the apiserver's authorizer allows the first verb on the first resource (it follows RBAC
   * through an informer of its own, which can lag behind the write).
   */
  void grant(String ns, String sa, List<String> resources, List<String> verbs) {
    String name = sa + "-" + String.join("-", resources);
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
                        .withResources(resources)
                        .withVerbs(verbs)
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
                .withNamespace(ns)
                .endSubject()
                .build())
        .create();
    String user = "system:serviceaccount:" + ns + ":" + sa;
    Waits.until(
        user + " may " + verbs.get(0) + " " + resources.get(0),
        Duration.ofSeconds(30),
        () -> allowed(user, ns, verbs.get(0), resources.get(0)));
  }

  /** Whether the apiserver's authorizer lets {@code user} (a ServiceAccount) do this. */
  boolean allowed(String user, String ns, String verb, String resource) {
    var review =
        new SubjectAccessReviewBuilder()
            .withNewSpec()
            .withUser(user)
            .withNewResourceAttributes()
            .withVerb(verb)
            .withResource(resource)
            .withNamespace(ns)
            .endResourceAttributes()
            .endSpec()
            .build();
    var status = admin.authorization().v1().subjectAccessReview().create(review).getStatus();
    return status != null && Boolean.TRUE.equals(status.getAllowed());
  }

  void configMap(String ns, String name, Map<String, String> data) {
    admin
        .configMaps()
        .inNamespace(ns)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withData(data)
                .build())
        .create();
  }

  /**
   * A pod bound to {@code node} (no kubelet runs it; binding is what matters here). The Node object
   * is created too, or the pod garbage collector would delete the pod as an orphan; the pod
   * tolerates every taint, so that the node never becoming Ready does not evict it.
   */
  Pod pod(String ns, String name, String sa, String node) {
    node(node);
    Pod p =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .endMetadata()
            .withNewSpec()
            .withServiceAccountName(sa)
            .withNodeName(node)
            .addNewToleration()
            .withOperator("Exists")
            .endToleration()
            .addNewContainer()
            .withName("c")
            .withImage("busybox")
            .endContainer()
            .endSpec()
            .build();
    // The ServiceAccount admission plugin may not know a new ServiceAccount for a moment.
    Pod[] created = new Pod[1];
    Waits.until(
        "pod " + ns + "/" + name + " created",
        Duration.ofSeconds(30),
        () -> {
          created[0] = admin.pods().inNamespace(ns).resource(p).create();
          return true;
        });
    return created[0];
  }

  void node(String node) {
    if (admin.nodes().withName(node).get() == null) {
      try {
        admin
            .nodes()
            .resource(new NodeBuilder().withNewMetadata().withName(node).endMetadata().build())
            .create();
        nodes.add(node);
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
      }
    }
  }

  /** A token bound to {@code pod} (as the kubelet gets one for the pod's projected volume). */
  String token(Pod pod) {
    TokenRequest tr =
        new TokenRequestBuilder()
            .withNewSpec()
            .withExpirationSeconds(3600L)
            .withNewBoundObjectRef()
            .withApiVersion("v1")
            .withKind("Pod")
            .withName(pod.getMetadata().getName())
            .withUid(pod.getMetadata().getUid())
            .endBoundObjectRef()
            .endSpec()
            .build();
    return admin
        .serviceAccounts()
        .inNamespace(pod.getMetadata().getNamespace())
        .withName(pod.getSpec().getServiceAccountName())
        .tokenRequest(tr)
        .getStatus()
        .getToken();
  }

  void deletePodNow(Pod pod) {
    admin
        .pods()
        .inNamespace(pod.getMetadata().getNamespace())
        .withName(pod.getMetadata().getName())
        .withGracePeriod(0)
        .delete();
    Waits.until(
        "pod " + pod.getMetadata().getName() + " gone",
        Duration.ofSeconds(60),
        () ->
            admin
                    .pods()
                    .inNamespace(pod.getMetadata().getNamespace())
                    .withName(pod.getMetadata().getName())
                    .get()
                == null);
  }
}
