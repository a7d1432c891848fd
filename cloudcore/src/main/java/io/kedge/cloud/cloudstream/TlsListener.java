package io.kedge.cloud.cloudstream;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.util.function.Consumer;

/** The TLS listen socket both stream-side servers share; each adds its own handlers after TLS. */
final class TlsListener {
  private TlsListener() {}

  /** Binds {@code address:port}: TLS (handshake within 10 s), then {@code handlers}. */
  static Channel bind(
      EventLoopGroup group,
      SslContext tls,
      String address,
      int port,
      Consumer<ChannelPipeline> handlers) {
    return new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childHandler(
            new ChannelInitializer<SocketChannel>() {
              @Override
              protected void initChannel(SocketChannel ch) {
                SslHandler sh = tls.newHandler(ch.alloc());
                sh.setHandshakeTimeoutMillis(10_000);
                ch.pipeline().addLast("ssl", sh);
                handlers.accept(ch.pipeline());
              }
            })
        .bind(address, port)
        .syncUninterruptibly()
        .channel();
  }
}
