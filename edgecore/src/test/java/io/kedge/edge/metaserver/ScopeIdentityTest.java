package io.kedge.edge.metaserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.auth.Authenticator;
import io.kedge.edge.auth.UserInfo;
import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.Scope;
import io.kedge.protocol.application.Application;
import io.kedge.testkit.Waits;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * A cached scope is current or not served as current. When the cloud stops the watch that keeps it
 * (the pod whose token it ran with is gone), the edge carries it on with another reader's token and
 * gets what it missed; when no identity is accepted, reads go to the cloud and open watches end
 * with 410; after a restart the scope is registered again with a kept token, not without one.
 */
class ScopeIdentityTest {
  static final String CMS = "/api/v1/namespaces/a/configmaps";
  static final Scope SCOPE = new Scope(Gvr.core("configmaps"), "a");

  @TempDir Path dir;
  MetaServerRig rig;

  @AfterEach
  void stop() {
    if (rig != null) {
      rig.close();
    }
  }

  MetaServerRig rig() {
    MetaServerRig r =
        new MetaServerRig(
            dir,
            MetaServerSettings.defaults("edge-1")
                .withPort(0)
                .withBookmarkInterval(Duration.ofMillis(300)),
            header ->
                header != null && header.startsWith("Bearer ")
                    ? new Authenticator.Authentication(
                        UserInfo.anonymous(), header.substring(7), null, "")
                    : Authenticator.Authentication.anonymous());
    r.cloud.resumes = true;
    return r;
  }

  HttpResponse<String> list(String token) throws Exception {
    return rig.get(CMS + "?resourceVersion=0", "Authorization", "Bearer " + token);
  }

  static List<String> names(HttpResponse<String> r) {
    List<String> out = new java.util.ArrayList<>();
    for (JsonNode i : MetaServerRig.json(r).path("items")) {
      out.add(i.path("metadata").path("name").asString());
    }
    return out;
  }

  /** The registrations of the scope's watch the cloud got, oldest first. */
  List<Application> registrations() {
    return rig.cloud.applications.stream()
        .filter(a -> a.kedge().path().equals(CMS) && a.kedge().query().contains("watch=true"))
        .toList();
  }

  String watchId() {
    return rig.store.scopes().stream()
        .filter(r -> r.scope().equals(SCOPE))
        .findFirst()
        .orElseThrow()
        .applicationId();
  }

  @Test
  void aStoppedScopeIsCarriedOnWithAnotherReadersTokenAndMissesNothing() throws Exception {
    rig = rig();
    rig.cloud.put("a", "cm1", "k", "1");
    assertThat(names(list("tok-p1"))).containsExactly("cm1");
    assertThat(registrations())
        .last()
        .satisfies(a -> assertThat(a.kedge().token()).isEqualTo("tok-p1"));
    assertThat(names(list("tok-p2"))).containsExactly("cm1");
    try (MetaServerRig.Stream w =
        rig.watch(CMS + "?watch=true", "Authorization", "Bearer tok-p2")) {
      assertThat(w.nextChange().path("type").asString()).isEqualTo("ADDED");

      // P1 is deleted: its token is refused from now on, and the cloud stops its watch. A
      // ConfigMap created meanwhile reaches nobody through the stopped watch.
      rig.cloud.refused.add("tok-p1");
      rig.cloud.stopWatch(
          watchId(), 401, "Unauthorized", "the watch ran as pod a/p1, which is gone");
      rig.cloud.put("a", "cm2", "k", "1");

      JsonNode e = w.nextChange();
      assertThat(e.path("type").asString()).as(e.toString()).isEqualTo("ADDED");
      assertThat(e.path("object").path("metadata").path("name").asString()).isEqualTo("cm2");
    }
    Application again = registrations().get(registrations().size() - 1);
    assertThat(again.kedge().token()).as("carried on with P2's token").isEqualTo("tok-p2");
    assertThat(again.kedge().query()).as("resumed, not listed afresh").contains("resourceVersion=");
    assertThat(rig.server.cached(SCOPE)).isTrue();
    rig.cloud.put("a", "cm3", "k", "1");
    int before = rig.cloud.applications.size();
    assertThat(names(list("tok-p2"))).containsExactly("cm1", "cm2", "cm3");
    assertThat(rig.cloud.applications).as("answered from the store").hasSize(before);
  }

  @Test
  void aScopeNoIdentityMayKeepIsNotServedAsCurrent() throws Exception {
    rig = rig();
    rig.cloud.put("a", "cm1", "k", "1");
    assertThat(names(list("tok-p1"))).containsExactly("cm1");
    try (MetaServerRig.Stream w =
        rig.watch(CMS + "?watch=true", "Authorization", "Bearer tok-p1")) {
      assertThat(w.nextChange().path("type").asString()).isEqualTo("ADDED");
      rig.cloud.refused.add("tok-p1");
      rig.cloud.refused.add(""); // nor may the node
      rig.cloud.stopWatch(
          watchId(), 401, "Unauthorized", "the watch ran as pod a/p1, which is gone");

      JsonNode e = w.nextChange();
      assertThat(e.path("type").asString()).as(e.toString()).isEqualTo("ERROR");
      assertThat(e.path("object").path("code").asInt()).isEqualTo(410);
    }
    assertThat(rig.server.cached(SCOPE)).isFalse();
    rig.cloud.putQuietly("a", "cm2", "k", "1"); // the edge hears of it from no watch
    rig.cloud.refused.clear(); // a new reader, allowed to read (through the cloud)
    Waits.until(
        "a resourceVersion=0 read answered by the cloud",
        Duration.ofSeconds(10),
        () -> names(list("tok-p3")).contains("cm2"));
  }

  @Test
  void aTokenRefusedOnceKeepsTheScopeAgainOnceItsRightsAreBack() throws Exception {
    rig = rig();
    rig.cloud.put("a", "cm1", "k", "1");
    assertThat(names(list("tok-r"))).containsExactly("cm1"); // the scope runs as the reader
    assertThat(names(list("tok-w"))).containsExactly("cm1");
    // The reader's RoleBinding goes: the cloud stops its watch, the writer carries the scope on.
    rig.cloud.refused.add("tok-r");
    rig.cloud.stopWatch(watchId(), 403, "Forbidden", "the reader may no longer watch");
    Waits.until(
        "carried on with the writer's token",
        Duration.ofSeconds(10),
        () -> rig.server.cached(SCOPE) && rig.cloud.watchTokens.get(watchId()).equals("tok-w"));
    // The RoleBinding is given back; the reader reads on (through the cloud).
    rig.cloud.refused.remove("tok-r");
    Thread.sleep(ScopeTokens.REFUSAL_HOLD_MILLIS + 200);
    assertThat(names(list("tok-r"))).containsExactly("cm1");
    // Now the writer's goes, and the node never had the right: the reader may keep the scope.
    rig.cloud.refused.add("tok-w");
    rig.cloud.refused.add("");
    rig.cloud.stopWatch(watchId(), 403, "Forbidden", "the writer may no longer watch");
    Waits.until(
        "carried on with the reader's token again",
        Duration.ofSeconds(10),
        () -> rig.server.cached(SCOPE) && rig.cloud.watchTokens.get(watchId()).equals("tok-r"));
  }

  @Test
  void aTokenTheCloudJustRefusedIsNotAnsweredFromTheStore() throws Exception {
    rig = rig();
    rig.cloud.put("a", "cm1", "k", "1");
    assertThat(names(list("tok-w"))).containsExactly("cm1"); // the scope runs as the writer
    assertThat(names(list("tok-r"))).containsExactly("cm1");
    // The writer's RoleBinding goes. The edge's own view of RBAC may not have it yet (the rig's
    // allows everything): the cloud's refusal a moment ago is what the edge knows.
    rig.cloud.refused.add("tok-w");
    rig.cloud.stopWatch(watchId(), 403, "Forbidden", "the writer may no longer watch");
    Waits.until(
        "carried on with the reader's token",
        Duration.ofSeconds(10),
        () -> rig.server.cached(SCOPE) && rig.cloud.watchTokens.get(watchId()).equals("tok-r"));
    int before = rig.cloud.applications.size();
    HttpResponse<String> r = list("tok-w");
    assertThat(r.statusCode()).as("the cloud's answer, not the store's").isEqualTo(401);
    assertThat(rig.cloud.applications.size()).isGreaterThan(before);
    try (MetaServerRig.Stream w = rig.watch(CMS + "?watch=true", "Authorization", "Bearer tok-w")) {
      assertThat(w.response.statusCode()).isEqualTo(403);
    }
    assertThat(names(list("tok-r"))).as("the reader still from the store").containsExactly("cm1");
    // Its RoleBinding comes back: a read the cloud answers ends the refusal at once.
    rig.cloud.refused.remove("tok-w");
    assertThat(names(list("tok-w"))).containsExactly("cm1");
    Waits.until(
        "the writer's watch served again",
        Duration.ofSeconds(10),
        () -> {
          try (MetaServerRig.Stream w =
              rig.watch(CMS + "?watch=true", "Authorization", "Bearer tok-w")) {
            return w.response.statusCode() == 200;
          }
        });
  }

  @Test
  void aReaderComingWhileTheLastIdentityIsTriedHasItsOwnTokenTried() throws Exception {
    rig = rig();
    rig.cloud.put("a", "cm1", "k", "1");
    assertThat(names(list("tok-p1"))).containsExactly("cm1");
    rig.cloud.refused.add("tok-p1");
    rig.cloud.refused.add("");
    CompletableFuture<Void> hold = new CompletableFuture<>();
    rig.cloud.holdRefusals = hold;
    int before = registrations().size();
    rig.cloud.stopWatch(watchId(), 401, "Unauthorized", "the pod p1 is gone");
    Waits.until(
        "the node's identity tried (its answer held)",
        Duration.ofSeconds(10),
        () -> registrations().stream().skip(before).anyMatch(a -> a.kedge().token().isEmpty()));
    // A new pod watches while that attempt is under way; then the node is refused.
    CompletableFuture<MetaServerRig.Stream> watch =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return rig.watch(CMS + "?watch=true", "Authorization", "Bearer tok-p2");
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    Thread.sleep(300);
    rig.cloud.holdRefusals = null;
    hold.complete(null);
    try (MetaServerRig.Stream w = watch.get(20, TimeUnit.SECONDS)) {
      assertThat(w.response.statusCode())
          .as("the watch of a pod that may watch, not the node's refusal")
          .isEqualTo(200);
      JsonNode e = w.nextChange();
      assertThat(e.path("type").asString()).as(e.toString()).isEqualTo("ADDED");
    }
    assertThat(rig.cloud.watchTokens.get(watchId())).isEqualTo("tok-p2");
  }

  @Test
  void aRestartedEdgeRegistersItsScopesWithAKeptTokenNotWithout() throws Exception {
    rig = rig();
    rig.cloud.put("a", "cm1", "k", "1");
    assertThat(names(list("tok-p1"))).containsExactly("cm1");
    rig.close();
    rig = null;

    rig = rig();
    rig.cloud.refused.add(""); // without a token (as the node) it would be refused
    rig.cloud.put("a", "cm1", "k", "1");
    Waits.until(
        "the scope current again with no pod reading",
        Duration.ofSeconds(10),
        () -> rig.server.cached(SCOPE));
    assertThat(rig.cloud.watchTokens.values()).containsExactly("tok-p1");
  }
}
