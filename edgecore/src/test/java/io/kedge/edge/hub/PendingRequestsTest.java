package io.kedge.edge.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import io.kedge.protocol.message.MessageRoute;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Where a waiting request's deadline is kept, and where its answer arrives. */
class PendingRequestsTest {
  final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);
  final ExecutorService callbacks = Executors.newSingleThreadExecutor();
  final EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  final EventLoop loop = loops.next();
  final PendingRequests pending = new PendingRequests(timer, callbacks);

  @AfterEach
  void stop() {
    timer.shutdownNow();
    callbacks.shutdownNow();
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  static Message query() {
    return Message.of(new MessageRoute("edged", "meta", "query", "default/node/edge-1"), null);
  }

  static Message replyTo(Message request) {
    return new Message(
        MessageHeader.replyTo(request.id()),
        new MessageRoute("edgecontroller", "resource", "response", request.resource()),
        null);
  }

  /** Registers on the loop's own thread, as MetaServer does on the link's loop. */
  CompletableFuture<Message> registerOnTheLoop(Message request, Duration timeout) throws Exception {
    CompletableFuture<CompletableFuture<Message>> f = new CompletableFuture<>();
    loop.execute(() -> f.complete(pending.register(request, timeout, loop)));
    return f.get(10, TimeUnit.SECONDS);
  }

  @Test
  void aRequestMadeOnAnEventLoopKeepsItsDeadlineThereAndIsAnsweredThere() throws Exception {
    Message q = query();
    CompletableFuture<Message> reply = registerOnTheLoop(q, Duration.ofSeconds(30));
    assertThat(timer.getQueue()).isEmpty();
    CompletableFuture<Boolean> onLoop = reply.thenApply(m -> loop.inEventLoop());
    assertThat(pending.complete(replyTo(q))).isNotEqualTo(PendingRequests.Completion.NONE);
    assertThat(onLoop.get(10, TimeUnit.SECONDS)).isTrue();
    assertThat(pending.size()).isZero();

    CompletableFuture<Message> late = registerOnTheLoop(query(), Duration.ofMillis(200));
    assertThatThrownBy(() -> late.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(TimeoutException.class);
    assertThat(pending.size()).isZero();
  }

  @Test
  void elsewhereTheSharedTimerKeepsTheDeadline() throws Exception {
    Message q = query();
    CompletableFuture<Message> reply = pending.register(q, Duration.ofSeconds(30), loop);
    assertThat(timer.getQueue()).hasSize(1);
    assertThat(pending.complete(replyTo(q))).isNotEqualTo(PendingRequests.Completion.NONE);
    assertThat(reply.get(10, TimeUnit.SECONDS).parentId()).isEqualTo(q.id());

    CompletableFuture<Message> late = pending.register(query(), Duration.ofMillis(200), null);
    assertThatThrownBy(() -> late.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(TimeoutException.class);
  }
}
