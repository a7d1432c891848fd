package io.kedge.edge.metaserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.hub.NotConnectedException;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.message.Message;
import io.kedge.testkit.Waits;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests MetaServer has sent to the cloud when the connection to that cloudcore is lost (it died,
 * the edge moves to another): EdgeHub fails them with {@link NotConnectedException} at once (see
 * {@code EdgeHubTest.reconnectsAfterTheCloudGoesAway}); MetaServer must then answer the client
 * without waiting for its request timeout: writes 503 with {@code Retry-After}, reads from the
 * store.
 */
class MetaServerInFlightTest {
  private static final String CMS = MetaServerTest.CMS;

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

  /** From now on requests whose method is {@code method} are held: completed by the test. */
  private CompletableFuture<Message> hold(String method) {
    CompletableFuture<Message> held = new CompletableFuture<>();
    rig.cloud.link.answer(
        m -> {
          if (!m.resource().equals("watchapp/sync")
              && m.content().has("Kedge")
              && method.equals(Application.fromJson(m.content()).kedge().method())) {
            rig.cloud.applications.add(Application.fromJson(m.content()));
            return held;
          }
          return rig.cloud.answer(m);
        });
    return held;
  }

  /** A request of the client's sent on another thread: the test goes on while it is held. */
  private static CompletableFuture<HttpResponse<String>> inBackground(
      Callable<HttpResponse<String>> request) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return request.call();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  private void lose(CompletableFuture<Message> held) {
    rig.cloud.link.setConnected(false);
    held.completeExceptionally(new NotConnectedException("the connection to the cloud was lost"));
  }

  @Test
  void aWriteInFlightWhenTheCloudIsLostIsAnswered503WithRetryAfterAndSucceedsWhenRetried()
      throws Exception {
    CompletableFuture<Message> held = hold("POST");
    String body =
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"made\"},"
            + "\"data\":{\"a\":\"1\"}}";
    int before = rig.cloud.applications.size();
    CompletableFuture<HttpResponse<String>> answer =
        inBackground(() -> rig.send("POST", CMS, "application/json", body));
    Waits.until(
        "the write reached the cloud",
        Duration.ofSeconds(10),
        () -> answer.isDone() || rig.cloud.applications.size() > before);
    assertThat(answer).isNotDone();

    lose(held);
    // well within MetaServer's request timeout (30 s by default): the loss answers it
    HttpResponse<String> r = answer.get(10, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.headers().firstValue("Retry-After")).isPresent();
    assertThat(MetaServerRig.json(r).path("kind").asString()).isEqualTo("Status");
    assertThat(MetaServerRig.json(r).path("reason").asString()).isEqualTo("ServiceUnavailable");

    // the edge is connected again (to a survivor): the client's retry goes through
    rig.cloud.link.answer(rig.cloud::answer);
    rig.cloud.link.setConnected(true);
    HttpResponse<String> retried = rig.send("POST", CMS, "application/json", body);
    assertThat(retried.statusCode()).isEqualTo(201);
  }

  @Test
  void aConsistentReadInFlightWhenTheCloudIsLostIsAnsweredFromTheStore() throws Exception {
    rig.cloud.put("a", "c1", "k", "v1");
    assertThat(rig.get(CMS + "/c1").statusCode()).isEqualTo(200);
    Waits.until(
        "kept",
        Duration.ofSeconds(10),
        () -> rig.store.get(MetaServerTest.CM, "a", "c1").isPresent());

    CompletableFuture<Message> held = hold("GET");
    int before = rig.cloud.applications.size();
    CompletableFuture<HttpResponse<String>> answer = inBackground(() -> rig.get(CMS + "/c1"));
    Waits.until(
        "the read reached the cloud",
        Duration.ofSeconds(10),
        () -> rig.cloud.applications.size() > before);
    assertThat(answer).isNotDone();

    lose(held);
    HttpResponse<String> r = answer.get(10, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(MetaServerRig.json(r).path("data").path("k").asString()).isEqualTo("v1");
  }
}
