package io.kedge.edge.metaserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.Scope;
import io.kedge.edge.store.ScopeRecord;
import io.kedge.protocol.Json;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.Sources;
import io.kedge.testkit.Waits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * After a reconnect a scope resumes from the version the store holds it at: the cloud replays the
 * apiserver's own events since then, and open watches see exactly those (type, object, version,
 * order). A version the apiserver no longer has (410) falls back to listing the scope again, and
 * the watches open on it end with 410 rather than get the list's sum as if it were events.
 */
class SubscriptionResumeTest {
  static final Gvr CM = Gvr.core("configmaps");
  static final String CMS = "/api/v1/namespaces/a/configmaps";
  static final Scope SCOPE = new Scope(CM, "a");

  @TempDir Path dir;
  MetaServerRig rig;

  @BeforeEach
  void start() {
    rig = new MetaServerRig(dir);
    rig.cloud.resumes = true;
  }

  @AfterEach
  void stop() {
    rig.close();
  }

  long resumeRv() {
    return rig.store.scopes().stream()
        .filter(r -> r.scope().equals(SCOPE))
        .mapToLong(ScopeRecord::resumeRv)
        .findFirst()
        .orElse(0);
  }

  List<Application> lists() {
    return rig.cloud.applications.stream()
        .filter(a -> a.kedge().path().equals(CMS) && a.kedge().query().contains("limit="))
        .toList();
  }

  /** The (only) watch of the edge's last {@code watchapp/sync}. */
  Application lastWatchSync() {
    return rig.cloud.link.requests.stream()
        .filter(m -> m.resource().equals("watchapp/sync"))
        .reduce((a, b) -> b)
        .map(m -> Application.fromJson(m.content().properties().iterator().next().getValue()))
        .orElseThrow();
  }

  static String describe(JsonNode e) {
    JsonNode m = e.path("object").path("metadata");
    return e.path("type").asString()
        + " "
        + m.path("name").asString()
        + "@"
        + m.path("resourceVersion").asString();
  }

  @Test
  void aReconnectReplaysTheApiserversOwnEventsToOpenWatches() throws Exception {
    rig.cloud.put("a", "c1", "k", "1");
    rig.cloud.put("a", "c2", "k", "1");
    try (MetaServerRig.Stream w = rig.watch(CMS + "?watch=true")) {
      assertThat(w.nextChange().path("type").asString()).isEqualTo("ADDED");
      assertThat(w.nextChange().path("type").asString()).isEqualTo("ADDED");
      long listed = resumeRv();
      assertThat(listed).as("the list's version is kept").isEqualTo(rig.cloud.resourceVersion());
      int listsBefore = lists().size();

      rig.cloud.link.setConnected(false);
      int changesBefore = rig.cloud.history.size();
      rig.cloud.putQuietly("a", "c1", "k", "changed-while-away");
      rig.cloud.deleteQuietly("a", "c2");
      rig.cloud.putQuietly("a", "c3", "k", "new");
      rig.cloud.putQuietly("a", "c3", "k", "newer");
      rig.cloud.putQuietly("b", "elsewhere", "k", "1");
      rig.cloud.link.setConnected(true);

      List<String> expected = new ArrayList<>();
      for (FakeCloud.Change c :
          rig.cloud.history.subList(changesBefore, rig.cloud.history.size())) {
        if (c.ns().equals("a")) {
          expected.add(c.type() + " " + c.name() + "@" + c.rv());
        }
      }
      assertThat(expected)
          .as("what the apiserver announced meanwhile")
          .hasSize(4)
          .first()
          .asString()
          .startsWith("MODIFIED c1@");
      List<String> seen = new ArrayList<>();
      for (int i = 0; i < expected.size(); i++) {
        seen.add(describe(w.nextChange()));
      }
      assertThat(seen).containsExactlyElementsOf(expected);

      Application sync = lastWatchSync();
      assertThat(sync.kedge().query()).contains("resourceVersion=" + listed);
      Waits.until(
          "resumed", Duration.ofSeconds(10), () -> resumeRv() == rig.cloud.resourceVersion());
      assertThat(lists()).as("no list after a resume").hasSize(listsBefore);

      // later changes follow as before, once
      rig.cloud.put("a", "c1", "k", "after");
      assertThat(describe(w.nextChange()))
          .isEqualTo("MODIFIED c1@" + rig.cloud.history.get(rig.cloud.history.size() - 1).rv());
    }
    JsonNode list = MetaServerRig.json(rig.get(CMS + "?resourceVersion=0"));
    List<String> names = new ArrayList<>();
    list.path("items").forEach(i -> names.add(i.path("metadata").path("name").asString()));
    assertThat(names).containsExactly("c1", "c3");
  }

  /** What cloudcore sends a Kedge edge about how far it holds a watch's scope. */
  static Message progress(String applicationId, long rv) {
    return Message.of(
        new MessageRoute(
            Sources.DYNAMIC_CONTROLLER,
            Sources.GROUP_RESOURCE,
            Operations.KEDGE_WATCH_PROGRESS,
            "a/configmap"),
        Json.object()
            .put("applicationId", applicationId)
            .put("resourceVersion", Long.toString(rv)));
  }

  @Test
  void theCloudsProgressMovesWhereAReconnectResumesFrom() throws Exception {
    rig.cloud.put("a", "c1", "k", "1");
    try (MetaServerRig.Stream w = rig.watch(CMS + "?watch=true")) {
      w.nextChange();
      long listed = resumeRv();
      rig.cloud.put("a", "c1", "k", "2");
      w.nextChange();
      long held = rig.cloud.resourceVersion();
      assertThat(held).isGreaterThan(listed);
      String id =
          rig.store.scopes().stream()
              .filter(r -> r.scope().equals(SCOPE))
              .findFirst()
              .orElseThrow()
              .applicationId();

      rig.cloud.downstream.handle(progress(id, held)).toCompletableFuture().join();
      Waits.until("kept", Duration.ofSeconds(10), () -> resumeRv() == held);
      // another watch's progress, and an older version, change nothing
      rig.cloud.downstream.handle(progress("elsewhere", held + 5)).toCompletableFuture().join();
      rig.cloud.downstream.handle(progress(id, listed)).toCompletableFuture().join();
      Thread.sleep(200);
      assertThat(resumeRv()).isEqualTo(held);

      rig.cloud.link.setConnected(false);
      rig.cloud.putQuietly("a", "c1", "k", "away");
      rig.cloud.link.setConnected(true);
      assertThat(describe(w.nextChange())).isEqualTo("MODIFIED c1@" + rig.cloud.resourceVersion());
      Application sync = lastWatchSync();
      assertThat(sync.kedge().query()).contains("resourceVersion=" + held);
    }
  }

  @Test
  void aResumeTheCloudDoesNotAnswerInTimeIsTriedAgainAndOpenWatchesGetWhatTheyMissed()
      throws Exception {
    rig.cloud.put("a", "c1", "k", "1");
    rig.cloud.put("a", "c2", "k", "1");
    try (MetaServerRig.Stream w = rig.watch(CMS + "?watch=true")) {
      w.nextChange();
      w.nextChange();
      long listed = resumeRv();
      int listsBefore = lists().size();
      // The cloudcore the edge moved to is too slow twice in a row, then answers.
      rig.cloud.unansweredSyncs.set(2);
      rig.cloud.link.setConnected(false);
      int changesBefore = rig.cloud.history.size();
      rig.cloud.putQuietly("a", "c1", "k", "changed-while-away");
      rig.cloud.putQuietly("a", "c3", "k", "new");
      rig.cloud.link.setConnected(true);

      List<String> expected = new ArrayList<>();
      for (FakeCloud.Change c :
          rig.cloud.history.subList(changesBefore, rig.cloud.history.size())) {
        expected.add(c.type() + " " + c.name() + "@" + c.rv());
      }
      List<String> seen = new ArrayList<>();
      for (int i = 0; i < expected.size(); i++) {
        seen.add(describe(w.nextChange()));
      }
      assertThat(seen)
          .as("the open watch gets exactly what it missed, not an end")
          .containsExactlyElementsOf(expected);
      assertThat(rig.cloud.unansweredSyncs.get()).as("both slow rounds happened").isZero();
      long syncs =
          rig.cloud.link.requests.stream()
              .filter(m -> m.resource().equals("watchapp/sync"))
              .count();
      assertThat(syncs).as("two unanswered syncs, then the one answered").isEqualTo(3);
      assertThat(lastWatchSync().kedge().query()).contains("resourceVersion=" + listed);
      Waits.until(
          "resumed", Duration.ofSeconds(10), () -> resumeRv() == rig.cloud.resourceVersion());
      assertThat(lists()).as("resumed, not listed again").hasSize(listsBefore);
      assertThat(MetaServerRig.json(rig.get(CMS)).path("items").size())
          .as("served as current again")
          .isEqualTo(3);
    }
  }

  @Test
  void aVersionTooOldForTheApiserverFallsBackToAListThatConverges() throws Exception {
    rig.cloud.put("a", "c1", "k", "1");
    rig.cloud.put("a", "c2", "k", "1");
    try (MetaServerRig.Stream w = rig.watch(CMS + "?watch=true")) {
      w.nextChange();
      w.nextChange();
      int listsBefore = lists().size();
      rig.cloud.expiredBelow = Long.MAX_VALUE;

      rig.changeWhileAway();

      // What changed while away is known only in sum (a list): the watch is not given a summary
      // as if it were the apiserver's events, it ends so that its client lists again.
      JsonNode end = w.nextChange();
      assertThat(end.path("type").asString()).as(end.toString()).isEqualTo("ERROR");
      assertThat(end.path("object").path("code").asInt()).isEqualTo(410);
      assertThat(end.path("object").path("reason").asString()).isEqualTo("Expired");
      Waits.until(
          "listed again", Duration.ofSeconds(10), () -> resumeRv() == rig.cloud.resourceVersion());
      assertThat(lists()).as("a list after the 410").hasSize(listsBefore + 1);
    }
    JsonNode list = MetaServerRig.json(rig.get(CMS + "?resourceVersion=0"));
    assertThat(list.path("items").size()).isEqualTo(2);
    assertThat(
            Json.parse(rig.store.get(CM, "a", "c1").orElseThrow().json())
                .path("data")
                .path("k")
                .asString())
        .isEqualTo("changed-while-away");
  }
}
