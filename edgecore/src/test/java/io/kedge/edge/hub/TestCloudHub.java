package io.kedge.edge.hub;

import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageCodec;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A minimal CloudHub for EdgeHub tests: WebSocket over mutual TLS (client certificate required and
 * verified against the hub CA), recording the upgrade request, every message and every ping, and
 * able to send any frame to the connected edge.
 */
public final class TestCloudHub implements AutoCloseable {
  /** One accepted upgrade: path, headers (lower-cased names as sent), client certificate CN. */
  public record Upgrade(String uri, Map<String, String> headers, String clientCn, String serial) {}

  private final TestPki pki;
  private final EventLoopGroup group;
  private volatile Channel server;
  private volatile int port;
  public final BlockingQueue<Message> received = new LinkedBlockingQueue<>();
  public final List<Upgrade> upgrades = new CopyOnWriteArrayList<>();
  public final List<Channel> sessions = new CopyOnWriteArrayList<>();
  public final AtomicInteger pings = new AtomicInteger();

  /** When false, pings are swallowed instead of answered (a cloud that has gone silent). */
  public volatile boolean answerPings = true;

  /** Answers received messages: a non-null result is sent back to the edge. */
  public volatile java.util.function.Function<Message, Message> responder = m -> null;

  public TestCloudHub(TestPki pki) {
    this.pki = pki;
    this.group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  }

  public TestCloudHub start() throws Exception {
    return start(0);
  }

  public TestCloudHub start(int bindPort) throws Exception {
    SslContext ssl =
        SslContextBuilder.forServer(pki.serverKey, pki.serverCert, pki.ca.certificate())
            .trustManager(pki.ca.certificate())
            .clientAuth(ClientAuth.REQUIRE)
            .build();
    server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    SslHandler tls = ssl.newHandler(ch.alloc());
                    ch.pipeline()
                        .addLast(tls)
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(1 << 20))
                        .addLast(new UpgradeRecorder(tls))
                        .addLast(new PingFilter())
                        .addLast(
                            new WebSocketServerProtocolHandler(
                                WebSocketServerProtocolConfig.newBuilder()
                                    .websocketPath("/")
                                    .checkStartsWith(true)
                                    .maxFramePayloadLength(64 << 20)
                                    .build()))
                        .addLast(new Inbound());
                  }
                })
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), bindPort))
            .sync()
            .channel();
    port = ((InetSocketAddress) server.localAddress()).getPort();
    return this;
  }

  public int port() {
    return port;
  }

  public String address() {
    return "127.0.0.1:" + port;
  }

  /** Stops accepting and drops every session (like a cloudcore that died); can start again. */
  public void stopServing() throws InterruptedException {
    server.close().sync();
    for (Channel c : sessions) {
      c.close().sync();
    }
    sessions.clear();
  }

  public void restart() throws Exception {
    start(port);
  }

  public Channel session() {
    return sessions.isEmpty() ? null : sessions.get(sessions.size() - 1);
  }

  public void send(Message m) {
    sendText(MessageCodec.encodeToString(m));
  }

  /** Writes all, flushes once, and waits for the last write. */
  public void sendAll(List<Message> messages) {
    Channel ch = session();
    io.netty.channel.ChannelFuture last = null;
    for (Message m : messages) {
      last = ch.write(new TextWebSocketFrame(MessageCodec.encodeToString(m)));
    }
    ch.flush();
    if (last != null) {
      last.syncUninterruptibly();
    }
  }

  public void sendText(String text) {
    session().writeAndFlush(new TextWebSocketFrame(text)).syncUninterruptibly();
  }

  public void sendBinary(byte[] bytes) {
    session()
        .writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes)))
        .syncUninterruptibly();
  }

  /** The next received message matching {@code p}, skipping others; null after {@code max}. */
  public Message next(Predicate<Message> p, Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return null;
      }
      Message m = received.poll(left, TimeUnit.NANOSECONDS);
      if (m == null) {
        return null;
      }
      if (p.test(m)) {
        return m;
      }
    }
  }

  @Override
  public void close() {
    try {
      if (server != null) {
        server.close().syncUninterruptibly();
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private final class UpgradeRecorder extends ChannelInboundHandlerAdapter {
    private final SslHandler tls;

    UpgradeRecorder(SslHandler tls) {
      this.tls = tls;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (msg instanceof FullHttpRequest req) {
        Map<String, String> h = new TreeMap<>();
        req.headers().forEach(e -> h.put(e.getKey(), e.getValue()));
        X509Certificate peer = (X509Certificate) tls.engine().getSession().getPeerCertificates()[0];
        upgrades.add(
            new Upgrade(
                req.uri(), h, EdgeCredentials.commonName(peer), peer.getSerialNumber().toString()));
        sessions.add(ctx.channel());
      }
      super.channelRead(ctx, msg);
    }
  }

  private final class PingFilter extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (msg instanceof PingWebSocketFrame ping) {
        pings.incrementAndGet();
        if (!answerPings) {
          ping.release();
          return;
        }
      }
      super.channelRead(ctx, msg);
    }
  }

  private final class Inbound extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof TextWebSocketFrame || msg instanceof BinaryWebSocketFrame) {
          Message m = MessageCodec.decode(ByteBufUtil.getBytes(((WebSocketFrame) msg).content()));
          received.add(m);
          Message answer = responder.apply(m);
          if (answer != null) {
            ctx.writeAndFlush(new TextWebSocketFrame(MessageCodec.encodeToString(answer)));
          }
        }
      } finally {
        io.netty.util.ReferenceCountUtil.release(msg);
      }
    }
  }
}
