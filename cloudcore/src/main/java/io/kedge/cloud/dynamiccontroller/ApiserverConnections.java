package io.kedge.cloud.dynamiccontroller;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandle;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.ThreadExecutorMap;
import java.io.IOException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * HTTP/1.1 keep-alive connections to the kube-apiserver for requests made with a pod's token. A
 * request is written, and its answer read, on one event loop: the loop of the thread that sends it
 * when that thread is a Netty NIO event loop (cloudcore's hub reads the edge's request there, so
 * the answer goes back to the edge without a single hand-over between threads), otherwise the one
 * loop this class owns. (The JDK client passes every exchange through a worker pool, its selector
 * thread and the common pool, which at small core counts cost more than the apiserver's own
 * answer.)
 *
 * <p>Each loop keeps its own connections: at most {@code maxConnections} open per loop; further
 * requests wait for one. A connection idle for a minute is closed. A GET that fails because a kept
 * connection was closed under it is sent once more on a new connection; nothing else is retried.
 */
final class ApiserverConnections implements AutoCloseable {
  private static final AttributeKey<Exchange> EXCHANGE = AttributeKey.valueOf("kedge.exchange");
  private static final AttributeKey<Long> LAST_USED = AttributeKey.valueOf("kedge.lastUsed");
  private static final Duration IDLE = Duration.ofMinutes(1);

  private final String host;
  private final int port;
  private final SslContext ssl;
  private final int maxConnections;
  private final Duration timeout;
  private final EventLoopGroup ownGroup;
  private final Pool own;
  private final Map<EventLoop, Pool> borrowed = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /**
   * @param ssl TLS toward the apiserver, or null for plain HTTP
   * @param maxConnections connections open at most per event loop
   */
  ApiserverConnections(
      String host, int port, SslContext ssl, int maxConnections, Duration timeout) {
    this.host = host;
    this.port = port;
    this.ssl = ssl;
    this.maxConnections = maxConnections;
    this.timeout = timeout;
    this.ownGroup =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory("apiserver-http", true), NioIoHandler.newFactory());
    this.own = new Pool(ownGroup.next());
  }

  /**
   * Sends one request; completes with the apiserver's answer, or fails with {@link
   * HttpTimeoutException} after the timeout or {@link IOException} when the apiserver cannot be
   * reached. Called on an NIO event loop, the exchange runs on that loop and the answer completes
   * there.
   *
   * @throws IllegalArgumentException for header values HTTP cannot carry
   */
  CompletableFuture<ApiResponse> send(
      String method, String pathAndQuery, Map<String, String> headers, byte[] body) {
    FullHttpRequest req =
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1,
            HttpMethod.valueOf(method),
            pathAndQuery,
            body == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
    req.headers().set(HttpHeaderNames.HOST, host + ":" + port);
    for (Map.Entry<String, String> h : headers.entrySet()) {
      req.headers().set(h.getKey(), h.getValue());
    }
    if (body != null || !HttpMethod.GET.equals(req.method())) {
      req.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body == null ? 0 : body.length);
    }
    Pending p = new Pending(req, new CompletableFuture<>());
    EventLoop here = currentNioLoop();
    if (here != null) {
      borrowed.computeIfAbsent(here, Pool::new).start(p);
    } else {
      try {
        own.loop.execute(() -> own.start(p));
      } catch (RejectedExecutionException e) {
        p.fail(new IOException("cloudcore is stopping"));
      }
    }
    return p.answer;
  }

  /** The event loop running this thread if channels of ours can register with it, else null. */
  private static EventLoop currentNioLoop() {
    EventExecutor e = ThreadExecutorMap.currentExecutor();
    return e instanceof IoEventLoop l && l.isCompatible(NioIoHandle.class) && !l.isShuttingDown()
        ? l
        : null;
  }

  /** Event loops other than our own whose connections are open (for tests). */
  int borrowedLoops() {
    return borrowed.size();
  }

  private HttpTimeoutException timedOut() {
    return new HttpTimeoutException("the apiserver did not answer within " + timeout);
  }

  @Override
  public void close() {
    closed = true;
    for (Pool pool : borrowed.values()) {
      try {
        pool.loop.execute(pool::close);
      } catch (RejectedExecutionException e) {
        // that loop ended: its connections with it
      }
    }
    own.loop.execute(own::close);
    ownGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** The connections of one event loop; everything in it runs on that loop. */
  private final class Pool {
    final EventLoop loop;
    private final Bootstrap bootstrap;
    private final ArrayDeque<Channel> idle = new ArrayDeque<>();
    private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
    private ScheduledFuture<?> idleCheck;
    private int open;

    Pool(EventLoop loop) {
      this.loop = loop;
      this.bootstrap =
          new Bootstrap()
              .group(loop)
              .channel(NioSocketChannel.class)
              .option(ChannelOption.TCP_NODELAY, true)
              .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
              .handler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      if (ssl != null) {
                        SslHandler tls = ssl.newHandler(ch.alloc(), host, port);
                        SSLEngine engine = tls.engine();
                        SSLParameters p = engine.getSSLParameters();
                        p.setEndpointIdentificationAlgorithm("HTTPS");
                        engine.setSSLParameters(p);
                        ch.pipeline().addLast("tls", tls);
                      }
                      ch.pipeline()
                          .addLast("http", new HttpClientCodec(4096, 64 * 1024, 64 * 1024))
                          .addLast("aggregate", new HttpObjectAggregator(Integer.MAX_VALUE))
                          .addLast("answer", new Answer(Pool.this));
                    }
                  });
    }

    void start(Pending p) {
      if (closed) {
        p.fail(new IOException("cloudcore is stopping"));
        return;
      }
      if (idleCheck == null) {
        idleCheck = loop.scheduleAtFixedRate(this::closeIdle, 30, 30, TimeUnit.SECONDS);
      }
      p.deadline =
          loop.schedule(
              () -> {
                if (p.channel != null) {
                  p.timedOut = true;
                  p.channel.close(); // connectionClosed fails the request as timed out
                } else {
                  waiting.remove(p);
                  p.fail(timedOut()); // waiting, or still connecting
                }
              },
              timeout.toMillis(),
              TimeUnit.MILLISECONDS);
      dispatch(p);
    }

    private void dispatch(Pending p) {
      Channel ch;
      while ((ch = idle.pollFirst()) != null) {
        if (ch.isActive()) {
          exchange(ch, p, true);
          return;
        }
      }
      if (open < maxConnections) {
        connect(p);
      } else {
        waiting.addLast(p);
      }
    }

    private void connect(Pending p) {
      open++;
      ChannelFuture f = bootstrap.connect(host, port);
      f.channel().closeFuture().addListener(x -> connectionClosed(f.channel()));
      f.addListener(
          x -> {
            if (x.isSuccess()) {
              exchange(f.channel(), p, false);
            } else {
              p.fail(new IOException("cannot connect to the apiserver: " + x.cause(), x.cause()));
            }
          });
    }

    private void exchange(Channel ch, Pending p, boolean reused) {
      if (p.answer.isDone()) { // timed out while connecting
        release(ch);
        return;
      }
      p.channel = ch;
      ch.attr(EXCHANGE).set(new Exchange(p, reused));
      ch.writeAndFlush(p.request.retainedDuplicate())
          .addListener(
              w -> {
                if (!w.isSuccess()) {
                  ch.close();
                }
              });
    }

    /** A connection whose exchange ended and that may carry the next one. */
    void release(Channel ch) {
      ch.attr(EXCHANGE).set(null);
      if (closed || !ch.isActive()) {
        ch.close();
        return;
      }
      Pending next = waiting.pollFirst();
      if (next != null) {
        exchange(ch, next, true);
        return;
      }
      ch.attr(LAST_USED).set(System.nanoTime());
      idle.addFirst(ch); // the most recently used first: the others age out
    }

    private void connectionClosed(Channel ch) {
      open--;
      idle.remove(ch);
      Exchange e = ch.attr(EXCHANGE).getAndSet(null);
      if (e != null && !e.pending.answer.isDone()) {
        Pending p = e.pending;
        if (p.timedOut) {
          p.fail(timedOut());
        } else if (e.reused && !p.retried && HttpMethod.GET.equals(p.request.method())) {
          // The apiserver closed a kept connection as the request went out.
          p.retried = true;
          p.channel = null;
          dispatch(p);
        } else {
          p.fail(new IOException("the apiserver closed the connection"));
        }
      }
      Pending next = waiting.peekFirst();
      if (next != null && open < maxConnections && !closed) {
        waiting.pollFirst();
        connect(next);
      }
    }

    private void closeIdle() {
      long now = System.nanoTime();
      for (Iterator<Channel> it = idle.iterator(); it.hasNext(); ) {
        Channel ch = it.next();
        Long used = ch.attr(LAST_USED).get();
        if (used == null || now - used > IDLE.toNanos()) {
          it.remove();
          ch.close();
        }
      }
    }

    void close() {
      if (idleCheck != null) {
        idleCheck.cancel(false);
      }
      for (Pending p : waiting) {
        p.fail(new IOException("cloudcore is stopping"));
      }
      waiting.clear();
      for (Channel ch : idle) {
        ch.close();
      }
      idle.clear();
    }
  }

  /** One request from submission to answer. */
  private static final class Pending {
    final FullHttpRequest request;
    final CompletableFuture<ApiResponse> answer;
    Channel channel; // event loop only
    ScheduledFuture<?> deadline; // event loop only
    boolean retried; // event loop only
    boolean timedOut; // event loop only

    Pending(FullHttpRequest request, CompletableFuture<ApiResponse> answer) {
      this.request = request;
      this.answer = answer;
    }

    void fail(Throwable t) {
      if (!answer.isDone()) {
        done();
        answer.completeExceptionally(t);
      }
    }

    void succeed(ApiResponse r) {
      if (!answer.isDone()) {
        done();
        answer.complete(r);
      }
    }

    private void done() {
      if (deadline != null) {
        deadline.cancel(false);
      }
      request.release();
    }
  }

  private record Exchange(Pending pending, boolean reused) {}

  /** Completes the connection's current exchange with the apiserver's full answer. */
  private final class Answer extends SimpleChannelInboundHandler<FullHttpResponse> {
    private final Pool pool;

    Answer(Pool pool) {
      this.pool = pool;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse res) {
      Exchange e = ctx.channel().attr(EXCHANGE).get();
      if (e == null) {
        ctx.close(); // an answer nobody asked for
        return;
      }
      e.pending.succeed(
          new ApiResponse(
              res.status().code(),
              res.headers().get(HttpHeaderNames.CONTENT_TYPE, ""),
              ByteBufUtil.getBytes(res.content())));
      if (HttpUtil.isKeepAlive(res)) {
        pool.release(ctx.channel());
      } else {
        ctx.channel().attr(EXCHANGE).set(null);
        ctx.close();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Exchange e = ctx.channel().attr(EXCHANGE).getAndSet(null);
      if (e != null && !e.pending.answer.isDone()) {
        e.pending.fail(
            e.pending.timedOut
                ? timedOut()
                : new IOException("apiserver connection failed: " + cause, cause));
      }
      ctx.close();
    }
  }
}
