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
