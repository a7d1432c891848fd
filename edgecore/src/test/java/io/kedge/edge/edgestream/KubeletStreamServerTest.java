package io.kedge.edge.edgestream;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.edged.ContainerStreams;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.spdy.DefaultSpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyGoAwayFrame;
import io.netty.handler.codec.spdy.SpdySynReplyFrame;
import io.netty.handler.codec.spdy.SpdyVersion;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Edged's kubelet streaming API as client-go's SPDY executor uses it: the upgrade, the client's
 * streams each answered with a reply, the command's output and its exit report on the error stream.
 */
class KubeletStreamServerTest {
  private final EventLoopGroup local =
      new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
  private final EventLoopGroup nio = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final ExecutorService io = Executors.newCachedThreadPool();

  @AfterEach
  void stop() {
    local.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    nio.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    io.shutdownNow();
  }

  /** A command that prints to stdout and stderr and exits with 7. */
  static final class Fake implements ContainerStreams {
    volatile List<String> command;

    @Override
    public StreamTarget exec(
        String namespace, String pod, String container, List<String> cmd, StreamOptions o) {
      command = cmd;
      return new Session(
          new ContainerSession() {
            @Override
            public OutputStream stdin() {
              return null;
            }

            @Override
            public InputStream stdout() {
              return new ByteArrayInputStream("to-out\n".getBytes(StandardCharsets.UTF_8));
            }

            @Override
            public InputStream stderr() {
              return new ByteArrayInputStream("to-err\n".getBytes(StandardCharsets.UTF_8));
            }

            @Override
            public void resize(int width, int height) {}

            @Override
            public CompletableFuture<Integer> exitCode() {
              return CompletableFuture.completedFuture(7);
            }

            @Override
            public void close() {}
          });
    }

    @Override
    public StreamTarget attach(String namespace, String pod, String container, StreamOptions o)
        throws StreamException {
      throw new StreamException(400, "no attach here");
    }
  }

  static DefaultSpdySynStreamFrame syn(int id, String type) {
    DefaultSpdySynStreamFrame syn = new DefaultSpdySynStreamFrame(id, 0, (byte) 0);
    syn.headers().set("streamtype", type);
    return syn;
  }

  @Test
  void execStreamsOutputAndTheExitCodeOverSpdy() throws Exception {
    Fake fake = new Fake();
    KubeletStreamServer server = new KubeletStreamServer("t", fake, local, nio, io);
    server.start();
    BlockingQueue<Object> got = new LinkedBlockingQueue<>();
    Channel c =
        new Bootstrap()
            .group(local)
            .channel(LocalChannel.class)
            .handler(
                new ChannelInitializer<LocalChannel>() {
                  @Override
                  protected void initChannel(LocalChannel ch) {
                    ch.pipeline()
                        .addLast("http", new HttpClientCodec())
                        .addLast("agg", new HttpObjectAggregator(1 << 16))
                        .addLast(
                            "in",
                            new SimpleChannelInboundHandler<Object>() {
                              @Override
                              protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                                if (msg instanceof FullHttpResponse r) {
                                  got.add(
                                      r.status().code()
                                          + " "
                                          + r.headers().get("X-Stream-Protocol-Version"));
                                  ctx.pipeline().remove("agg");
                                  ctx.pipeline()
                                      .replace(
                                          "http", "spdy", new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
                                  // as client-go does: the first stream at once, here while
                                  // the server is still writing its 101
                                  ctx.writeAndFlush(syn(1, "error"));
                                } else if (msg instanceof SpdyFrame f) {
                                  if (f instanceof SpdyDataFrame d) {
                                    got.add(
                                        "data "
                                            + d.streamId()
                                            + " "
                                            + d.content().toString(StandardCharsets.UTF_8)
                                            + (d.isLast() ? " (last)" : ""));
                                  } else if (f instanceof SpdySynReplyFrame r) {
                                    // Go's framer needs a header block: at least one header
                                    got.add(
                                        "reply "
                                            + r.streamId()
                                            + (r.headers().isEmpty() ? " without headers" : ""));
                                  } else if (f instanceof SpdyGoAwayFrame) {
                                    got.add("goaway");
                                  }
                                }
                              }
                            });
                  }
                })
            .connect(server.address())
            .sync()
            .channel();
    DefaultFullHttpRequest req =
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1,
            HttpMethod.POST,
            "/exec/ns/pod/app?command=sh&command=-c&command=x&output=1&error=1",
            Unpooled.EMPTY_BUFFER);
    req.headers().set("Connection", "Upgrade").set("Upgrade", "SPDY/3.1");
    req.headers().add("X-Stream-Protocol-Version", "v5.channel.k8s.io");
    req.headers().add("X-Stream-Protocol-Version", "v4.channel.k8s.io");
    req.headers().set("Content-Length", "0");
    c.writeAndFlush(req).sync();
    assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("101 v4.channel.k8s.io");
    assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("reply 1");
    int id = 3;
    for (String type : List.of("stdout", "stderr")) {
      c.writeAndFlush(syn(id, type)).sync();
      assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("reply " + id);
      id += 2;
    }
    StringBuilder all = new StringBuilder();
    for (Object o; (o = got.poll(10, TimeUnit.SECONDS)) != null && !o.equals("goaway"); ) {
      all.append(o).append('\n');
    }
    assertThat(fake.command).containsExactly("sh", "-c", "x");
    assertThat(all.toString())
        .contains("data 3 to-out\n")
        .contains("data 5 to-err\n")
        .contains("data 1 {")
        .contains("\"reason\":\"NonZeroExitCode\"")
        .contains("\"message\":\"7\"");
    c.close();
    server.close();
  }
}
