package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.kedge.cloud.kube.KubeClients;
import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.Sources;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Watches: initial state and changes with selectors, as KubeEdge edges receive them; {@code
 * watchapp/sync}; the end of a watch when its pod goes, when RBAC no longer allows it, and when its
 * node stays away; node identity for tokenless watches.
 */
@WithControlPlane
class DynamicControllerWatchIT {
  @TempDir static Path tmp;

  static KubeClients cloudcore;
  static ClusterFixture fixture;
  static RecordingMessenger messenger;
  static DynamicController controller;
  static String ns;
  static String token;

  @BeforeAll
  static void setUp(ControlPlane plane, KubernetesClient admin) {
    cloudcore = ClusterFixture.cloudcore(plane, tmp);
    fixture = new ClusterFixture(admin);
    messenger = new RecordingMessenger();
    controller =
        new DynamicController(DynamicControllerOptions.defaults(), cloudcore, messenger, null);
    controller.start().join();
    ns = fixture.namespace("watch");
    fixture.serviceAccount(ns, "app");
    fixture.grant(ns, "app", List.of("configmaps"), List.of("get", "list", "watch"));
    token = fixture.token(fixture.pod(ns, "app", "app", "edge-w"));
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

  static List<Message> deliveredFor(String node, String resourcePrefix) {
    return messenger.delivered(node).stream()
        .filter(m -> m.resource().startsWith(resourcePrefix))
        .toList();
  }

  static void createCm(KubernetesClient admin, String ns, String name, String app) {
    admin
        .configMaps()
        .inNamespace(ns)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName(name)
                .addToLabels("app", app)
                .endMetadata()
                .addToData("v", "1")
                .build())
        .create();
  }

  @Test
  void initialStateThenChangesFilteredBySelector(KubernetesClient admin) {
    createCm(admin, ns, "web-1", "web");
    createCm(admin, ns, "db-1", "db");
    SimulatedMetaServer e = new SimulatedMetaServer("edge-w", controller, messenger);
    var r =
        e.http(
            "GET",
            "/api/v1/namespaces/" + ns + "/configmaps?watch=true&labelSelector=app%3Dweb",
            token);
    assertThat(r.approved()).as(r.message()).isTrue();
    assertThat(r.code()).isEqualTo(200);

    // initial state: only the matching object, as an insert with its resourceVersion
    List<Message> initial = deliveredFor("edge-w", ns + "/configmap/");
    assertThat(initial).extracting(Message::resource).containsExactly(ns + "/configmap/web-1");
    Message first = initial.get(0);
    assertThat(first.operation()).isEqualTo(Operations.INSERT);
    assertThat(first.source()).isEqualTo(Sources.DYNAMIC_CONTROLLER);
    assertThat(first.group()).isEqualTo(Sources.GROUP_RESOURCE);
    assertThat(first.header().resourceVersion())
        .isEqualTo(first.content().at("/metadata/resourceVersion").asString())
        .isNotEmpty();
    assertThat(first.content().path("kind").asString()).isEqualTo("ConfigMap");
    assertThat(first.content().path("apiVersion").asString()).isEqualTo("v1");

    // changes
    createCm(admin, ns, "web-2", "web");
    admin
        .configMaps()
        .inNamespace(ns)
        .withName("web-2")
        .edit(
            c -> {
              c.getData().put("v", "2");
              return c;
            });
    admin
        .configMaps()
        .inNamespace(ns)
        .withName("db-1")
        .edit(
            c -> {
              c.getMetadata().getLabels().put("app", "web"); // now matches
              return c;
            });
    admin
        .configMaps()
        .inNamespace(ns)
        .withName("web-1")
        .edit(
            c -> {
              c.getMetadata().getLabels().put("app", "other"); // no longer matches
              return c;
            });
    admin.configMaps().inNamespace(ns).withName("web-2").delete();
    Waits.until(
        "changes delivered",
        Duration.ofSeconds(30),
        () -> deliveredFor("edge-w", ns + "/configmap/").size() >= 6);
    List<String> seen =
        deliveredFor("edge-w", ns + "/configmap/").stream()
            .skip(1)
            .map(m -> m.operation() + " " + m.resource().substring(ns.length() + 11))
            .toList();
    assertThat(seen)
        .containsExactly(
            "insert web-2", "update web-2", "insert db-1", "delete web-1", "delete web-2");

    // the watch ends with watchapp/sync leaving it out
    assertThat(controller.watchIds("edge-w")).contains(r.app().id());
    JsonNode failed = e.sync(Map.of());
    assertThat(failed.size()).isZero();
    assertThat(controller.watchIds("edge-w")).isEmpty();
    int before = messenger.delivered("edge-w").size();
    createCm(admin, ns, "web-3", "web");
    createCm(admin, ns, "after", "other");
    // a marker for "events have been processed": another watch (new id) sees "after"
    var marker =
        e.http(
            "GET",
            "/api/v1/namespaces/" + ns + "/configmaps?watch=1&fieldSelector=metadata.name%3Dafter",
            token);
    assertThat(marker.approved()).isTrue();
    Waits.until(
        "marker delivered",
        Duration.ofSeconds(30),
        () -> !deliveredFor("edge-w", ns + "/configmap/after").isEmpty());
    assertThat(deliveredFor("edge-w", ns + "/configmap/web-3")).isEmpty();
    assertThat(messenger.delivered("edge-w").size()).isGreaterThan(before);
    e.sync(Map.of());
  }

  @Test
  void aResumedWatchGetsTheApiserversOwnEventsSinceItsVersion(KubernetesClient admin)
      throws Exception {
    // a node of its own, so that only this test's watches deliver to it
    String token = fixture.token(fixture.pod(ns, "app-r", "app", "edge-r"));
    SimulatedMetaServer e = new SimulatedMetaServer("edge-r", controller, messenger);
    createCm(admin, ns, "r-a", "resume");
    String from =
        admin.configMaps().inNamespace(ns).withName("r-a").get().getMetadata().getResourceVersion();
    // the reference: a watch held directly on the apiserver from the same version
    List<String> direct = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (var directWatch =
        admin
            .configMaps()
            .inNamespace(ns)
            .withLabel("app", "resume")
            .watch(
                new ListOptionsBuilder().withResourceVersion(from).build(),
                new Watcher<ConfigMap>() {
                  @Override
                  public void eventReceived(Action action, ConfigMap c) {
                    direct.add(
                        action.name()
                            + " "
                            + c.getMetadata().getName()
                            + "@"
                            + c.getMetadata().getResourceVersion());
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                })) {
      admin
          .configMaps()
          .inNamespace(ns)
          .withName("r-a")
          .edit(
              c -> {
                c.getData().put("v", "2");
                return c;
              });
      createCm(admin, ns, "r-b", "resume");
      admin
          .configMaps()
          .inNamespace(ns)
          .withName("r-b")
          .edit(
              c -> {
                c.getData().put("v", "2");
                return c;
              });
      admin.configMaps().inNamespace(ns).withName("r-a").delete();
      createCm(admin, ns, "r-c", "resume");
      Waits.until(
          "the direct watch saw 5 changes", Duration.ofSeconds(30), () -> direct.size() >= 5);

      var r =
          e.http(
              "GET",
              "/api/v1/namespaces/"
                  + ns
                  + "/configmaps?watch=true&labelSelector=app%3Dresume&resourceVersion="
                  + from,
              token);
      assertThat(r.approved()).as(r.message()).isTrue();
      long upTo = Long.parseLong(r.json().path("resourceVersion").asString());
      String last =
          admin
              .configMaps()
              .inNamespace(ns)
              .withName("r-c")
              .get()
              .getMetadata()
              .getResourceVersion();
      assertThat(upTo).isGreaterThanOrEqualTo(Long.parseLong(last));
      List<String> replayed =
          deliveredFor("edge-r", ns + "/configmap/r-").stream()
              .map(
                  m ->
                      m.operation()
                          + " "
                          + m.content().at("/metadata/name").asString()
                          + "@"
                          + m.header().resourceVersion())
              .toList();
      // the apiserver's own events, as insert/update/delete with their versions, in order
      List<String> expected =
          direct.stream()
              .map(
                  d ->
                      d.replace("ADDED ", "insert ")
                          .replace("MODIFIED ", "update ")
                          .replace("DELETED ", "delete "))
              .toList();
      assertThat(replayed).containsExactlyElementsOf(expected);
      assertThat(replayed.get(3)).startsWith("delete r-a@");

      // afterwards the shared informer's changes follow, each once
      admin
          .configMaps()
          .inNamespace(ns)
          .withName("r-c")
          .edit(
              c -> {
                c.getData().put("v", "2");
                return c;
              });
      Waits.until(
          "the change after the resume",
          Duration.ofSeconds(30),
          () -> deliveredFor("edge-r", ns + "/configmap/r-c").size() >= 2);
      Thread.sleep(500);
      assertThat(deliveredFor("edge-r", ns + "/configmap/r-c"))
          .extracting(Message::operation)
          .containsExactly(Operations.INSERT, Operations.UPDATE);

      // a version older than the apiserver's watch cache: 410 Expired, no watch left behind
      // (a custom resource's watch cache starts when its CRD is established, well after 1)
      admin
          .rbac()
          .roles()
          .inNamespace(ns)
          .resource(
              new io.fabric8.kubernetes.api.model.rbac.RoleBuilder()
                  .withNewMetadata()
                  .withName("app-objectsyncs")
                  .endMetadata()
                  .addNewRule()
                  .withApiGroups("reliablesyncs.kubeedge.io")
                  .withResources("objectsyncs")
                  .withVerbs("get", "list", "watch")
                  .endRule()
                  .build())
          .serverSideApply();
      admin
          .rbac()
          .roleBindings()
          .inNamespace(ns)
          .resource(
              new io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder()
                  .withNewMetadata()
                  .withName("app-objectsyncs")
                  .endMetadata()
                  .withNewRoleRef("rbac.authorization.k8s.io", "Role", "app-objectsyncs")
                  .addNewSubject()
                  .withKind("ServiceAccount")
                  .withName("app")
                  .withNamespace(ns)
                  .endSubject()
                  .build())
          .serverSideApply();
      String objectSyncs =
          "/apis/reliablesyncs.kubeedge.io/v1alpha1/namespaces/" + ns + "/objectsyncs?watch=true";
      Waits.until(
          "the pod may watch objectsyncs",
          Duration.ofSeconds(30),
          () -> e.http("GET", objectSyncs, token).approved());
      var expired = e.http("GET", objectSyncs + "&resourceVersion=1", token);
      assertThat(expired.approved()).isFalse();
      assertThat(expired.code()).isEqualTo(410);
      assertThat(expired.status().path("reason").asString()).isEqualTo("Expired");
      assertThat(controller.watchIds("edge-r")).contains(r.app().id());

      // watchapp/sync resumes too, and reports where the resumed watch stands
      Application again =
          SimulatedMetaServer.kedge(
                  "GET",
                  "/api/v1/namespaces/"
                      + ns
                      + "/configmaps?watch=true&labelSelector=app%3Dresume&resourceVersion="
                      + upTo,
                  "",
                  "",
                  null,
                  token)
              .withId(r.app().id());
      JsonNode answers = e.sync(Map.of(r.app().id(), again));
      assertThat(answers.at("/" + r.app().id() + "/Kedge/code").asInt()).isEqualTo(200);
      assertThat(answers.path(r.app().id()).path("Status").asString()).isEqualTo("Approved");
      assertThat(controller.watchIds("edge-r")).containsExactly(r.app().id());
      e.sync(Map.of());
    }
  }

  /** As the node ({@code tokenlessIdentity: node}), so that a watch can be forbidden. */
  @Test
  void watchappSyncAddsRemovesAndReportsFailures() {
    try (DynamicController asNode =
        new DynamicController(
            DynamicControllerOptions.defaults()
                .withIdentity(
                    DynamicControllerOptions.Identity.POD, DynamicControllerOptions.Tokenless.NODE),
            cloudcore,
            messenger,
            null)) {
      asNode.start().join();
      watchappSync(asNode, new SimulatedMetaServer("edge-s", asNode, messenger));
    }
  }

  private void watchappSync(DynamicController controller, SimulatedMetaServer e) {
    Application keep =
        SimulatedMetaServer.kubeEdgeApp(
            "watch", "/core/v1/services/default/null", "{\"watch\":true}", null, "");
    Application drop =
        SimulatedMetaServer.kubeEdgeApp(
            "watch", "/core/v1/nodes/null/null", "{\"watch\":true}", null, "");
    assertThat(e.send(keep).approved()).isTrue();
    assertThat(e.send(drop).approved()).isTrue();
    assertThat(controller.watchIds("edge-s")).containsExactlyInAnyOrder(keep.id(), drop.id());

    Application added =
        SimulatedMetaServer.kubeEdgeApp(
            "watch", "/core/v1/pods/null/null", "{\"watch\":true}", null, "");
    Application missing =
        SimulatedMetaServer.kubeEdgeApp(
            "watch", "/nothere.example.com/v1/widgets/null/null", "{\"watch\":true}", null, "");
    Application forbidden =
        SimulatedMetaServer.kubeEdgeApp(
            "watch", "/core/v1/secrets/" + ns + "/null", "{\"watch\":true}", null, "");
    JsonNode failed =
        e.sync(
            Map.of(
                keep.id(),
                keep,
                added.id(),
                added,
                missing.id(),
                missing,
                forbidden.id(),
                forbidden));
    assertThat(controller.watchIds("edge-s")).containsExactlyInAnyOrder(keep.id(), added.id());
    assertThat(failed.propertyNames()).containsExactlyInAnyOrder(missing.id(), forbidden.id());
    assertThat(failed.path(missing.id()).path("Status").asString()).isEqualTo("Rejected");
    assertThat(failed.at("/" + missing.id() + "/Error/ErrStatus/code").asInt()).isEqualTo(404);
    assertThat(failed.at("/" + forbidden.id() + "/Error/ErrStatus/code").asInt()).isEqualTo(403);
    assertThat(failed.at("/" + forbidden.id() + "/Error/ErrStatus/message").asString())
        .contains("User \"system:node:edge-s\" cannot watch resource \"secrets\"");
    e.sync(Map.of());
    assertThat(controller.watchIds("edge-s")).isEmpty();
  }

  @Test
  void aPodWithoutWatchRightsIsForbidden(KubernetesClient admin) {
    fixture.serviceAccount(ns, "nowatch");
    String t = fixture.token(fixture.pod(ns, "nowatch", "nowatch", "edge-w"));
    var r =
        new SimulatedMetaServer("edge-w", controller, messenger)
            .http("GET", "/api/v1/namespaces/" + ns + "/configmaps?watch=true", t);
    assertThat(r.approved()).isFalse();
    assertThat(r.code()).isEqualTo(403);
    assertThat(r.message())
        .isEqualTo(
            "configmaps is forbidden: User \"system:serviceaccount:"
                + ns
                + ":nowatch\" cannot watch resource \"configmaps\" in API group \"\" in the namespace \""
                + ns
                + "\"");
  }

  @Test
  void aWatchAskedForAgainAndRefusedDoesNotGoOnAsBefore(KubernetesClient admin) {
    fixture.serviceAccount(ns, "nowatch-again");
    String denied = fixture.token(fixture.pod(ns, "nowatch-again", "nowatch-again", "edge-again"));
    String allowed = fixture.token(fixture.pod(ns, "app-again", "app", "edge-again"));
    SimulatedMetaServer e = new SimulatedMetaServer("edge-again", controller, messenger);
    String path = "/api/v1/namespaces/" + ns + "/configmaps?watch=true";
    Application first = SimulatedMetaServer.kedge("GET", path, "", "", null, allowed);
    assertThat(e.send(first).approved()).isTrue();
    assertThat(controller.watchIds("edge-again")).containsExactly(first.id());
    // the same watch asked for again (as after a reconnect) with a token that may not watch
    Application again =
        SimulatedMetaServer.kedge("GET", path, "", "", null, denied).withId(first.id());
    assertThat(e.send(again).code()).isEqualTo(403);
    assertThat(controller.watchIds("edge-again")).as("not left running as before").isEmpty();
  }

  @Test
  void theWatchEndsWhenItsPodIsDeleted(KubernetesClient admin) {
    Pod p = fixture.pod(ns, "short-lived", "app", "edge-p");
    String t = fixture.token(p);
    SimulatedMetaServer e = new SimulatedMetaServer("edge-p", controller, messenger);
    var r = e.http("GET", "/api/v1/namespaces/" + ns + "/configmaps?watch=true", t);
    assertThat(r.approved()).as(r.message()).isTrue();
    assertThat(controller.watchIds("edge-p")).hasSize(1);
    fixture.deletePodNow(p);
    Waits.until(
        "watch of the deleted pod removed",
        Duration.ofSeconds(30),
        () -> controller.watchIds("edge-p").isEmpty());
    // the Kedge edge is told, so that it keeps the scope current another way
    JsonNode st = stopped(messenger, r.app().id());
    assertThat(st).as("kedge.watchStopped for the watch").isNotNull();
    assertThat(st.path("code").asInt()).isEqualTo(401);
    assertThat(st.path("message").asString()).contains("short-lived").contains("is gone");
  }

  /** The Status the edge was told watch {@code id} was stopped with, or null. */
  static JsonNode stopped(RecordingMessenger m, String id) {
    return m.sent().stream()
        .filter(x -> Operations.KEDGE_WATCH_STOPPED.equals(x.operation()))
        .filter(x -> id.equals(x.content().path("applicationId").asString("")))
        .map(x -> x.content().path("status"))
        .findFirst()
        .orElse(null);
  }

  @Test
  void aNodesOwnWatchStopsWhenThePodThatLetItReadTheObjectGoes(KubernetesClient admin) {
    fixture.configMap(ns, "node-cfg", Map.of("k", "v"));
    fixture.node("edge-n");
    Pod p =
        admin
            .pods()
            .inNamespace(ns)
            .resource(
                new io.fabric8.kubernetes.api.model.PodBuilder()
                    .withNewMetadata()
                    .withName("uses-node-cfg")
                    .endMetadata()
                    .withNewSpec()
                    .withServiceAccountName("app")
                    .withNodeName("edge-n")
                    .addNewToleration()
                    .withOperator("Exists")
                    .endToleration()
                    .addNewVolume()
                    .withName("cfg")
                    .withNewConfigMap()
                    .withName("node-cfg")
                    .endConfigMap()
                    .endVolume()
                    .addNewContainer()
                    .withName("c")
                    .withImage("busybox")
                    .endContainer()
                    .endSpec()
                    .build())
            .create();
    SimulatedMetaServer e = new SimulatedMetaServer("edge-n", controller, messenger);
    String path =
        "/api/v1/namespaces/"
            + ns
            + "/configmaps?watch=true&fieldSelector=metadata.name%3Dnode-cfg";
    SimulatedMetaServer.Reply[] r = {null};
    // without a token the watch runs as the node, which may read what its pods use (the
    // apiserver's node authorizer learns of the pod through an informer of its own)
    Waits.until(
        "the node may watch the ConfigMap its pod uses",
        Duration.ofSeconds(30),
        () -> (r[0] = e.http("GET", path, null)).approved());
    assertThat(controller.watchIds("edge-n")).containsExactly(r[0].app().id());

    fixture.deletePodNow(p);
    Waits.until(
        "the node's watch stopped once its pod went",
        Duration.ofSeconds(30),
        () -> controller.watchIds("edge-n").isEmpty());
    JsonNode st = stopped(messenger, r[0].app().id());
    assertThat(st).isNotNull();
    assertThat(st.path("code").asInt()).isEqualTo(403);
    assertThat(e.http("GET", path, null).code()).as("and may not watch it again").isEqualTo(403);
  }

  @Test
  void aKedgeEdgeGetsEveryVersionOfAnObjectNoneReplacedOnTheWay(KubernetesClient admin) {
    createCm(admin, ns, "every", "every");
    String t = fixture.token(fixture.pod(ns, "app-e", "app", "edge-e"));
    SimulatedMetaServer e = new SimulatedMetaServer("edge-e", controller, messenger);
    var w =
        e.http(
            "GET",
            "/api/v1/namespaces/" + ns + "/configmaps?watch=true&labelSelector=app%3Devery",
            t);
    assertThat(w.approved()).as(w.message()).isTrue();
    List<String> versions = new java.util.ArrayList<>();
    for (int i = 0; i < 20; i++) {
      int n = i;
      versions.add(
          admin
              .configMaps()
              .inNamespace(ns)
              .withName("every")
              .edit(
                  c -> {
                    c.getData().put("v", Integer.toString(n));
                    return c;
                  })
              .getMetadata()
              .getResourceVersion());
    }
    Waits.until(
        "the last version delivered",
        Duration.ofSeconds(30),
        () ->
            deliveredFor("edge-e", ns + "/configmap/every").stream()
                .anyMatch(
                    m -> m.header().resourceVersion().equals(versions.get(versions.size() - 1))));
    List<Message> updates =
        deliveredFor("edge-e", ns + "/configmap/every").stream()
            .filter(m -> m.operation().equals(Operations.UPDATE))
            .toList();
    assertThat(updates)
        .extracting(m -> m.header().resourceVersion())
        .containsExactlyElementsOf(versions);
    assertThat(updates).allMatch(messenger::deliveredEach);
  }

  @Test
  void theWatchEndsWhenRbacNoLongerAllowsIt(KubernetesClient admin) {
    fixture.serviceAccount(ns, "revoked");
    fixture.grant(ns, "revoked", List.of("pods"), List.of("watch"));
    String t = fixture.token(fixture.pod(ns, "revoked", "revoked", "edge-v"));
    SimulatedMetaServer e = new SimulatedMetaServer("edge-v", controller, messenger);
    var r = e.http("GET", "/api/v1/namespaces/" + ns + "/pods?watch=true", t);
    assertThat(r.approved()).as(r.message()).isTrue();
    assertThat(controller.watchIds("edge-v")).hasSize(1);
    admin.rbac().roleBindings().inNamespace(ns).withName("revoked-pods").delete();
    Waits.until(
        "watch removed after the RoleBinding went",
        Duration.ofSeconds(30),
        () -> controller.watchIds("edge-v").isEmpty());
    JsonNode st = stopped(messenger, r.app().id());
    assertThat(st).as("kedge.watchStopped for the watch").isNotNull();
    assertThat(st.path("code").asInt()).isEqualTo(403);
    assertThat(st.path("reason").asString()).isEqualTo("Forbidden");
    var again = e.http("GET", "/api/v1/namespaces/" + ns + "/pods?watch=true", t);
    assertThat(again.code()).isEqualTo(403);
  }

  @Test
  void aDeletionJustBeforeCloudcoreStartsIsReplayedToAResumedWatch(KubernetesClient admin)
      throws Exception {
    createCm(admin, ns, "g-a", "gone");
    long from = rv(admin, "g-a");
    admin.configMaps().inNamespace(ns).withName("g-a").delete();
    Waits.until(
        "g-a gone",
        Duration.ofSeconds(30),
        () -> admin.configMaps().inNamespace(ns).withName("g-a").get() == null);
    String token = fixture.token(fixture.pod(ns, "app-g", "app", "edge-g"));
    // A cloudcore started after the deletion: its informer's list has no object carrying the
    // deletion's version.
    RecordingMessenger m = new RecordingMessenger();
    try (DynamicController c =
        new DynamicController(DynamicControllerOptions.defaults(), cloudcore, m, null)) {
      c.start().join();
      var w =
          new SimulatedMetaServer("edge-g", c, m)
              .http(
                  "GET",
                  "/api/v1/namespaces/"
                      + ns
                      + "/configmaps?watch=true&labelSelector=app%3Dgone&resourceVersion="
                      + from,
                  token);
      assertThat(w.approved()).isTrue();
      assertThat(m.delivered("edge-g"))
          .anyMatch(x -> x.operation().equals(Operations.DELETE) && x.resource().endsWith("/g-a"));
    }
  }

  @Test
  void aKedgeEdgeHearsUpToWhichVersionItHoldsItsWatch(KubernetesClient admin) throws Exception {
    RecordingMessenger m = new RecordingMessenger();
    try (DynamicController c =
        new DynamicController(
            DynamicControllerOptions.defaults().withProgressInterval(Duration.ofMillis(200)),
            cloudcore,
            m,
            null)) {
      c.start().join();
      String token = fixture.token(fixture.pod(ns, "app-p", "app", "edge-p"));
      SimulatedMetaServer e = new SimulatedMetaServer("edge-p", c, m);
      createCm(admin, ns, "p-a", "progress");
      long a = rv(admin, "p-a");
      var w =
          e.http(
              "GET",
              "/api/v1/namespaces/" + ns + "/configmaps?watch=true&labelSelector=app%3Dprogress",
              token);
      assertThat(w.approved()).isTrue();
      String id = w.app().id();
      Waits.until("progress up to p-a", Duration.ofSeconds(30), () -> progress(m, id) >= a);

      // A change the edge has not acknowledged holds the announced version below it, while the
      // type's version moves on with a change the watch does not select.
      m.withholdAcks("edge-p");
      createCm(admin, ns, "p-b", "progress");
      long b = rv(admin, "p-b");
      Waits.until(
          "p-b delivered",
          Duration.ofSeconds(30),
          () -> m.delivered("edge-p").stream().anyMatch(x -> x.resource().endsWith("/p-b")));
      createCm(admin, ns, "p-other", "elsewhere");
      long other = rv(admin, "p-other");
      Thread.sleep(1500); // several announcement periods
      assertThat(progress(m, id)).isLessThan(b);

      m.acknowledge("edge-p");
      Waits.until(
          "progress past the unselected change",
          Duration.ofSeconds(30),
          () -> progress(m, id) >= other);
      assertThat(
              m.sent().stream()
                  .filter(x -> Operations.KEDGE_WATCH_PROGRESS.equals(x.operation()))
                  .allMatch(x -> x.resource().equals(ns + "/configmap")))
          .isTrue();
    }
  }

  static long rv(KubernetesClient admin, String name) {
    return Long.parseLong(
        admin.configMaps().inNamespace(ns).withName(name).get().getMetadata().getResourceVersion());
  }

  /** The highest version announced for watch {@code id}; 0 before any. */
  static long progress(RecordingMessenger m, String id) {
    return m.sent().stream()
        .filter(x -> Operations.KEDGE_WATCH_PROGRESS.equals(x.operation()))
        .filter(x -> id.equals(x.content().path("applicationId").asString("")))
        .mapToLong(x -> Long.parseLong(x.content().path("resourceVersion").asString("0")))
        .max()
        .orElse(0);
  }

  @Test
  void aNodeThatStaysAwayLosesItsWatches() throws InterruptedException {
    RecordingMessenger m = new RecordingMessenger();
    try (DynamicController c =
        new DynamicController(
            DynamicControllerOptions.defaults().withDisconnectGrace(Duration.ofSeconds(2)),
            cloudcore,
            m,
            null)) {
      SimulatedMetaServer e = new SimulatedMetaServer("edge-d", c, m);
      Application w =
          SimulatedMetaServer.kubeEdgeApp(
              "watch", "/core/v1/services/default/null", "{\"watch\":true}", null, "");
      assertThat(e.send(w).approved()).isTrue();
      // away briefly: kept (its removal is called off when it comes back)
      m.setConnected("edge-d", false);
      c.disconnected("edge-d");
      m.setConnected("edge-d", true);
      c.connected("edge-d");
      Thread.sleep(3000); // longer than the grace period
      assertThat(c.watchIds("edge-d")).containsExactly(w.id());
      // away for longer than the grace period: removed
      m.setConnected("edge-d", false);
      c.disconnected("edge-d");
      Waits.until(
          "watches of the departed node removed",
          Duration.ofSeconds(30),
          () -> c.watchIds("edge-d").isEmpty());
      assertThat(c.informedTypes()).doesNotContain("services/v1");
    }
  }
}
