package io.kedge.cloud.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HandshakeGateTest {
  final List<Channel> started = new ArrayList<>();

  void start(HandshakeGate gate, EmbeddedChannel ch) {
    gate.admit(ch, started::add);
    ch.runPendingTasks();
  }

  @Test
  void admitsUpToTheLimitAndQueuesTheRestUnread() {
    HandshakeGate gate = new HandshakeGate(2, Duration.ofSeconds(30));
    EmbeddedChannel a = new EmbeddedChannel();
    EmbeddedChannel b = new EmbeddedChannel();
    EmbeddedChannel c = new EmbeddedChannel();
    start(gate, a);
    start(gate, b);
    start(gate, c);
    assertThat(started).containsExactly(a, b);
    assertThat(c.config().isAutoRead()).as("a waiting connection is not read").isFalse();
    assertThat(gate.running()).isEqualTo(2);
    assertThat(gate.waiting()).isEqualTo(1);

    gate.release();
    c.runPendingTasks();
    assertThat(started).containsExactly(a, b, c);
    assertThat(c.config().isAutoRead()).isTrue();
    assertThat(gate.running()).as("the slot passed on").isEqualTo(2);

    gate.release();
    gate.release();
    assertThat(gate.running()).isZero();
  }

  @Test
  void aWaiterThatClosedGivesItsTurnToTheNext() {
    HandshakeGate gate = new HandshakeGate(1, Duration.ofSeconds(30));
    EmbeddedChannel a = new EmbeddedChannel();
    EmbeddedChannel gone = new EmbeddedChannel();
    EmbeddedChannel next = new EmbeddedChannel();
    start(gate, a);
    start(gate, gone);
    start(gate, next);
    gone.close();
    assertThat(gate.waiting()).as("a closed connection leaves the queue").isEqualTo(1);
    gate.release();
    next.runPendingTasks();
    assertThat(started).containsExactly(a, next);
    assertThat(gate.running()).isEqualTo(1);
  }

  @Test
  void theNewestWaiterGoesFirst() {
    HandshakeGate gate = new HandshakeGate(1, Duration.ofSeconds(30));
    EmbeddedChannel a = new EmbeddedChannel();
    EmbeddedChannel older = new EmbeddedChannel();
    EmbeddedChannel newer = new EmbeddedChannel();
    start(gate, a);
    start(gate, older);
    start(gate, newer);
    gate.release();
    newer.runPendingTasks();
    older.runPendingTasks();
    assertThat(started).containsExactly(a, newer);
    gate.release();
    older.runPendingTasks();
    assertThat(started).containsExactly(a, newer, older);
  }

  @Test
  void aConnectionWaitingTooLongIsClosed() throws Exception {
    HandshakeGate gate = new HandshakeGate(1, Duration.ofMillis(50));
    EmbeddedChannel a = new EmbeddedChannel();
    EmbeddedChannel late = new EmbeddedChannel();
    start(gate, a);
    start(gate, late);
    TimeUnit.MILLISECONDS.sleep(80);
    late.runScheduledPendingTasks();
    assertThat(late.isOpen()).isFalse();
    assertThat(gate.waiting()).isZero();
    gate.release();
    assertThat(gate.running()).isZero();
    assertThat(started).containsExactly(a);
  }

  @Test
  void refusesANonPositiveLimit() {
    assertThatThrownBy(() -> new HandshakeGate(0, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
