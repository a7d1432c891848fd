package io.kedge.edge.edgestream;

import io.kedge.edge.edged.ContainerStreams;
import io.kedge.protocol.Json;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.spdy.DefaultSpdyDataFrame;
import io.netty.handler.codec.spdy.DefaultSpdyGoAwayFrame;
import io.netty.handler.codec.spdy.DefaultSpdyPingFrame;
import io.netty.handler.codec.spdy.DefaultSpdySynReplyFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrame;
import io.netty.handler.codec.spdy.SpdyGoAwayFrame;
import io.netty.handler.codec.spdy.SpdyPingFrame;
import io.netty.handler.codec.spdy.SpdyRstStreamFrame;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * One exec or attach session over SPDY/3.1, the server side of client-go's remote-command executor:
 * the client opens the streams it wants ({@code streamType} error, stdin, stdout, stderr, resize),
 * each answered with a reply; once the expected ones are there the command starts, its output goes
 * out on stdout/stderr, stdin and terminal sizes come in, and at the end the error stream carries
 * the exit report and everything is closed. No SPDY flow control, as in the kubelet's (Go's
 * spdystream) and the client's.
 */
final class RemoteCommandHandler extends SimpleChannelInboundHandler<SpdyFrame> {
  private static final Logger LOG = LoggerFactory.getLogger(RemoteCommandHandler.class);
  private static final int CHUNK = 32 * 1024;

  private final String version;
  private final ContainerStreams.StreamOptions options;
  private final Supplier<ContainerStreams.ContainerSession> start;
  private final ExecutorService io;
  private final String what;

  private int errorStream = -1;
  private int stdinStream = -1;
  private int stdoutStream = -1;
  private int stderrStream = -1;
  private int resizeStream = -1;
  private Channel channel;
  private volatile ContainerStreams.ContainerSession session;
  private final ByteArrayOutputStream resizeBuffer = new ByteArrayOutputStream();
  private boolean started;
  private boolean ended;

  /** stdin and sizes that came before the command started, for it once it has (event loop). */
  private final java.util.List<java.util.function.Consumer<ContainerStreams.ContainerSession>>
      early = new java.util.ArrayList<>();

  /** stdin writes, one after another in the order they came. */
  private CompletableFuture<Void> stdinWrites = CompletableFuture.completedFuture(null);

  /**
   * @param start starts the command (called once the expected streams exist, off the event loop)
   * @param io threads for the blocking reads and writes of the command's streams
   */
  RemoteCommandHandler(
      String version,
      ContainerStreams.StreamOptions options,
      Supplier<ContainerStreams.ContainerSession> start,
      ExecutorService io,
      String what) {
    this.version = version;
    this.options = options;
    this.start = start;
    this.io = io;
    this.what = what;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    ctx.executor()
        .schedule(
            () -> {
              if (!started && channel.isActive()) {
                LOG.warn("edgestream: {}: the client did not open its streams within 30 s", what);
                channel.close();
              }
            },
            30,
            TimeUnit.SECONDS);
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, SpdyFrame frame) {
    if (frame instanceof SpdySynStreamFrame syn) {
      int id = syn.streamId();
      String type = syn.headers().getAsString("streamtype");
      if (type == null) {
        type = syn.headers().getAsString("streamType");
      }
      switch (type == null ? "" : type) {
        case "error" -> errorStream = id;
        case "stdin" -> stdinStream = id;
        case "stdout" -> stdoutStream = id;
        case "stderr" -> stderrStream = id;
        case "resize" -> resizeStream = id;
        default -> LOG.debug("edgestream: {}: unknown stream type '{}'", what, type);
      }
      // The reply carries the stream's type back: with no header at all Netty sends an empty
      // header block, which Go's SPDY framer (client-go's) cannot read — it expects the
      // compressed count of headers even when it is zero, and stops reading the connection.
      DefaultSpdySynReplyFrame reply = new DefaultSpdySynReplyFrame(id);
      reply.headers().set("streamtype", type == null ? "" : type);
      ctx.writeAndFlush(reply);
      maybeStart(ctx);
    } else if (frame instanceof SpdyDataFrame data) {
      int id = data.streamId();
      byte[] bytes = ByteBufUtil.getBytes(data.content());
      if (id == stdinStream) {
        stdin(bytes, data.isLast());
      } else if (id == resizeStream) {
        resize(bytes);
      }
    } else if (frame instanceof SpdyPingFrame ping) {
      ctx.writeAndFlush(new DefaultSpdyPingFrame(ping.id()));
    } else if (frame instanceof SpdyGoAwayFrame || frame instanceof SpdyRstStreamFrame) {
      if (frame instanceof SpdyRstStreamFrame rst && rst.streamId() != errorStream) {
        return; // the client gave up one stream only
      }
      ctx.close();
    }
  }

  private void maybeStart(ChannelHandlerContext ctx) {
    if (started
        || errorStream < 0
        || (options.stdin() && stdinStream < 0)
        || (options.stdout() && stdoutStream < 0)
        || (options.stderr() && !options.tty() && stderrStream < 0)) {
      return;
    }
    started = true;
    io.execute(
        () -> {
          ContainerStreams.ContainerSession s;
          try {
            s = start.get();
          } catch (RuntimeException e) {
            LOG.warn("edgestream: {} failed to start: {}", what, e.getMessage());
            finish(RemoteCommand.failure(version, e.getMessage()));
            return;
          }
          channel
              .eventLoop()
              .execute(
                  () -> {
                    session = s;
                    early.forEach(a -> a.accept(s));
                    early.clear();
                  });
          CompletableFuture<Void> out = pump(s.stdout(), stdoutStream);
          CompletableFuture<Void> err = pump(s.stderr(), stderrStream);
          s.exitCode()
              .thenCombine(CompletableFuture.allOf(out, err), (code, x) -> code)
              .whenComplete(
                  (code, t) -> {
                    if (t != null) {
                      finish(RemoteCommand.failure(version, String.valueOf(t.getMessage())));
                    } else {
                      LOG.info("edgestream: {} ended with exit code {}", what, code);
                      finish(RemoteCommand.exitReport(version, code));
                    }
                  });
        });
  }

  /** Copies one output of the command to its stream; completes at its end. */
  private CompletableFuture<Void> pump(InputStream in, int stream) {
    if (in == null || stream < 0) {
      return CompletableFuture.completedFuture(null);
    }
    return CompletableFuture.runAsync(
        () -> {
          byte[] buf = new byte[CHUNK];
          try {
            int n;
            while ((n = in.read(buf)) >= 0) {
              if (!channel.isActive()) {
                return;
              }
              if (n > 0) {
                channel.writeAndFlush(
                    new DefaultSpdyDataFrame(stream, Unpooled.copiedBuffer(buf, 0, n)));
              }
            }
          } catch (IOException e) {
            LOG.debug("edgestream: {}: output ended: {}", what, e.toString());
          }
        },
        io);
  }

  /** Runs {@code action} with the session, or once it exists (kubectl sends at once). */
  private void withSession(java.util.function.Consumer<ContainerStreams.ContainerSession> action) {
    ContainerStreams.ContainerSession s = session;
    if (s == null) {
      early.add(action);
    } else {
      action.accept(s);
    }
  }

  private void stdin(byte[] bytes, boolean last) {
    withSession(
        s -> {
          OutputStream in = s.stdin();
          if (in == null) {
            return;
          }
          // Writes block while the command does not read; chained, they stay in order.
          stdinWrites =
              stdinWrites.thenRunAsync(
                  () -> {
                    try {
                      if (bytes.length > 0) {
                        in.write(bytes);
                        in.flush();
                      }
                      if (last) {
                        in.close();
                      }
                    } catch (IOException e) {
                      LOG.debug("edgestream: {}: stdin: {}", what, e.toString());
                    }
                  },
                  io);
        });
  }

  /** Terminal sizes arrive as JSON objects {@code {"Width":…,"Height":…}}, one after another. */
  private void resize(byte[] bytes) {
    resizeBuffer.writeBytes(bytes);
    String text = resizeBuffer.toString(java.nio.charset.StandardCharsets.UTF_8);
    int end;
    while ((end = text.indexOf('}')) >= 0) {
      String one = text.substring(0, end + 1);
      text = text.substring(end + 1);
      try {
        JsonNode size = Json.parse(one.strip());
        int w = size.path("Width").asInt(0);
        int h = size.path("Height").asInt(0);
        withSession(s -> io.execute(() -> s.resize(w, h)));
      } catch (RuntimeException e) {
        LOG.debug("edgestream: {}: bad resize '{}'", what, one);
      }
    }
    resizeBuffer.reset();
    resizeBuffer.writeBytes(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** The exit report on the error stream, then every stream and the connection closed. */
  private void finish(byte[] report) {
    channel
        .eventLoop()
        .execute(
            () -> {
              if (ended || !channel.isActive()) {
                return;
              }
              ended = true;
              if (errorStream >= 0) {
                if (report.length > 0) {
                  channel.write(
                      new DefaultSpdyDataFrame(errorStream, Unpooled.wrappedBuffer(report)));
                }
                DefaultSpdyDataFrame fin = new DefaultSpdyDataFrame(errorStream);
                fin.setLast(true);
                channel.write(fin);
              }
              for (int id : new int[] {stdoutStream, stderrStream}) {
                if (id >= 0) {
                  DefaultSpdyDataFrame fin = new DefaultSpdyDataFrame(id);
                  fin.setLast(true);
                  channel.write(fin);
                }
              }
              channel.writeAndFlush(new DefaultSpdyGoAwayFrame(0));
              channel.eventLoop().schedule(() -> channel.close(), 1, TimeUnit.SECONDS);
            });
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    ContainerStreams.ContainerSession s = session;
    if (s != null) {
      io.execute(s::close);
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("edgestream: {}: {}", what, cause.toString());
    ctx.close();
  }
}
