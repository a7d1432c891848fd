package io.kedge.bench;

import io.kedge.edge.hub.JdkTlsContext;
import io.kedge.pki.Pem;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The floor under MetaServer's cached GET: a JVM that answers every request with the same bytes,
 * over the same TLS (JDK engine, Netty, one event loop) and with the same response headers, doing
 * nothing else — no routing, token, authorization or store. Whatever a client measures against it
 * is the cost of the client, the transport and the JVM; no MetaServer can answer faster.
 *
 * <p>Run as its own process, with edgecore's JVM flags: {@code FixedAnswerServer DIR}, where DIR
 * holds {@code key.pem}, {@code chain.pem} and {@code body.json}. Prints {@code listening on PORT}.
 */
public final class FixedAnswerServer {
  private FixedAnswerServer() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: FixedAnswerServer DIR (with key.pem, chain.pem, body.json)");
      System.exit(2);
    }
    Path dir = Path.of(args[0]);
    JdkTlsContext tls =
        JdkTlsContext.server(
            Pem.privateKey(Pem.read(dir.resolve("key.pem"))),
            Pem.certificates(Pem.read(dir.resolve("chain.pem"))));
    byte[] body = Files.readAllBytes(dir.resolve("body.json"));
    MultiThreadIoEventLoopGroup loop =
        new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    Channel server =
        new ServerBootstrap()
            .group(loop)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(tls.newHandler(ch.alloc()))
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(1 << 20))
                        .addLast(new Answer(body));
                  }
                })
            .bind("127.0.0.1", 0)
            .sync()
            .channel();
    Runtime.getRuntime().addShutdownHook(new Thread(loop::shutdownGracefully));
    System.out.println(
        "listening on " + ((java.net.InetSocketAddress) server.localAddress()).getPort());
    System.out.flush();
    server.closeFuture().sync();
  }

  private static final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final byte[] body;

    Answer(byte[] body) {
      this.body = body;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      FullHttpResponse res =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
      res.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, "application/json")
          .set(HttpHeaderNames.CACHE_CONTROL, "no-cache, private")
          .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
      if (HttpUtil.isKeepAlive(req)) {
        ctx.writeAndFlush(res);
      } else {
        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
