package io.kedge.edge.metaserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectChange;
import io.kedge.edge.store.Scope;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import io.kedge.protocol.Json;
import io.kedge.protocol.status.KubeStatus;
import io.kedge.testkit.Waits;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/** The tokens that may keep a scope current: kept in the store, gone with their pod or expiry. */
class ScopeTokensTest {
  static final Scope SCOPE = new Scope(Gvr.core("configmaps"), "x");
  static final Instant NOW = Instant.parse("2026-12-07T00:00:00Z");

  @TempDir Path dir;
  SqliteStore store;

  @BeforeEach
  void open() {
    store = SqliteStore.open(StoreSettings.defaults(dir.resolve("edge.db")).withFsync(false));
  }

  @AfterEach
  void close() {
    store.close();
  }

  /** A token shaped as a pod-bound service-account token (only its claims matter here). */
  static String podToken(String pod, String uid, Instant expires) {
    ObjectNode c = Json.object();
    c.put("sub", "system:serviceaccount:x:reader");
    c.put("exp", expires.getEpochSecond());
    ObjectNode k = c.putObject("kubernetes.io");
    k.put("namespace", "x");
    k.putObject("pod").put("name", pod).put("uid", uid);
    k.putObject("serviceaccount").put("name", "reader").put("uid", "sa-uid");
    Base64.Encoder b = Base64.getUrlEncoder().withoutPadding();
    return b.encodeToString("{\"alg\":\"RS256\"}".getBytes(StandardCharsets.UTF_8))
        + "."
        + b.encodeToString(Json.bytes(c))
        + ".c2ln";
  }

  ScopeTokens tokens() {
    return new ScopeTokens(store, Clock.fixed(NOW, ZoneOffset.UTC));
  }

  @Test
  void aPodsNewestTokenReplacesItsOlderOneAndSurvivesARestart() {
    ScopeTokens t = tokens();
    String p1 = podToken("p1", "uid-1", NOW.plusSeconds(3600));
    String p1Later = podToken("p1", "uid-1", NOW.plusSeconds(7200));
    String p2 = podToken("p2", "uid-2", NOW.plusSeconds(3600));
    assertThat(t.offer(SCOPE, p1)).isTrue();
    assertThat(t.offer(SCOPE, p1)).as("the same token again").isFalse();
    assertThat(t.offer(SCOPE, p2)).isTrue();
    assertThat(t.offer(SCOPE, p1Later)).as("a newer token of a known pod").isFalse();

    Waits.until(
        "kept in the store",
        Duration.ofSeconds(10),
        () -> store.blobs(ScopeTokens.PREFIX).size() == 2);
    ScopeTokens restarted = tokens();
    assertThat(restarted.candidates(SCOPE, "uid-2"))
        .extracting(ScopeTokens.Holder::token)
        .containsExactly(p2, p1Later);
    assertThat(restarted.get(SCOPE, "uid-1").who())
        .isEqualTo("pod x/p1 (system:serviceaccount:x:reader)");
  }

  @Test
  void aPodLeavingTheNodeTakesItsTokensAlong() throws Exception {
    ScopeTokens t = tokens();
    store.addListener(t);
    t.offer(SCOPE, podToken("p1", "uid-1", NOW.plusSeconds(3600)));
    t.offer(SCOPE, podToken("p2", "uid-2", NOW.plusSeconds(3600)));
    Gvr pods = Gvr.core("pods");
    String pod =
        "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"x\",\"uid\":\"uid-1\",\"resourceVersion\":\"5\"}}";
    store.apply(ObjectChange.upsert(pods, "Pod", Json.parse(pod))).get();
    store.apply(ObjectChange.delete(pods, "Pod", Json.parse(pod), "x", "p1")).get();
    Waits.until(
        "p1's token gone from the store",
        Duration.ofSeconds(10),
        () -> store.blobs(ScopeTokens.PREFIX).size() == 1);
    assertThat(t.candidates(SCOPE, null))
        .extracting(ScopeTokens.Holder::podUid)
        .containsExactly("uid-2");
  }

  @Test
  void expiredAndRefusedTokensAreNoCandidates() {
    ScopeTokens t = tokens();
    assertThat(t.offer(SCOPE, podToken("p1", "uid-1", NOW.plusSeconds(10)))).isFalse();
    String p2 = podToken("p2", "uid-2", NOW.plusSeconds(3600));
    t.offer(SCOPE, p2);
    t.refuse(SCOPE, "uid-2", KubeStatus.failure(403, "Forbidden", "no"));
    assertThat(t.candidates(SCOPE, null)).isEmpty();
    assertThat(t.offer(SCOPE, p2)).as("the refused token, offered again").isFalse();
    assertThat(t.candidates(SCOPE, null)).isEmpty();
  }

  @Test
  void aRefusedTokenIsACandidateAgainAfterAWhile() {
    Instant[] now = {NOW};
    Clock clock =
        new Clock() {
          @Override
          public ZoneOffset getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(java.time.ZoneId zone) {
            return this;
          }

          @Override
          public Instant instant() {
            return now[0];
          }
        };
    ScopeTokens t = new ScopeTokens(store, clock);
    String p2 = podToken("p2", "uid-2", NOW.plusSeconds(3600));
    t.offer(SCOPE, p2);
    t.refuse(SCOPE, "uid-2", KubeStatus.failure(403, "Forbidden", "no"));
    now[0] = NOW.plusMillis(ScopeTokens.REFUSAL_HOLD_MILLIS - 1);
    assertThat(t.offer(SCOPE, p2)).as("offered again at once").isFalse();
    // Its RoleBinding may be back: a refusal says what RBAC allowed when it was made.
    now[0] = NOW.plusMillis(ScopeTokens.REFUSAL_HOLD_MILLIS);
    assertThat(t.offer(SCOPE, p2)).as("offered again later").isTrue();
    assertThat(t.candidates(SCOPE, null)).extracting(ScopeTokens.Holder::token).containsExactly(p2);
  }
}
