package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The apiserver connections against a local HTTP server that records what reaches it. */
class ApiserverConnectionsTest {
  HttpServer server;
  final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
  final AtomicInteger inFlight = new AtomicInteger();
  final AtomicInteger mostInFlight = new AtomicInteger();
  volatile CountDownLatch hold = new CountDownLatch(0);

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext(
        "/",
        ex -> {
          int now = inFlight.incrementAndGet();
          mostInFlight.accumulateAndGet(now, Math::max);
          clientPorts.add(ex.getRemoteAddress().getPort());
          try {
            if (ex.getRequestURI().getPath().equals("/slow")) {
              hold.await(20, TimeUnit.SECONDS);
            }
            byte[] in = ex.getRequestBody().readAllBytes();
            String echo =
                ex.getRequestMethod()
                    + " "
                    + ex.getRequestURI()
                    + " auth="
                    + ex.getRequestHeaders().getFirst("Authorization")
                    + " type="
                    + ex.getRequestHeaders().getFirst("Content-Type")
                    + " body="
                    + new String(in, StandardCharsets.UTF_8);
            byte[] out = echo.getBytes(StandardCharsets.UTF_8);
            if (ex.getRequestURI().getPath().equals("/close")) {
              ex.getResponseHeaders().set("Connection", "close");
            }
            ex.getResponseHeaders().set("Content-Type", "text/plain");
            int code = ex.getRequestURI().getPath().equals("/missing") ? 404 : 200;
            ex.sendResponseHeaders(code, out.length);
            ex.getResponseBody().write(out);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } finally {
            inFlight.decrementAndGet();
            ex.close();
          }
        });
    server.start();
  }

  @AfterEach
  void stop() {
    hold.countDown();
    server.stop(0);
  }

  ApiserverConnections connections(int max, Duration timeout) {
    return new ApiserverConnections("127.0.0.1", server.getAddress().getPort(), null, max, timeout);
  }

  static String text(ApiResponse r) {
    return new String(r.body(), StandardCharsets.UTF_8);
  }

  @Test
  void requestsCarryTheirHeadersAndBodyAndShareOneKeptConnection() throws Exception {
    try (ApiserverConnections c = connections(4, Duration.ofSeconds(10))) {
      for (int i = 0; i < 20; i++) {
        ApiResponse r =
            c.send("GET", "/api/v1/x?n=" + i, Map.of("Authorization", "Bearer t"), null).get();
        assertThat(r.code()).isEqualTo(200);
        assertThat(r.contentType()).isEqualTo("text/plain");
        assertThat(text(r)).isEqualTo("GET /api/v1/x?n=" + i + " auth=Bearer t type=null body=");
      }
      ApiResponse post =
          c.send(
                  "POST",
                  "/api/v1/y",
                  Map.of("Authorization", "Bearer u", "Content-Type", "application/json"),
                  "{\"a\":1}".getBytes(StandardCharsets.UTF_8))
              .get();
      assertThat(text(post))
          .isEqualTo("POST /api/v1/y auth=Bearer u type=application/json body={\"a\":1}");
      ApiResponse missing = c.send("GET", "/missing", Map.of(), null).get();
      assertThat(missing.code()).isEqualTo(404);
      assertThat(clientPorts).hasSize(1);
    }
  }

  @Test
  void aRequestSentOnAnEventLoopIsAnsweredOnThatLoopOverItsOwnConnection() throws Exception {
    EventLoopGroup group =
        new MultiThreadIoEventLoopGroup(
            2, new DefaultThreadFactory("hub-like", true), NioIoHandler.newFactory());
    try (ApiserverConnections c = connections(4, Duration.ofSeconds(10))) {
      List<String> answeredOn = new ArrayList<>();
      for (EventLoop loop : List.of((EventLoop) group.next(), (EventLoop) group.next())) {
        for (int i = 0; i < 3; i++) {
          CompletableFuture<String> thread = new CompletableFuture<>();
          loop.execute(
              () ->
                  c.send("GET", "/on-loop", Map.of(), null)
                      .whenComplete(
                          (r, err) -> {
                            if (err != null) {
                              thread.completeExceptionally(err);
                            } else {
                              thread.complete(r.code() + " " + Thread.currentThread().getName());
                            }
                          }));
          answeredOn.add(thread.get(10, TimeUnit.SECONDS));
        }
      }
      assertThat(answeredOn).hasSize(6).allMatch(a -> a.startsWith("200 hub-like-"));
      assertThat(answeredOn.subList(0, 3)).containsOnly(answeredOn.get(0));
      assertThat(answeredOn.subList(3, 6))
          .containsOnly(answeredOn.get(3))
          .doesNotContain(answeredOn.get(0));
      assertThat(c.borrowedLoops()).isEqualTo(2);
      // one kept connection per loop
      assertThat(clientPorts).hasSize(2);
      // off any loop: the class's own loop
      CompletableFuture<String> off = new CompletableFuture<>();
      c.send("GET", "/off-loop", Map.of(), null)
          .whenComplete((r, err) -> off.complete(Thread.currentThread().getName()));
      assertThat(off.get(10, TimeUnit.SECONDS)).startsWith("apiserver-http");
      assertThat(clientPorts).hasSize(3);
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  @Test
  void aConnectionTheServerClosesIsReplaced() throws Exception {
    try (ApiserverConnections c = connections(4, Duration.ofSeconds(10))) {
      for (int i = 0; i < 5; i++) {
        assertThat(c.send("GET", "/close", Map.of(), null).get().code()).isEqualTo(200);
      }
      assertThat(clientPorts).hasSize(5);
      assertThat(c.send("GET", "/after", Map.of(), null).get().code()).isEqualTo(200);
    }
  }

  @Test
  void concurrentRequestsBeyondTheLimitWaitForAConnection() throws Exception {
    hold = new CountDownLatch(1);
    try (ApiserverConnections c = connections(2, Duration.ofSeconds(20))) {
      List<CompletableFuture<ApiResponse>> all = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        all.add(c.send("GET", "/slow", Map.of(), null));
      }
      Thread.sleep(300);
      assertThat(all).noneMatch(CompletableFuture::isDone);
      hold.countDown();
      for (CompletableFuture<ApiResponse> f : all) {
        assertThat(f.get(20, TimeUnit.SECONDS).code()).isEqualTo(200);
      }
      assertThat(mostInFlight.get()).isEqualTo(2);
      assertThat(clientPorts).hasSize(2);
    }
  }

  @Test
  void anUnansweredRequestTimesOutAndTheNextOneIsServed() throws Exception {
    hold = new CountDownLatch(1);
    try (ApiserverConnections c = connections(1, Duration.ofMillis(300))) {
      assertThatThrownBy(() -> c.send("GET", "/slow", Map.of(), null).get(10, TimeUnit.SECONDS))
          .hasCauseInstanceOf(HttpTimeoutException.class);
      hold.countDown();
      assertThat(c.send("GET", "/fine", Map.of(), null).get(10, TimeUnit.SECONDS).code())
          .isEqualTo(200);
    }
  }

  @Test
  void anUnreachableApiserverFailsTheRequest() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (ApiserverConnections c =
        new ApiserverConnections("127.0.0.1", port, null, 2, Duration.ofSeconds(10))) {
      assertThatThrownBy(() -> c.send("GET", "/x", Map.of(), null).get(10, TimeUnit.SECONDS))
          .hasCauseInstanceOf(IOException.class);
    }
  }

  @Test
  void headerValuesHttpCannotCarryAreRefusedAtOnce() {
    try (ApiserverConnections c = connections(2, Duration.ofSeconds(10))) {
      assertThatThrownBy(() -> c.send("GET", "/x", Map.of("Authorization", "a\r\nb"), null))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
