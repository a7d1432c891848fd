package io.kedge.cloud.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

class DeliveryQueueTest {
  private final EmbeddedChannel loop = new EmbeddedChannel();
  private final List<Message> sent = new ArrayList<>();
  private final List<Message> acked = new ArrayList<>();
  private boolean writable = true;

  private DeliveryQueue queue(int window, int limit) {
    loop.freezeTime();
    return new DeliveryQueue(
        "edge-1",
        loop.eventLoop(),
        new DeliveryQueue.Sink() {
          @Override
          public boolean writable() {
            return writable;
          }

          @Override
          public void write(Message m) {
            sent.add(m);
          }
        },
        new AckRetryPolicy(Duration.ofSeconds(5), 3, Duration.ofSeconds(60)),
        window,
        limit,
        new AckListener() {
          @Override
          public void acknowledged(String node, Message m) {
            acked.add(m);
          }

          @Override
          public boolean holds(String node, Message m) {
            return acked.stream()
                .anyMatch(
                    a ->
                        uid(a).equals(uid(m))
                            && Long.parseLong(a.header().resourceVersion())
                                >= Long.parseLong(m.header().resourceVersion()));
          }
        });
  }

  static String uid(Message m) {
    return m.content().path("metadata").path("uid").asString();
  }

  @AfterEach
  void tearDown() {
    loop.finishAndReleaseAll();
  }

  static Message object(String op, String name, String uid, String rv) {
    ObjectNode c = Json.object();
    c.putObject("metadata").put("name", name).put("namespace", "default").put("uid", uid);
    return new Message(
        MessageHeader.create().withResourceVersion(rv),
        new MessageRoute("edgecontroller", "resource", op, "default/configmap/" + name),
        c);
  }

  private void advance(int seconds) {
    loop.advanceTimeBy(seconds, TimeUnit.SECONDS);
    loop.runScheduledPendingTasks();
  }

  @Test
  void resendsTheSameMessageIdUntilAcknowledged() {
    DeliveryQueue q = queue(8, 100);
    Message m = object("insert", "a", "u1", "10");
    CompletableFuture<Void> f = q.offer(m);
    assertThat(sent).hasSize(1);
    advance(5);
    advance(5);
    assertThat(sent).hasSize(3).allSatisfy(s -> assertThat(s.id()).isEqualTo(m.id()));
    assertThat(f).isNotDone();
    assertThat(q.ack(m.id())).isTrue();
    assertThat(f).isCompleted();
    assertThat(acked).containsExactly(m);
    assertThat(q.size()).isZero();
    advance(30);
    assertThat(sent).hasSize(3);
  }

  @Test
  void whoeverWaitsForTheDeliveryFindsTheAckRecorded() {
    DeliveryQueue q = queue(8, 100);
    Message m = object("insert", "a", "u1", "10");
    List<Message> seenOnCompletion = new ArrayList<>();
    q.offer(m).thenRun(() -> seenOnCompletion.addAll(acked));
    q.ack(m.id());
    assertThat(seenOnCompletion).containsExactly(m);
  }

  @Test
  void afterMaxSendsBacksOffAndTriesAgain() {
    DeliveryQueue q = queue(8, 100);
    Message m = object("insert", "a", "u1", "10");
    q.offer(m);
    advance(5);
    advance(5);
    assertThat(sent).hasSize(3);
    advance(5); // third timeout: back-off of 5 s starts
    assertThat(q.inFlight()).isZero();
    assertThat(sent).hasSize(3);
    advance(5);
    assertThat(sent).hasSize(4);
    assertThat(sent.get(3).id()).isEqualTo(m.id());
    assertThat(q.ack(m.id())).isTrue();
  }

  /**
   * A resend decided before the edge's ACK arrived (the SyncController's) is not sent when the edge
   * holds that version by the time it is queued; a newer one is.
   */
  @Test
  void aResendOfAVersionTheEdgeHoldsIsNotSent() {
    DeliveryQueue q = queue(8, 100);
    Message v10 = object("update", "a", "u1", "10");
    q.offer(v10);
    q.ack(v10.id());
    assertThat(q.offer(object("update", "a", "u1", "10"), DeliveryQueue.Mode.RESEND)).isCompleted();
    assertThat(q.offer(object("update", "a", "u1", "9"), DeliveryQueue.Mode.RESEND)).isCompleted();
    assertThat(sent).extracting(Message::id).containsExactly(v10.id());
    Message v11 = object("update", "a", "u1", "11");
    assertThat(q.offer(v11, DeliveryQueue.Mode.RESEND)).isNotDone();
    assertThat(sent).extracting(Message::id).containsExactly(v10.id(), v11.id());
    // a plain delivery is sent whatever the edge holds
    q.ack(v11.id());
    Message again = object("update", "a", "u1", "11");
    q.offer(again);
    assertThat(sent).extracting(Message::id).endsWith(again.id());
  }

  @Test
  void newerVersionReplacesAQueuedOlderOne() {
    DeliveryQueue q = queue(1, 100);
    Message blocker = object("insert", "x", "ux", "1");
    q.offer(blocker);
    Message v1 = object("update", "a", "u1", "10");
    Message v2 = object("update", "a", "u1", "11");
    CompletableFuture<Void> f1 = q.offer(v1);
    CompletableFuture<Void> f2 = q.offer(v2);
    assertThat(f1).isCompletedExceptionally();
    assertThat(q.size()).isEqualTo(2);
    q.ack(blocker.id());
    assertThat(sent).extracting(Message::id).containsExactly(blocker.id(), v2.id());
    q.ack(v2.id());
    assertThat(f2).isCompleted();
  }

  @Test
  void olderOrSameVersionDoesNotReplace() {
    DeliveryQueue q = queue(1, 100);
    q.offer(object("insert", "x", "ux", "1"));
    Message v2 = object("update", "a", "u1", "11");
    CompletableFuture<Void> f2 = q.offer(v2);
    assertThat(q.offer(object("update", "a", "u1", "10"))).isCompletedExceptionally();
    assertThat(q.offer(object("update", "a", "u1", "11"))).isSameAs(f2);
  }

  @Test
  void newerVersionWaitsForTheOneInFlightThenFollows() {
    DeliveryQueue q = queue(8, 100);
    Message v1 = object("update", "a", "u1", "10");
    Message v2 = object("update", "a", "u1", "11");
    CompletableFuture<Void> f1 = q.offer(v1);
    CompletableFuture<Void> f2 = q.offer(v2);
    assertThat(sent).extracting(Message::id).containsExactly(v1.id());
    q.ack(v1.id());
    assertThat(f1).isCompleted();
    assertThat(sent).extracting(Message::id).containsExactly(v1.id(), v2.id());
    q.ack(v2.id());
    assertThat(f2).isCompleted();
    assertThat(acked).containsExactly(v1, v2);
  }

  @Test
  void newerVersionIsSentInsteadOfTheNextResend() {
    DeliveryQueue q = queue(8, 100);
    Message v1 = object("update", "a", "u1", "10");
    CompletableFuture<Void> f1 = q.offer(v1);
    Message v2 = object("update", "a", "u1", "11");
    CompletableFuture<Void> f2 = q.offer(v2);
    advance(5);
    assertThat(sent).extracting(Message::id).containsExactly(v1.id(), v2.id());
    assertThat(f1).isCompletedExceptionally();
    assertThat(q.ack(v1.id())).isFalse();
    assertThat(q.ack(v2.id())).isTrue();
    assertThat(f2).isCompleted();
  }

  @Test
  void deleteSupersedesAnyVersion() {
    DeliveryQueue q = queue(1, 100);
    q.offer(object("insert", "x", "ux", "1"));
    CompletableFuture<Void> f = q.offer(object("update", "a", "u1", "11"));
    Message del = object("delete", "a", "u1", "");
    q.offer(del);
    assertThat(f).isCompletedExceptionally();
    assertThat(q.offer(object("update", "a", "u1", "12"))).isCompletedExceptionally();
  }

  @Test
  void windowLimitsUnacknowledgedMessages() {
    DeliveryQueue q = queue(2, 100);
    List<Message> ms = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      Message m = object("insert", "o" + i, "u" + i, "1");
      ms.add(m);
      q.offer(m);
    }
    assertThat(sent).hasSize(2);
    q.ack(ms.get(0).id());
    assertThat(sent).hasSize(3);
  }

  @Test
  void waitsWhileTheConnectionIsNotWritable() {
    DeliveryQueue q = queue(8, 100);
    writable = false;
    q.offer(object("insert", "a", "u1", "1"));
    assertThat(sent).isEmpty();
    writable = true;
    q.pump();
    assertThat(sent).hasSize(1);
  }

  @Test
  void fullQueueRefusesInsteadOfDropping() {
    DeliveryQueue q = queue(1, 2);
    q.offer(object("insert", "a", "u1", "1"));
    q.offer(object("insert", "b", "u2", "1"));
    CompletableFuture<Void> refused = q.offer(object("insert", "c", "u3", "1"));
    assertThat(refused)
        .failsWithin(Duration.ZERO)
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .havingCause()
        .isInstanceOfSatisfying(
            DeliveryException.class,
            e -> assertThat(e.reason()).isEqualTo(DeliveryException.Reason.QUEUE_FULL));
    // a newer version of a queued object is still accepted
    assertThat(q.offer(object("update", "b", "u2", "2"))).isNotCompletedExceptionally();
  }

  @Test
  void closeFailsEverythingQueued() {
    DeliveryQueue q = queue(1, 100);
    CompletableFuture<Void> a = q.offer(object("insert", "a", "u1", "1"));
    CompletableFuture<Void> b = q.offer(object("insert", "b", "u2", "1"));
    q.close("test");
    assertThat(a).isCompletedExceptionally();
    assertThat(b).isCompletedExceptionally();
    assertThat(q.offer(object("insert", "c", "u3", "1"))).isCompletedExceptionally();
  }

  @Test
  void repliesAreNeverMergedWithObjectUpdates() {
    DeliveryQueue q = queue(8, 100);
    Message update = object("update", "a", "u1", "10");
    Message reply =
        object("response", "a", "u1", "10")
            .withHeader(MessageHeader.replyTo("req-1").withResourceVersion("10"));
    q.offer(update);
    q.offer(reply);
    assertThat(sent).extracting(Message::id).containsExactly(update.id(), reply.id());
  }

  @Test
  void eachVersionOfferedSoIsDeliveredInOrderNoneReplaced() {
    DeliveryQueue q = queue(8, 100);
    List<Message> versions = new ArrayList<>();
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    for (int rv = 10; rv < 15; rv++) {
      Message m = object("update", "a", "u1", Integer.toString(rv));
      versions.add(m);
      futures.add(q.offer(m, DeliveryQueue.Mode.EACH));
    }
    assertThat(q.waiting()).isEqualTo(4);
    // one version at a time, each after the one before it is acknowledged, also past resends
    for (int i = 0; i < versions.size(); i++) {
      assertThat(sent).last().isEqualTo(versions.get(i));
      advance(5);
      assertThat(sent).last().isEqualTo(versions.get(i));
      assertThat(q.ack(versions.get(i).id())).isTrue();
      assertThat(futures.get(i)).isCompleted();
    }
    assertThat(acked).containsExactlyElementsOf(versions);
    assertThat(q.size()).isZero();
    assertThat(q.waiting()).isZero();
  }

  @Test
  void eachVersionIsKeptApartFromTheSameObjectsOtherDeliveries() {
    DeliveryQueue q = queue(8, 100);
    Message kept = object("update", "a", "u1", "10");
    CompletableFuture<Void> f = q.offer(kept, DeliveryQueue.Mode.EACH);
    // EdgeController's newer copy of the same object replaces nothing of the watch's
    q.offer(object("update", "a", "u1", "12"));
    Message next = object("update", "a", "u1", "11");
    CompletableFuture<Void> g = q.offer(next, DeliveryQueue.Mode.EACH);
    assertThat(f).isNotDone();
    assertThat(g).isNotDone();
    q.ack(kept.id());
    assertThat(sent).contains(next);
    // an older version than one queued: the newer follows everything queued before it
    assertThat(q.offer(object("update", "a", "u1", "9"), DeliveryQueue.Mode.EACH))
        .failsWithin(Duration.ZERO)
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .havingCause()
        .isInstanceOfSatisfying(
            DeliveryException.class,
            e -> assertThat(e.reason()).isEqualTo(DeliveryException.Reason.SUPERSEDED));
  }

  @Test
  void waitingVersionsCountAgainstTheBound() {
    DeliveryQueue q = queue(8, 3);
    assertThat(q.offer(object("update", "a", "u1", "1"), DeliveryQueue.Mode.EACH)).isNotDone();
    assertThat(q.offer(object("update", "a", "u1", "2"), DeliveryQueue.Mode.EACH)).isNotDone();
    assertThat(q.offer(object("update", "a", "u1", "3"), DeliveryQueue.Mode.EACH)).isNotDone();
    assertThat(q.offer(object("update", "a", "u1", "4"), DeliveryQueue.Mode.EACH))
        .failsWithin(Duration.ZERO)
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .havingCause()
        .isInstanceOfSatisfying(
            DeliveryException.class,
            e -> assertThat(e.reason()).isEqualTo(DeliveryException.Reason.QUEUE_FULL));
    CompletableFuture<Void> other = q.offer(object("insert", "b", "u2", "1"));
    assertThat(other).isCompletedExceptionally();
    q.close("test");
  }
}
