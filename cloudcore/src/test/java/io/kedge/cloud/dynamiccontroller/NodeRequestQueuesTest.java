package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class NodeRequestQueuesTest {
  private final List<String> started = new ArrayList<>();
  private final List<CompletableFuture<Void>> running = new ArrayList<>();

  private java.util.function.Supplier<CompletableFuture<?>> task(String name) {
    return () -> {
      CompletableFuture<Void> f = new CompletableFuture<>();
      synchronized (started) {
        started.add(name);
        running.add(f);
      }
      return f;
    };
  }

  @Test
  void aFullQueueRefusesInsteadOfWaiting() {
    NodeRequestQueues q = new NodeRequestQueues(Runnable::run, 1, 2, 10);
    assertThat(q.offer("n", task("a"))).isTrue(); // runs
    assertThat(q.offer("n", task("b"))).isTrue(); // waits
    assertThat(q.offer("n", task("c"))).isTrue(); // waits
    assertThat(q.offer("n", task("d"))).isFalse(); // full
    assertThat(q.offer("other", task("x"))).isTrue(); // other nodes unaffected
    assertThat(started).containsExactly("a", "x");
    running.get(0).complete(null);
    assertThat(started).containsExactly("a", "x", "b");
    assertThat(q.offer("n", task("d"))).isTrue();
  }

  @Test
  void aTaskThatNeedNotWaitStartsOnTheCallersThreadOtherwiseItQueues() {
    List<Runnable> handedOver = new ArrayList<>();
    NodeRequestQueues q = new NodeRequestQueues(handedOver::add, 1, 5, 2);
    List<Thread> ranOn = new ArrayList<>();
    java.util.function.Supplier<CompletableFuture<?>> here =
        () -> {
          ranOn.add(Thread.currentThread());
          return task("a").get();
        };
    assertThat(q.offerHere("n", here)).isTrue();
    assertThat(ranOn).containsExactly(Thread.currentThread());
    assertThat(handedOver).isEmpty();
    // n is at its limit: the next one waits for a, then goes to the executor
    assertThat(q.offerHere("n", task("b"))).isTrue();
    assertThat(started).containsExactly("a");
    assertThat(q.offerHere("m", task("x"))).isTrue(); // another node, room left: here
    assertThat(started).containsExactly("a", "x");
    assertThat(q.running()).isEqualTo(2);
    running.get(0).complete(null);
    assertThat(handedOver).hasSize(1);
    handedOver.get(0).run();
    assertThat(started).containsExactly("a", "x", "b");
    // the global limit is reached: a third node's task queues too
    assertThat(q.offerHere("k", task("y"))).isTrue();
    assertThat(started).containsExactly("a", "x", "b");
    assertThat(q.waiting("k")).isEqualTo(1);
  }

  @Test
  void nodesTakeTurnsUnderTheGlobalLimit() {
    NodeRequestQueues q = new NodeRequestQueues(Runnable::run, 10, 100, 1);
    q.offer("busy", task("b1"));
    q.offer("busy", task("b2"));
    q.offer("busy", task("b3"));
    q.offer("quiet", task("q1"));
    assertThat(started).containsExactly("b1");
    for (int i = 0; i < 3; i++) {
      running.get(i).complete(null);
    }
    // busy was waiting before quiet arrived; after that they alternate
    assertThat(started).containsExactly("b1", "b2", "q1", "b3");
    assertThat(q.running()).isEqualTo(1);
  }

  @Test
  void droppingANodeForgetsItsWaitingRequests() {
    NodeRequestQueues q = new NodeRequestQueues(Runnable::run, 1, 5, 10);
    q.offer("n", task("a"));
    q.offer("n", task("b"));
    q.offer("n", task("c"));
    assertThat(q.drop("n")).isEqualTo(2);
    running.get(0).complete(null);
    assertThat(started).containsExactly("a");
    assertThat(q.running()).isZero();
  }
}
