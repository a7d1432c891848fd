package io.kedge.edge.metaserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.store.ResourceCatalog;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** MetaServer on event loops it is given (EdgeHub's, in edgecore). */
class MetaServerLoopsTest {
  @TempDir Path dir;

  @Test
  void onLoopsItIsGivenItServesAndOnCloseEndsItsConnectionsButNotTheLoops() throws Exception {
    EventLoopGroup loops =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory("link-io", true), NioIoHandler.newFactory());
    FakeCloud cloud = new FakeCloud();
    try (SqliteStore store =
        SqliteStore.open(StoreSettings.defaults(dir.resolve("edge.db")).withFsync(false))) {
      MetaServer server =
          MetaServer.withoutAuthorization(
              MetaServerSettings.defaults("edge-1").withPort(0),
              store,
              new ResourceCatalog(store),
              cloud.link);
      cloud.link.setConnected(false); // health answered by MetaServer itself
      server.useEventLoops(loops);
      server.start();
      try (Socket s = new Socket("127.0.0.1", server.address().getPort())) {
        s.setSoTimeout(10_000);
        OutputStream out = s.getOutputStream();
        InputStream in = s.getInputStream();
        out.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        byte[] buf = new byte[4096];
        int n = in.read(buf);
        assertThat(new String(buf, 0, n, StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 200");

        server.close();
        // the kept connection is closed with MetaServer ...
        int more;
        do {
          more = in.read(buf);
        } while (more > 0);
        assertThat(more).isEqualTo(-1);
      }
      // ... and the loops go on
      assertThat(loops.isShuttingDown()).isFalse();
      CompletableFuture<String> ran = new CompletableFuture<>();
      loops.execute(() -> ran.complete(Thread.currentThread().getName()));
      assertThat(ran.get(10, TimeUnit.SECONDS)).startsWith("link-io");
    } finally {
      loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }
}
