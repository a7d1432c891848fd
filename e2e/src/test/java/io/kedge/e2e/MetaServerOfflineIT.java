package io.kedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.Scope;
import io.kedge.edge.store.StoredObject;
import io.kedge.protocol.Json;
import io.kedge.testkit.Waits;
import io.kedge.testkit.junit.WithControlPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * The cloud stopped: every object the edge has seen — by consistent GET only, by consistent LIST
 * only, or through an informer's list — is still answered by GET, LIST and WATCH; every write gets
 * 503 with {@code Retry-After}; once the cloud is back the store converges to the apiserver's state
 * (changes made meanwhile included), compared object by object.
 */
@WithControlPlane
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetaServerOfflineIT {
  private static final Logger LOG = LoggerFactory.getLogger(MetaServerOfflineIT.class);
  static final Gvr CMS = Gvr.core("configmaps");
  static final Gvr WIDGETS = new Gvr(MetaServerFixture.GROUP, "v1", "widgets");

  InProcessKedge kedge;
  KubernetesClient admin;
  EdgeHttp edge;

  @BeforeAll
  void start(ControlPlane plane, @TempDir Path dir) {
    admin = plane.adminClient();
    kedge = InProcessKedge.start(plane, dir, "edge-offline");
    MetaServerFixture.prepare(admin, kedge);
    edge = new EdgeHttp(kedge.metaServerUrl());
  }

  @AfterAll
  void stop() {
    if (kedge != null) {
      kedge.close();
    }
  }

  void configMap(String ns, String name, String value) {
    admin
        .configMaps()
        .inNamespace(ns)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .addToData("v", value)
                .build())
        .create();
  }

  void widget(String ns, String name, int size) {
    GenericKubernetesResource w = new GenericKubernetesResource();
    w.setApiVersion(MetaServerFixture.GROUP + "/v1");
    w.setKind("Widget");
    w.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name).build());
    w.setAdditionalProperty("spec", Map.of("size", size));
    admin
        .genericKubernetesResources(w.getApiVersion(), "Widget")
        .inNamespace(ns)
        .resource(w)
        .create();
  }

  /** name → resourceVersion and content, of what the apiserver holds in a scope. */
  Map<String, String> truth(Gvr gvr, String ns) {
    List<GenericKubernetesResource> items =
        gvr.equals(CMS)
            ? admin.genericKubernetesResources("v1", "ConfigMap").inNamespace(ns).list().getItems()
            : admin
                .genericKubernetesResources(MetaServerFixture.GROUP + "/v1", "Widget")
                .inNamespace(ns)
                .list()
                .getItems();
    Map<String, String> m = new TreeMap<>();
    for (GenericKubernetesResource r : items) {
      m.put(r.getMetadata().getName(), summary(MetaServerFixture.json(r)));
    }
    return m;
  }

  /** The same, of what the edge's store holds. */
  Map<String, String> stored(Gvr gvr, String ns) {
    Map<String, String> m = new TreeMap<>();
    for (StoredObject o : kedge.store.list(new Scope(gvr, ns), "", 0).objects()) {
      m.put(o.name(), summary(Json.parse(o.json())));
    }
    return m;
  }

  static String summary(JsonNode o) {
    return o.path("metadata").path("resourceVersion").asString()
        + " "
        + o.path("data")
        + o.path("spec");
  }

  static Map<String, String> summaries(JsonNode list) {
    Map<String, String> m = new TreeMap<>();
    for (JsonNode i : list.path("items")) {
      m.put(i.path("metadata").path("name").asString(), summary(i));
    }
    return m;
  }

  static Map<String, String> added(List<JsonNode> events) {
    Map<String, String> m = new TreeMap<>();
    for (JsonNode e : events) {
      if (e.path("type").asString().equals("ADDED")) {
        JsonNode o = e.path("object");
        m.put(o.path("metadata").path("name").asString(), summary(o));
      }
    }
    return m;
  }

  @Test
  void everythingSeenIsServedOfflineWritesAre503AndTheCacheConverges() {
    String nsGet = MetaServerFixture.namespace(admin, "off-get");
    String nsList = MetaServerFixture.namespace(admin, "off-list");
    String nsInf = MetaServerFixture.namespace(admin, "off-inf");
    configMap(nsGet, "g1", "1");
    configMap(nsGet, "never-read", "1");
    configMap(nsList, "l1", "1");
    configMap(nsList, "l2", "1");
    configMap(nsInf, "i1", "1");
    widget(nsInf, "w1", 1);
    widget(nsList, "wl", 1);

    String g1Path = "/api/v1/namespaces/" + nsGet + "/configmaps/g1";
    String nsPath = "/api/v1/namespaces/" + nsGet;
    String listPath = "/api/v1/namespaces/" + nsList + "/configmaps";
    String widgetListPath =
        "/apis/" + MetaServerFixture.GROUP + "/v1/namespaces/" + nsList + "/widgets";
    String infPath = "/api/v1/namespaces/" + nsInf + "/configmaps";
    String widgetInfPath =
        "/apis/" + MetaServerFixture.GROUP + "/v1/namespaces/" + nsInf + "/widgets";

    // online: one consistent GET, consistent LISTs, informer lists
    EdgeHttp.Answer g1 = edge.get(g1Path);
    assertThat(g1.code()).isEqualTo(200);
    EdgeHttp.Answer nsObj = edge.get(nsPath);
    assertThat(nsObj.code()).isEqualTo(200);
    EdgeHttp.Answer list = edge.get(listPath);
    assertThat(summaries(list.json())).isEqualTo(truth(CMS, nsList)).containsKeys("l1", "l2");
    EdgeHttp.Answer wlist = edge.get(widgetListPath);
    assertThat(summaries(wlist.json())).isEqualTo(truth(WIDGETS, nsList)).hasSize(1);
    assertThat(summaries(edge.get(infPath + "?resourceVersion=0").json()))
        .isEqualTo(truth(CMS, nsInf));
    assertThat(summaries(edge.get(widgetInfPath + "?resourceVersion=0").json()))
        .isEqualTo(truth(WIDGETS, nsInf));
    assertThat(kedge.metaServer.cached(new Scope(CMS, nsInf))).isTrue();
    assertThat(kedge.metaServer.cached(new Scope(CMS, nsGet))).isFalse();
    // a first LIST subscribes its scope, so that a watch from the list's resourceVersion follows
    assertThat(kedge.metaServer.cached(new Scope(CMS, nsList))).isTrue();

    kedge.stopCloud();
    try {
      // reads: as seen
      EdgeHttp.Answer g1Off = edge.get(g1Path);
      assertThat(g1Off.code()).isEqualTo(200);
      assertThat(g1Off.json()).isEqualTo(g1.json());
      assertThat(edge.get(g1Path + "?resourceVersion=0").json()).isEqualTo(g1.json());
      EdgeHttp.Answer nsOff = edge.get(nsPath);
      assertThat(nsOff.code()).isEqualTo(200);
      assertThat(nsOff.json()).isEqualTo(nsObj.json());
      assertThat(listed(edge.get(listPath).json())).isEqualTo(listed(list.json()));
      assertThat(listed(edge.get(widgetListPath).json())).isEqualTo(listed(wlist.json()));
      assertThat(summaries(edge.get(infPath + "?resourceVersion=0").json()))
          .isEqualTo(truth(CMS, nsInf));
      // a label-selected list, answered from the store
      assertThat(summaries(edge.get(listPath + "?labelSelector=missing%3Dx").json())).isEmpty();

      // watches: what the edge has, as ADDED events, then the stream ends at timeoutSeconds
      assertThat(added(edge.watchEvents(stream(g1Path.replace("/g1", ""), "timeoutSeconds=2"))))
          .containsOnlyKeys("g1")
          .containsEntry("g1", summary(g1.json()));
      assertThat(
              added(
                  edge.watchEvents(
                      stream(
                          g1Path.replace("/g1", ""),
                          "fieldSelector=metadata.name%3Dg1&timeoutSeconds=2"))))
          .containsOnlyKeys("g1");
      assertThat(added(edge.watchEvents(stream(listPath, "timeoutSeconds=2"))))
          .isEqualTo(summaries(list.json()));
      assertThat(added(edge.watchEvents(stream(widgetListPath, "timeoutSeconds=2"))))
          .isEqualTo(summaries(wlist.json()));
      assertThat(added(edge.watchEvents(stream(widgetInfPath, "timeoutSeconds=2"))))
          .isEqualTo(truth(WIDGETS, nsInf));

      // writes: 503 ServiceUnavailable with Retry-After, and the store as it was
      String cm = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}";
      List<EdgeHttp.Answer> writes =
          List.of(
              edge.send("POST", infPath, "application/json", cm),
              edge.send("PUT", g1Path, "application/json", g1.response().body()),
              edge.send(
                  "PATCH", g1Path, "application/merge-patch+json", "{\"data\":{\"v\":\"2\"}}"),
              edge.send(
                  "PATCH",
                  g1Path + "?fieldManager=e2e&force=true",
                  "application/apply-patch+yaml",
                  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: g1}\n"),
              edge.send("DELETE", g1Path, null, null),
              edge.send("DELETE", listPath, null, null),
              edge.send(
                  "POST",
                  widgetInfPath,
                  "application/json",
                  "{\"apiVersion\":\""
                      + MetaServerFixture.GROUP
                      + "/v1\",\"kind\":\"Widget\","
                      + "\"metadata\":{\"name\":\"w9\"}}"));
      for (EdgeHttp.Answer w : writes) {
        assertThat(w.code())
            .as(w.response().request().method() + " " + w.response().uri())
            .isEqualTo(503);
        assertThat(w.json().path("kind").asString()).isEqualTo("Status");
        assertThat(w.json().path("reason").asString()).isEqualTo("ServiceUnavailable");
        assertThat(w.header("Retry-After")).isNotBlank();
      }
      assertThat(edge.get(g1Path).json()).isEqualTo(g1.json());
      assertThat(summaries(edge.get(listPath).json())).isEqualTo(summaries(list.json()));

      // meanwhile the cluster changes in every scope
      admin
          .configMaps()
          .inNamespace(nsGet)
          .withName("g1")
          .edit(
              c -> {
                c.getData().put("v", "2");
                return c;
              });
      admin.configMaps().inNamespace(nsList).withName("l2").delete();
      admin
          .configMaps()
          .inNamespace(nsList)
          .withName("l1")
          .edit(
              c -> {
                c.getData().put("v", "2");
                return c;
              });
      configMap(nsList, "l3", "1");
      configMap(nsInf, "i2", "1");
      admin.configMaps().inNamespace(nsInf).withName("i1").delete();
      admin
          .genericKubernetesResources(MetaServerFixture.GROUP + "/v1", "Widget")
          .inNamespace(nsInf)
          .withName("w1")
          .edit(
              w -> {
                w.setAdditionalProperty("spec", Map.of("size", 2));
                return w;
              });
    } finally {
      kedge.startCloud();
    }
    kedge.awaitConnected();

    // The store converges by itself (no client reads): kept-current scopes completely (l3, created
    // meanwhile in a listed scope, included), every other object it holds is read again.
    Duration d =
        Waits.until(
            "the edge's store converges to the apiserver",
            Duration.ofSeconds(120),
            () ->
                stored(CMS, nsInf).equals(truth(CMS, nsInf))
                    && stored(WIDGETS, nsInf).equals(truth(WIDGETS, nsInf))
                    && stored(CMS, nsList).equals(truth(CMS, nsList))
                    && stored(WIDGETS, nsList).equals(truth(WIDGETS, nsList))
                    && stored(CMS, nsGet).equals(Map.of("g1", truth(CMS, nsGet).get("g1"))));
    LOG.info("store converged {} ms after the edge reconnected", d.toMillis());
    Optional<StoredObject> never = kedge.store.get(CMS, nsGet, "never-read");
    assertThat(never).isEmpty();
    // and the edge answers what the apiserver holds
    assertThat(summaries(edge.get(infPath + "?resourceVersion=0").json()))
        .isEqualTo(truth(CMS, nsInf));
    assertThat(summaries(edge.get(listPath).json())).isEqualTo(truth(CMS, nsList));
    Waits.until(
        "the consistent list refreshes the store",
        Duration.ofSeconds(30),
        () -> stored(CMS, nsList).equals(truth(CMS, nsList)));
  }

  /**
   * A list without its own resourceVersion: the rest, items' type and a custom resource's empty
   * continue included, is the apiserver's as it wrote it.
   */
  static JsonNode listed(JsonNode list) {
    return MetaServerFixture.normalized(list);
  }

  static String stream(String path, String query) {
    return path + "?watch=true&" + query;
  }
}
