package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.message.Message;
import io.kedge.testkit.ApiserverAudit;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sharing and isolation at scale (issue 4, "Must show" 2 and 3): 100 nodes watching ConfigMaps in
 * their own namespaces cost the apiserver one ConfigMap watch, and each node gets only its own
 * events; a watch on a type that does not exist (or that cloudcore may not list) fails alone while
 * 1,000 other requests keep flowing.
 */
@WithControlPlane
class DynamicControllerScaleIT {
  private static final Logger LOG = LoggerFactory.getLogger(DynamicControllerScaleIT.class);
  static final int NODES = 100;
  static final String CLOUDCORE = "system:serviceaccount:kubeedge:cloudcore";

  @TempDir static Path tmp;

  static KubeClients cloudcore;
  static ClusterFixture fixture;
  static RecordingMessenger messenger;
  static DynamicController controller;
  static final List<String> namespaces = new ArrayList<>();
  static final List<String> tokens = new ArrayList<>();

  @BeforeAll
  static void setUp(ControlPlane plane, KubernetesClient admin) {
    cloudcore = ClusterFixture.cloudcore(plane, tmp);
    fixture = new ClusterFixture(admin);
    messenger = new RecordingMessenger();
    controller =
        new DynamicController(DynamicControllerOptions.defaults(), cloudcore, messenger, null);
    controller.start().join();
    for (int i = 0; i < NODES; i++) {
      String ns = fixture.namespace("scale-" + i);
      fixture.serviceAccount(ns, "app");
      fixture.grant(ns, "app", List.of("configmaps"), List.of("get", "list", "watch"));
      namespaces.add(ns);
    }
    for (int i = 0; i < NODES; i++) {
      tokens.add(fixture.token(fixture.pod(namespaces.get(i), "app", "app", node(i))));
    }
  }

  @AfterAll
  static void tearDown() {
    if (controller != null) {
      controller.close();
    }
    if (cloudcore != null) {
      cloudcore.close();
    }
    if (fixture != null) {
      fixture.close();
    }
  }

  static String node(int i) {
    return "scale-node-" + i;
  }

  @Test
  void hundredNodesShareOneConfigMapWatchAndSeeOnlyTheirEvents(
      ControlPlane plane, KubernetesClient admin) throws Exception {
    ApiserverMetrics metrics = new ApiserverMetrics(plane);
    ApiserverAudit audit = new ApiserverAudit(plane);
    assertThat(audit.openWatches(CLOUDCORE, "configmaps"))
        .as("cloudcore watches no ConfigMaps before the nodes ask")
        .isEmpty();
    int watchersBefore = metrics.configMapWatchers();
    int clusterWatchesBefore = metrics.clusterWideConfigMapWatches();
    LOG.info(
        "before: {} ConfigMap watchers, {} cluster-wide ConfigMap watches",
        watchersBefore,
        clusterWatchesBefore);

    List<CompletableFuture<SimulatedMetaServer.Reply>> replies = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      replies.add(
          new SimulatedMetaServer(node(i), controller, messenger)
              .sendAsync(
                  SimulatedMetaServer.kedge(
                      "GET",
                      "/api/v1/namespaces/" + namespaces.get(i) + "/configmaps?watch=true",
                      "",
                      "",
                      null,
                      tokens.get(i))));
    }
    for (CompletableFuture<SimulatedMetaServer.Reply> f : replies) {
      SimulatedMetaServer.Reply r = f.get(120, TimeUnit.SECONDS);
      assertThat(r.approved()).as(r.message()).isTrue();
    }
    assertThat(controller.watchCount()).isEqualTo(NODES);
    assertThat(controller.informedTypes()).contains("configmaps/v1");

    Waits.until(
        "the apiserver counts cloudcore's one ConfigMap watch",
        Duration.ofSeconds(30),
        () -> metrics.configMapWatchers() == watchersBefore + 1);
    assertThat(metrics.clusterWideConfigMapWatches()).isEqualTo(clusterWatchesBefore + 1);
    // the audit log names the watcher: exactly one ConfigMap watch is cloudcore's, cluster-wide
    Waits.until(
        "the audit log shows cloudcore's ConfigMap watch",
        Duration.ofSeconds(30),
        () -> audit.openWatches(CLOUDCORE, "configmaps").size() == 1);
    ApiserverAudit.Watch ccWatch = audit.openWatches(CLOUDCORE, "configmaps").get(0);
    LOG.info("cloudcore's ConfigMap watch at the apiserver: {}", ccWatch);
    assertThat(ccWatch.namespace()).as("one cluster-wide watch, not one per namespace").isEmpty();

    for (int i = 0; i < NODES; i++) {
      admin
          .configMaps()
          .inNamespace(namespaces.get(i))
          .resource(
              new ConfigMapBuilder()
                  .withNewMetadata()
                  .withName("for-" + node(i))
                  .endMetadata()
                  .addToData("n", Integer.toString(i))
                  .build())
          .create();
    }
    for (int i = 0; i < NODES; i++) {
      String expected = namespaces.get(i) + "/configmap/for-" + node(i);
      String n = node(i);
      Waits.until(
          n + " receives its ConfigMap",
          Duration.ofSeconds(60),
          () -> messenger.delivered(n).stream().anyMatch(m -> m.resource().equals(expected)));
    }
    for (int i = 0; i < NODES; i++) {
      String own = namespaces.get(i) + "/";
      List<Message> got = messenger.delivered(node(i));
      assertThat(got)
          .as("everything %s received is from its own namespace", node(i))
          .allSatisfy(m -> assertThat(m.resource()).startsWith(own));
      // its root CA ConfigMap (initial state) and its own ConfigMap, nothing else
      assertThat(got.stream().map(Message::resource).distinct())
          .containsExactlyInAnyOrder(
              own + "configmap/kube-root-ca.crt", own + "configmap/for-" + node(i));
    }
    assertThat(metrics.configMapWatchers()).isEqualTo(watchersBefore + 1);
    assertThat(audit.openWatches(CLOUDCORE, "configmaps")).hasSize(1);

    // when the last node lets go, cloudcore's watch ends too
    for (int i = 0; i < NODES; i++) {
      new SimulatedMetaServer(node(i), controller, messenger).sync(Map.of());
    }
    assertThat(controller.watchCount()).isZero();
    assertThat(controller.informedTypes()).doesNotContain("configmaps/v1");
    Waits.until(
        "cloudcore's ConfigMap watch is gone at the apiserver",
        Duration.ofSeconds(30),
        () -> metrics.configMapWatchers() == watchersBefore);
    Waits.until(
        "the audit log shows cloudcore's ConfigMap watch ended",
        Duration.ofSeconds(30),
        () -> audit.openWatches(CLOUDCORE, "configmaps").isEmpty());
  }

  @Test
  void aWatchOnAMissingTypeFailsAloneWhileThousandRequestsFlow(KubernetesClient admin)
      throws Exception {
    // a CRD that exists, that the pod may watch, but that cloudcore's RBAC does not cover
    CustomResourceDefinition crd =
        new CustomResourceDefinitionBuilder()
            .withNewMetadata()
            .withName("gadgets.test.kedge.io")
            .endMetadata()
            .withNewSpec()
            .withGroup("test.kedge.io")
            .withScope("Namespaced")
            .withNewNames()
            .withPlural("gadgets")
            .withSingular("gadget")
            .withKind("Gadget")
            .endNames()
            .addNewVersion()
            .withName("v1")
            .withServed(true)
            .withStorage(true)
            .withNewSchema()
            .withNewOpenAPIV3Schema()
            .withType("object")
            .withXKubernetesPreserveUnknownFields(true)
            .endOpenAPIV3Schema()
            .endSchema()
            .endVersion()
            .endSpec()
            .build();
    admin.apiextensions().v1().customResourceDefinitions().resource(crd).createOr(x -> x.update());
    Waits.until(
        "CRD gadgets served",
        Duration.ofSeconds(60),
        () -> admin.getApiResources("test.kedge.io/v1") != null);
    String ns0 = namespaces.get(0);
    admin
        .rbac()
        .roles()
        .inNamespace(ns0)
        .resource(
            new RoleBuilder()
                .withNewMetadata()
                .withName("gadgets")
                .endMetadata()
                .withRules(
                    new PolicyRuleBuilder()
                        .withApiGroups("test.kedge.io")
                        .withResources("gadgets")
                        .withVerbs("watch")
                        .build())
                .build())
        .create();
    admin
        .rbac()
        .roleBindings()
        .inNamespace(ns0)
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName("gadgets")
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", "gadgets")
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("app")
                .withNamespace(ns0)
                .endSubject()
                .build())
        .create();

    SimulatedMetaServer watcher = new SimulatedMetaServer(node(0), controller, messenger);
    CompletableFuture<SimulatedMetaServer.Reply> missing =
        watcher.sendAsync(
            SimulatedMetaServer.kedge(
                "GET",
                "/apis/nothere.example.com/v1/namespaces/" + ns0 + "/widgets?watch=true",
                "",
                "",
                null,
                tokens.get(0)));
    CompletableFuture<SimulatedMetaServer.Reply> unlistable =
        watcher.sendAsync(
            SimulatedMetaServer.kedge(
                "GET",
                "/apis/test.kedge.io/v1/namespaces/" + ns0 + "/gadgets?watch=true",
                "",
                "",
                null,
                tokens.get(0)));
    List<CompletableFuture<SimulatedMetaServer.Reply>> others = new ArrayList<>();
    for (int k = 0; k < 1000; k++) {
      int i = 1 + k % 20;
      others.add(
          new SimulatedMetaServer(node(i), controller, messenger)
              .sendAsync(
                  SimulatedMetaServer.kedge(
                      "GET",
                      "/api/v1/namespaces/" + namespaces.get(i) + "/configmaps/kube-root-ca.crt",
                      "",
                      "",
                      null,
                      tokens.get(i))));
    }
    int ok = 0;
    for (CompletableFuture<SimulatedMetaServer.Reply> f : others) {
      SimulatedMetaServer.Reply r = f.get(120, TimeUnit.SECONDS);
      assertThat(r.code()).as(r.message()).isEqualTo(200);
      ok++;
    }
    assertThat(ok).isEqualTo(1000);

    SimulatedMetaServer.Reply m = missing.get(60, TimeUnit.SECONDS);
    assertThat(m.approved()).isFalse();
    assertThat(m.code()).isEqualTo(404);
    assertThat(m.status().path("reason").asString()).isEqualTo("NotFound");

    SimulatedMetaServer.Reply u = unlistable.get(60, TimeUnit.SECONDS);
    assertThat(u.approved()).isFalse();
    assertThat(u.code()).isEqualTo(403);
    assertThat(u.message())
        .contains(
            "User \"system:serviceaccount:kubeedge:cloudcore\" cannot list resource \"gadgets\"");
    assertThat(controller.informedTypes()).doesNotContain("gadgets.test.kedge.io/v1");
    assertThat(controller.watchIds(node(0))).isEmpty();

    // and watches of other types still work afterwards
    var fine =
        watcher.http("GET", "/api/v1/namespaces/" + ns0 + "/configmaps?watch=true", tokens.get(0));
    assertThat(fine.approved()).as(fine.message()).isTrue();
    watcher.sync(Map.of());
  }
}
