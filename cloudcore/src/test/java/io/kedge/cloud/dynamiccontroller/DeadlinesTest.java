package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DeadlinesTest {
  final EventLoopGroup loops =
      new MultiThreadIoEventLoopGroup(
          1, new DefaultThreadFactory("hub-like", true), NioIoHandler.newFactory());

  @AfterEach
  void stop() {
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** What the future ended with, and on which thread. */
  static CompletableFuture<String> outcome(CompletableFuture<String> f) {
    return f.handle(
        (v, t) ->
            (t instanceof TimeoutException ? "timeout" : String.valueOf(v))
                + " on "
                + Thread.currentThread().getName());
  }

  @Test
  void onAnEventLoopTheLoopKeepsTheDeadline() throws Exception {
    CompletableFuture<CompletableFuture<String>> late = new CompletableFuture<>();
    loops.execute(
        () ->
            late.complete(
                outcome(Deadlines.within(new CompletableFuture<>(), Duration.ofMillis(200)))));
    assertThat(late.get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS))
        .startsWith("timeout on hub-like");

    CompletableFuture<CompletableFuture<String>> inTime = new CompletableFuture<>();
    loops.execute(
        () -> {
          CompletableFuture<String> f =
              Deadlines.within(new CompletableFuture<>(), Duration.ofMillis(200));
          inTime.complete(outcome(f));
          f.complete("answer");
        });
    assertThat(inTime.get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS))
        .startsWith("answer on hub-like");
  }

  @Test
  void elsewhereTheJdksTimerKeepsIt() throws Exception {
    assertThat(
            outcome(Deadlines.within(new CompletableFuture<>(), Duration.ofMillis(200)))
                .get(10, TimeUnit.SECONDS))
        .startsWith("timeout on")
        .doesNotContain("hub-like");
  }
}
