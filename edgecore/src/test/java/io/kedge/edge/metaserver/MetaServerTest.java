package io.kedge.edge.metaserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.Scope;
import io.kedge.protocol.Json;
import io.kedge.protocol.application.Application;
import io.kedge.testkit.Waits;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** MetaServer over real loopback HTTP with a fake cloud: the read rules, watches, writes. */
class MetaServerTest {
  static final Gvr CM = Gvr.core("configmaps");
  static final String CMS = "/api/v1/namespaces/a/configmaps";

  @TempDir Path dir;
  MetaServerRig rig;

  @BeforeEach
  void start() {
    rig = new MetaServerRig(dir);
  }

  @AfterEach
  void stop() {
    rig.close();
  }

  static List<String> names(JsonNode list) {
    List<String> out = new ArrayList<>();
    for (JsonNode i : list.path("items")) {
      out.add(i.path("metadata").path("name").asString());
    }
    return out;
  }

  long watchApps() {
    return rig.cloud.applications.stream()
        .filter(a -> a.kedge().query().contains("watch=true"))
        .count();
  }

  @Test
  void aConsistentGetGoesToTheCloudAndIsKeptForOfflineUse() throws Exception {
    rig.cloud.put("a", "c1", "k", "v1");
    HttpResponse<String> r = rig.get(CMS + "/c1");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(MetaServerRig.json(r).path("data").path("k").asString()).isEqualTo("v1");
    Application app = rig.cloud.applications.get(rig.cloud.applications.size() - 1);
    assertThat(app.kedge().method()).isEqualTo("GET");
    assertThat(app.kedge().path()).isEqualTo(CMS + "/c1");
    assertThat(app.key()).isEqualTo("/core/v1/configmaps/a/c1");
    assertThat(app.verb()).isEqualTo("get");
    assertThat(app.nodename()).isEqualTo("edge-1");
    Waits.until("kept", Duration.ofSeconds(10), () -> rig.store.get(CM, "a", "c1").isPresent());

    rig.cloud.link.setConnected(false);
    HttpResponse<String> off = rig.get(CMS + "/c1");
    assertThat(off.statusCode()).isEqualTo(200);
    assertThat(MetaServerRig.json(off).path("data").path("k").asString()).isEqualTo("v1");
    HttpResponse<String> missing = rig.get(CMS + "/nothere");
    assertThat(missing.statusCode()).isEqualTo(404);
    JsonNode s = MetaServerRig.json(missing);
    assertThat(s.path("kind").asString()).isEqualTo("Status");
    assertThat(s.path("reason").asString()).isEqualTo("NotFound");
    assertThat(s.path("message").asString()).isEqualTo("configmaps \"nothere\" not found");
  }

  @Test
  void aConsistentGetOfTheVersionHeldAlreadyChangesNothingInTheStore() throws Exception {
    rig.cloud.put("a", "c1", "k", "v1");
    rig.get(CMS + "/c1");
    Waits.until("kept", Duration.ofSeconds(10), () -> rig.store.get(CM, "a", "c1").isPresent());
    int before = rig.applies.get();
    assertThat(rig.get(CMS + "/c1").statusCode()).isEqualTo(200); // the version held
    rig.cloud.putQuietly("a", "c1", "k", "v2");
    assertThat(MetaServerRig.json(rig.get(CMS + "/c1")).path("data").path("k").asString())
        .isEqualTo("v2");
    Waits.until(
        "the newer version kept",
        Duration.ofSeconds(10),
        () -> rig.store.get(CM, "a", "c1").get().resourceVersion() == rig.cloud.resourceVersion());
    // refreshes run in order on one thread: the first one's is done too
    assertThat(rig.applies.get() - before).isEqualTo(1);
  }

  @Test
  void notFoundAndOtherErrorsFromTheCloudPassThroughAndAreNotMaskedByTheCache() throws Exception {
    rig.cloud.put("a", "c1", "k", "v1");
    rig.get(CMS + "/c1");
    Waits.until("kept", Duration.ofSeconds(10), () -> rig.store.get(CM, "a", "c1").isPresent());
    rig.cloud.deleteQuietly("a", "c1");
    HttpResponse<String> r = rig.get(CMS + "/c1");
    assertThat(r.statusCode()).isEqualTo(404);
    Waits.until("forgotten", Duration.ofSeconds(10), () -> rig.store.get(CM, "a", "c1").isEmpty());

    rig.cloud.failWithCode = 403;
    assertThat(rig.get(CMS + "/c2").statusCode()).isEqualTo(403);
    rig.cloud.failWithCode = 503; // the apiserver is out of the cloud's reach: serve the store
    rig.cloud.failWithCode = 0;
  }

  @Test
  void anInformerListSubscribesOnceAndIsThenServedFromTheStore() throws Exception {
    rig.cloud.put("a", "c1", "k", "1");
    rig.cloud.put("a", "c2", "k", "2");
    rig.cloud.put("b", "other", "k", "3");
    HttpResponse<String> r = rig.get(CMS + "?resourceVersion=0");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode list = MetaServerRig.json(r);
    assertThat(list.path("kind").asString()).isEqualTo("ConfigMapList");
    assertThat(names(list)).containsExactly("c1", "c2");
    assertThat(list.path("metadata").path("resourceVersion").asString()).isNotEmpty();
    assertThat(watchApps()).isEqualTo(1);
    assertThat(rig.server.cached(new Scope(CM, "a"))).isTrue();
    int before = rig.cloud.applications.size();

    rig.cloud.put("a", "c3", "k", "3");
    JsonNode again = MetaServerRig.json(rig.get(CMS + "?resourceVersion=0"));
    assertThat(names(again)).containsExactly("c1", "c2", "c3");
    assertThat(rig.cloud.applications).hasSize(before); // from the store, not the cloud
    // selectors on cached lists
    rig.cloud.label("a", "c2", "app", "web");
    JsonNode web = MetaServerRig.json(rig.get(CMS + "?resourceVersion=0&labelSelector=app%3Dweb"));
    assertThat(names(web)).containsExactly("c2");
    JsonNode notWeb =
        MetaServerRig.json(rig.get(CMS + "?resourceVersion=0&labelSelector=app!%3Dweb"));
    assertThat(names(notWeb)).containsExactly("c1", "c3");
    JsonNode byName =
        MetaServerRig.json(rig.get(CMS + "?resourceVersion=0&fieldSelector=metadata.name%3Dc3"));
    assertThat(names(byName)).containsExactly("c3");
  }

  @Test
  void aWatchFromZeroListsThenFollows() throws Exception {
    rig.cloud.put("a", "c1", "k", "1");
    try (MetaServerRig.Stream w = rig.watch(CMS + "?watch=true&resourceVersion=0")) {
      assertThat(w.response.statusCode()).isEqualTo(200);
      assertThat(w.response.headers().firstValue("Content-Type")).hasValue("application/json");
      JsonNode e = w.nextChange();
      assertThat(e.path("type").asString()).isEqualTo("ADDED");
      assertThat(e.path("object").path("metadata").path("name").asString()).isEqualTo("c1");
      rig.cloud.put("a", "c1", "k", "2");
      JsonNode m = w.nextChange();
      assertThat(m.path("type").asString()).isEqualTo("MODIFIED");
      assertThat(m.path("object").path("data").path("k").asString()).isEqualTo("2");
      rig.cloud.delete("a", "c1");
      assertThat(w.nextChange().path("type").asString()).isEqualTo("DELETED");
    }
  }

  @Test
  void aWatchResumesFromAVersionInTheLogAndTooOldGetsExpired() throws Exception {
    rig.cloud.put("a", "c1", "k", "1");
    JsonNode list = MetaServerRig.json(rig.get(CMS + "?resourceVersion=0"));
    String listRv = list.path("metadata").path("resourceVersion").asString();
    rig.cloud.put("a", "c1", "k", "2");
    rig.cloud.put("a", "c2", "k", "x");
    try (MetaServerRig.Stream w =
        rig.watch(CMS + "?watch=true&allowWatchBookmarks=true&resourceVersion=" + listRv)) {
      JsonNode e1 = w.nextChange();
      assertThat(e1.path("type").asString()).isEqualTo("MODIFIED");
      assertThat(e1.path("object").path("data").path("k").asString()).isEqualTo("2");
      JsonNode e2 = w.nextChange();
      assertThat(e2.path("type").asString()).isEqualTo("ADDED");
      assertThat(e2.path("object").path("metadata").path("name").asString()).isEqualTo("c2");
      // and a bookmark at the newest version once idle
      JsonNode b;
      do {
        b = w.next();
      } while (!"BOOKMARK".equals(b.path("type").asString()));
      assertThat(b.path("object").path("metadata").path("resourceVersion").asString())
          .isEqualTo(Long.toString(rig.cloud.resourceVersion()));
      assertThat(b.path("object").path("kind").asString()).isEqualTo("ConfigMap");
    }
    try (MetaServerRig.Stream old = rig.watch(CMS + "?watch=true&resourceVersion=5")) {
      assertThat(old.response.statusCode()).isEqualTo(200);
      JsonNode err = old.next();
      assertThat(err.path("type").asString()).isEqualTo("ERROR");
      assertThat(err.path("object").path("code").asInt()).isEqualTo(410);
      assertThat(err.path("object").path("reason").asString()).isEqualTo("Expired");
      Waits.until("stream ends", Duration.ofSeconds(10), () -> old.ended);
    }
  }

  @Test
  void aChangeCommittedWhileAWatchFromTheNewestVersionStartsIsSent() throws Exception {
    rig.cloud.put("a", "c1", "k", "1");
    JsonNode list = MetaServerRig.json(rig.get(CMS + "?resourceVersion=0"));
    String listRv = list.path("metadata").path("resourceVersion").asString();
    rig.afterNextStateRead(
        CM,
        () -> {
          rig.cloud.put("a", "c2", "k", "x");
          Waits.until(
              "c2 in the store",
              Duration.ofSeconds(10),
              () -> rig.store.get(CM, "a", "c2").isPresent());
        });
    try (MetaServerRig.Stream w = rig.watch(CMS + "?watch=true&resourceVersion=" + listRv)) {
      JsonNode e = w.nextChange();
      assertThat(e.path("type").asString()).isEqualTo("ADDED");
      assertThat(e.path("object").path("metadata").path("name").asString()).isEqualTo("c2");
    }
  }

  @Test
  void objectsEnteringAndLeavingASelectorAreAddedAndDeleted() throws Exception {
    rig.cloud.put("a", "c1", "k", "1");
    try (MetaServerRig.Stream w = rig.watch(CMS + "?watch=True&labelSelector=app%3Dweb")) {
      rig.cloud.label("a", "c1", "app", "web");
      JsonNode in = w.nextChange();
      assertThat(in.path("type").asString()).isEqualTo("ADDED");
      rig.cloud.put("a", "c1", "k", "2");
      assertThat(w.nextChange().path("type").asString()).isEqualTo("MODIFIED");
      rig.cloud.label("a", "c1", "app", null);
      JsonNode out = w.nextChange();
      assertThat(out.path("type").asString()).isEqualTo("DELETED");
      assertThat(out.path("object").path("metadata").path("resourceVersion").asString())
          .isEqualTo(Long.toString(rig.cloud.resourceVersion()));
    }
  }

  @Test
  void pythonStyleWatchEndsAtItsTimeout() throws Exception {
    rig.cloud.put("a", "c1", "k", "1");
    try (MetaServerRig.Stream w =
        rig.watch(CMS + "?timeoutSeconds=1&watch=True", "Content-Type", "application/json")) {
      assertThat(w.nextChange().path("type").asString()).isEqualTo("ADDED");
      Waits.until("stream ends", Duration.ofSeconds(15), () -> w.ended);
    }
    Waits.until("watch gone", Duration.ofSeconds(10), () -> rig.server.watchCount() == 0);
  }

  @Test
  void objectsReadOnlyOnceAreReadAgainWhenTheCloudComesBack() throws Exception {
    rig.cloud.put("a", "c1", "k", "v1");
    rig.cloud.put("b", "gone", "k", "v1");
    rig.cloud.put("b", "same", "k", "v1");
    assertThat(rig.get(CMS + "/c1").statusCode()).isEqualTo(200);
    assertThat(rig.get("/api/v1/namespaces/b/configmaps").statusCode()).isEqualTo(200);
    Waits.until(
        "kept",
        Duration.ofSeconds(10),
        () ->
            rig.store.get(CM, "a", "c1").isPresent()
                && rig.store.get(CM, "b", "gone").isPresent()
                && rig.store.get(CM, "b", "same").isPresent());
    long sameRv = rig.store.get(CM, "b", "same").orElseThrow().resourceVersion();

    rig.cloud.link.setConnected(false);
    rig.cloud.put("a", "c1", "k", "v2"); // no watch: nothing reaches the edge
    rig.cloud.deleteQuietly("b", "gone");
    assertThat(rig.store.get(CM, "b", "gone")).isPresent();
    rig.cloud.link.setConnected(true);

    Waits.until(
        "held objects read again",
        Duration.ofSeconds(10),
        () ->
            rig.store.get(CM, "b", "gone").isEmpty()
                && Json.parse(rig.store.get(CM, "a", "c1").orElseThrow().json())
                    .path("data")
                    .path("k")
                    .asString()
                    .equals("v2"));
    assertThat(rig.store.get(CM, "b", "same").orElseThrow().resourceVersion()).isEqualTo(sameRv);
    // offline again, the edge answers what the cloud had when it was last reachable
    rig.cloud.link.setConnected(false);
    assertThat(MetaServerRig.json(rig.get(CMS + "/c1")).path("data").path("k").asString())
        .isEqualTo("v2");
    assertThat(rig.get("/api/v1/namespaces/b/configmaps/gone").statusCode()).isEqualTo(404);
  }

  @Test
  void offlinePagesAreConsistentAndContinueFromTheApiserversFormat() throws Exception {
    for (int i = 0; i < 5; i++) {
      rig.cloud.put("a", "c" + i, "k", "v");
    }
    rig.get(CMS + "?resourceVersion=0");
    rig.cloud.link.setConnected(false);
    List<String> all = new ArrayList<>();
    String cont = "";
    int pages = 0;
    do {
      JsonNode page =
          MetaServerRig.json(
              rig.get(CMS + "?limit=2" + (cont.isEmpty() ? "" : "&continue=" + cont)));
      all.addAll(names(page));
      cont = page.path("metadata").path("continue").asString("");
      pages++;
    } while (!cont.isEmpty());
    assertThat(all).containsExactly("c0", "c1", "c2", "c3", "c4");
    assertThat(pages).isEqualTo(3);
    // a token as the apiserver writes it: {"v":"meta.k8s.io/v1","rv":N,"start":"c2\u0000"}
    String token = new ContinueToken(rig.store.resourceState(CM).highwater(), "c2\u0000").encode();
    assertThat(names(MetaServerRig.json(rig.get(CMS + "?limit=10&continue=" + token))))
        .containsExactly("c3", "c4");
    assertThat(rig.get(CMS + "?limit=10&continue=garbage").statusCode()).isEqualTo(400);
  }

  @Test
  void aFullSelectedPageContinuesWhileAnyObjectFollowsAsTheApiserversDo() throws Exception {
    for (int i = 0; i < 4; i++) {
      rig.cloud.put("a", "c" + i, "k", "v");
    }
    rig.cloud.label("a", "c1", "app", "web");
    rig.get(CMS + "?resourceVersion=0");
    rig.cloud.link.setConnected(false);
    // c1 is the only match; c2 and c3 follow it: the apiserver's page of one (from etcd) has a
    // continue token, and the page after it is empty and has none.
    JsonNode first = MetaServerRig.json(rig.get(CMS + "?limit=1&labelSelector=app%3Dweb"));
    assertThat(names(first)).containsExactly("c1");
    String cont = first.path("metadata").path("continue").asString("");
    assertThat(cont).isNotEmpty();
    JsonNode second =
        MetaServerRig.json(rig.get(CMS + "?limit=1&labelSelector=app%3Dweb&continue=" + cont));
    assertThat(names(second)).isEmpty();
    assertThat(second.path("metadata").has("continue")).isFalse();
    // A full page with nothing after it in the scope has no token.
    JsonNode last = MetaServerRig.json(rig.get(CMS + "?limit=1&fieldSelector=metadata.name%3Dc3"));
    assertThat(names(last)).containsExactly("c3");
    assertThat(last.path("metadata").has("continue")).isFalse();
  }

  @Test
  void storeListsOfABuiltInTypeAreWrittenAsTheApiserverWritesThem() throws Exception {
    for (int i = 0; i < 5; i++) {
      rig.cloud.put("a", "c" + i, "k", "v");
    }
    rig.cloud.put("b", "other", "k", "v");
    rig.cloud.label("a", "c1", "app", "web");
    rig.cloud.label("a", "c3", "app", "web");
    rig.get(CMS + "?resourceVersion=0"); // the scope is kept current from here on
    rig.get("/api/v1/namespaces/b/configmaps/other");
    Waits.until("kept", Duration.ofSeconds(10), () -> rig.store.get(CM, "b", "other").isPresent());
    int asked = rig.cloud.applications.size();
    JsonNode zero = MetaServerRig.json(rig.get(CMS + "?resourceVersion=0"));
    assertThat(rig.cloud.applications).hasSize(asked); // the store's list, not the cloud's
    assertThat(names(zero)).containsExactly("c0", "c1", "c2", "c3", "c4");
    assertThat(
            Json.parse(rig.store.get(CM, "a", "c0").orElseThrow().json()).path("kind").asString())
        .isEqualTo("ConfigMap"); // kept with its type
    for (JsonNode item : zero.path("items")) {
      // the apiserver's items of a built-in type's list carry no type; the list does
      assertThat(item.has("kind") || item.has("apiVersion")).as(item.toString()).isFalse();
    }
    assertThat(zero.path("kind").asString()).isEqualTo("ConfigMapList");
    assertThat(zero.path("apiVersion").asString()).isEqualTo("v1");

    rig.cloud.link.setConnected(false);
    // pages as the apiserver's: with a token, remainingItemCount is what follows the page
    List<String> meta = new ArrayList<>();
    String cont = "";
    do {
      JsonNode page =
          MetaServerRig.json(
              rig.get(CMS + "?limit=2" + (cont.isEmpty() ? "" : "&continue=" + cont)));
      page.path("items").forEach(i -> assertThat(i.has("kind")).isFalse());
      cont = page.path("metadata").path("continue").asString("");
      meta.add(
          page.path("items").size()
              + " "
              + page.path("metadata").path("remainingItemCount").asString("-"));
    } while (!cont.isEmpty());
    assertThat(meta).containsExactly("2 3", "2 1", "1 -");
    // all namespaces: counted over them all
    JsonNode all = MetaServerRig.json(rig.get("/api/v1/configmaps?limit=4"));
    assertThat(all.path("metadata").path("remainingItemCount").asLong()).isEqualTo(2);
    // the apiserver does not count lists with selectors
    JsonNode web = MetaServerRig.json(rig.get(CMS + "?limit=1&labelSelector=app%3Dweb"));
    assertThat(names(web)).containsExactly("c1");
    assertThat(web.path("metadata").path("continue").asString()).isNotEmpty();
    assertThat(web.path("metadata").has("remainingItemCount")).isFalse();
    // nor does it paginate a resourceVersion=0 list
    JsonNode zeroLimited = MetaServerRig.json(rig.get(CMS + "?limit=2&resourceVersion=0"));
    assertThat(names(zeroLimited)).hasSize(5);
    assertThat(zeroLimited.path("metadata").has("continue")).isFalse();
    // kubectl's Table
    JsonNode table =
        MetaServerRig.json(
            rig.get(CMS + "?limit=3", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io"));
    assertThat(table.path("metadata").path("remainingItemCount").asLong()).isEqualTo(2);
  }

  @Test
  void storeListsOfACustomResourceKeepTheTypeOfTheirItems() throws Exception {
    Gvr widgets = new Gvr("example.com", "v1", "widgets");
    assertThat(
            rig.catalog.learn(
                "example.com/v1",
                Json.bytes(
                    Json.parse(
                        "{\"kind\":\"APIResourceList\",\"groupVersion\":\"example.com/v1\","
                            + "\"resources\":[{\"name\":\"widgets\",\"namespaced\":true,"
                            + "\"kind\":\"Widget\",\"verbs\":[\"get\",\"list\",\"watch\"]}]}"))))
        .isTrue();
    for (int i = 1; i <= 3; i++) {
      rig.store
          .apply(
              io.kedge.edge.store.ObjectChange.upsert(
                  widgets,
                  "Widget",
                  Json.parse(
                      "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":"
                          + "{\"name\":\"w"
                          + i
                          + "\",\"namespace\":\"a\",\"uid\":\"u"
                          + i
                          + "\",\"resourceVersion\":\""
                          + (10 + i)
                          + "\"}}")))
          .get(10, TimeUnit.SECONDS);
    }
    rig.cloud.link.setConnected(false);
    String path = "/apis/example.com/v1/namespaces/a/widgets";
    JsonNode page = MetaServerRig.json(rig.get(path + "?limit=2"));
    assertThat(page.path("kind").asString()).isEqualTo("WidgetList");
    assertThat(names(page)).containsExactly("w1", "w2");
    for (JsonNode item : page.path("items")) {
      assertThat(item.path("kind").asString()).isEqualTo("Widget");
      assertThat(item.path("apiVersion").asString()).isEqualTo("example.com/v1");
    }
    assertThat(page.path("metadata").path("remainingItemCount").asLong()).isEqualTo(1);
    // the apiserver writes a custom resource's list metadata with an empty continue at the end
    JsonNode whole = MetaServerRig.json(rig.get(path));
    assertThat(names(whole)).containsExactly("w1", "w2", "w3");
    assertThat(whole.path("metadata").has("continue")).isTrue();
    assertThat(whole.path("metadata").path("continue").asString()).isEmpty();
  }

  @Test
  void writesGoToTheCloudAsTheyCameAndAre503Offline() throws Exception {
    String body =
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"made\"},\"data\":{\"a\":\"1\"}}";
    HttpResponse<String> created =
        rig.send(
            "POST",
            CMS + "?fieldManager=kubectl-create&fieldValidation=Strict",
            "application/json",
            body);
    assertThat(created.statusCode()).isEqualTo(201);
    Application app = rig.cloud.applications.get(rig.cloud.applications.size() - 1);
    assertThat(app.kedge().query()).isEqualTo("fieldManager=kubectl-create&fieldValidation=Strict");
    assertThat(app.kedge().contentType()).isEqualTo("application/json");
    assertThat(new String(app.reqBody())).isEqualTo(body);
    assertThat(app.verb()).isEqualTo("create");
    assertThat(Json.parse(app.option()).path("fieldManager").asString())
        .isEqualTo("kubectl-create");

    HttpResponse<String> patched =
        rig.send(
            "PATCH", CMS + "/made", "application/merge-patch+json", "{\"data\":{\"b\":\"2\"}}");
    assertThat(patched.statusCode()).isEqualTo(200);
    Application p = rig.cloud.applications.get(rig.cloud.applications.size() - 1);
    assertThat(p.verb()).isEqualTo("patch");
    JsonNode pi = Json.parse(p.option());
    assertThat(pi.path("PatchType").asString()).isEqualTo("application/merge-patch+json");
    assertThat(pi.path("Name").asString()).isEqualTo("made");

    HttpResponse<String> conflict = rig.send("POST", CMS, "application/json", body);
    assertThat(conflict.statusCode()).isEqualTo(409);
    assertThat(MetaServerRig.json(conflict).path("reason").asString()).isEqualTo("AlreadyExists");

    rig.cloud.link.setConnected(false);
    HttpResponse<String> off = rig.send("DELETE", CMS + "/made", "application/json", "{}");
    assertThat(off.statusCode()).isEqualTo(503);
    assertThat(off.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(MetaServerRig.json(off).path("reason").asString()).isEqualTo("ServiceUnavailable");
  }

  @Test
  void kubectlTableRequestsGetATableFromTheStore() throws Exception {
    rig.cloud.put("a", "c1", "k", "1");
    rig.get(CMS + "/c1");
    Waits.until("kept", Duration.ofSeconds(10), () -> rig.store.get(CM, "a", "c1").isPresent());
    rig.cloud.link.setConnected(false);
    String accept =
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
    JsonNode t = MetaServerRig.json(rig.get(CMS + "?limit=500", "Accept", accept));
    assertThat(t.path("kind").asString()).isEqualTo("Table");
    assertThat(t.path("apiVersion").asString()).isEqualTo("meta.k8s.io/v1");
    assertThat(t.path("columnDefinitions").get(0).path("name").asString()).isEqualTo("Name");
    assertThat(t.path("rows").get(0).path("cells").get(0).asString()).isEqualTo("c1");
    assertThat(t.path("rows").get(0).path("object").path("kind").asString())
        .isEqualTo("PartialObjectMetadata");
    HttpResponse<String> yaml = rig.get(CMS + "/c1", "Accept", "application/yaml");
    assertThat(yaml.headers().firstValue("Content-Type")).hasValue("application/yaml");
    assertThat(yaml.body()).contains("kind: ConfigMap").contains("name: c1");
    assertThat(rig.get(CMS + "/c1", "Accept", "application/vnd.kubernetes.protobuf").statusCode())
        .isEqualTo(406);
  }

  @Test
  void discoveryIsFetchedThroughTheCloudAndServedOffline() throws Exception {
    HttpResponse<String> v1 = rig.get("/api/v1?timeout=32s", "Accept", "application/json, */*");
    assertThat(v1.statusCode()).isEqualTo(200);
    assertThat(MetaServerRig.json(v1).path("kind").asString()).isEqualTo("APIResourceList");
    assertThat(rig.get("/version?timeout=5s").statusCode()).isEqualTo(200);
    Waits.until("kept", Duration.ofSeconds(10), () -> rig.store.blobs("nonresource|").size() >= 3);
    rig.cloud.link.setConnected(false);
    HttpResponse<String> off = rig.get("/api/v1?timeout=32s", "Accept", "application/json, */*");
    assertThat(off.statusCode()).isEqualTo(200);
    assertThat(off.body()).isEqualTo(v1.body());
    assertThat(MetaServerRig.json(rig.get("/version")).path("gitVersion").asString())
        .isEqualTo("v1.20.2");
    assertThat(rig.get("/openapi/v3?timeout=32s").statusCode()).isEqualTo(404);
    HttpResponse<String> health = rig.get("/healthz");
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).isEqualTo("ok");
    // never fetched: the built-in groups are known without the cloud (BuiltInDiscovery) ...
    HttpResponse<String> builtIn = rig.get("/apis");
    assertThat(builtIn.statusCode()).isEqualTo(200);
    assertThat(MetaServerRig.json(builtIn).path("kind").asString()).isEqualTo("APIGroupList");
    // ... any other group cannot be known offline
    HttpResponse<String> never = rig.get("/apis/nosuch.example.io/v1");
    assertThat(never.statusCode()).isEqualTo(503);
    assertThat(MetaServerRig.json(never).path("kind").asString()).isEqualTo("Status");
    assertThat(rig.get("/metrics").statusCode()).isEqualTo(404);
  }

  @Test
  void aReconnectBringsWhatWasMissedToTheStoreAndEndsWatchesItCannotResume() throws Exception {
    rig.cloud.put("a", "c1", "k", "1");
    rig.cloud.put("a", "c2", "k", "1");
    try (MetaServerRig.Stream w = rig.watch(CMS + "?watch=true")) {
      assertThat(w.nextChange().path("type").asString()).isEqualTo("ADDED");
      assertThat(w.nextChange().path("type").asString()).isEqualTo("ADDED");
      rig.changeWhileAway();
      // This cloud does not resume watches (as KubeEdge's): the edge lists the scope again, and
      // the open watch, which cannot be given the apiserver's events, ends with 410. (The objects
      // the fresh cloud watch starts with may reach it first: the edge learns only from the
      // answer that the cloud did not resume.)
      JsonNode e;
      do {
        e = w.nextChange();
      } while (!"ERROR".equals(e.path("type").asString()));
      assertThat(e.path("object").path("code").asInt()).isEqualTo(410);
    }
    JsonNode list = MetaServerRig.json(rig.get(CMS + "?resourceVersion=0"));
    assertThat(names(list)).containsExactly("c1", "c3");
  }

  @Test
  void fabric8WatchesOverWebSocket() throws Exception {
    rig.cloud.put("a", "c1", "k", "1");
    LinkedBlockingQueue<String> messages = new LinkedBlockingQueue<>();
    WebSocket ws =
        rig.http
            .newWebSocketBuilder()
            .buildAsync(
                java.net.URI.create(
                    "ws://127.0.0.1:"
                        + rig.server.address().getPort()
                        + CMS
                        + "?allowWatchBookmarks=true&watch=true"),
                new WebSocket.Listener() {
                  StringBuilder sb = new StringBuilder();

                  @Override
                  public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                    sb.append(data);
                    if (last) {
                      messages.add(sb.toString());
                      sb = new StringBuilder();
                    }
                    w.request(1);
                    return null;
                  }
                })
            .get(20, TimeUnit.SECONDS);
    try {
      JsonNode e = Json.parse(messages.poll(20, TimeUnit.SECONDS));
      assertThat(e.path("type").asString()).isEqualTo("ADDED");
      rig.cloud.put("a", "c1", "k", "2");
      JsonNode m;
      do {
        m = Json.parse(messages.poll(20, TimeUnit.SECONDS));
      } while ("BOOKMARK".equals(m.path("type").asString()));
      assertThat(m.path("type").asString()).isEqualTo("MODIFIED");
    } finally {
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(10, TimeUnit.SECONDS);
    }
    Waits.until("watch gone", Duration.ofSeconds(10), () -> rig.server.watchCount() == 0);
  }
}
