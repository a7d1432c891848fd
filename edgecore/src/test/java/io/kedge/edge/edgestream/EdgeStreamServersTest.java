package io.kedge.edge.edgestream;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.hub.EdgeCredentials;
import io.kedge.edge.hub.TestPki;
import io.kedge.protocol.config.EdgeCoreConfig;
import io.kedge.testkit.Waits;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@code modules.edgeStream.server} with several cloudcores: a lost tunnel moves on. */
class EdgeStreamServersTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private static EdgeStream stream(String server, EdgeCredentials credentials) {
    return new EdgeStream(
        new EdgeCoreConfig.EdgeStreamConfig(true, "", "", "", 2, 15, server, 15),
        "edge-1",
        () -> Optional.of(credentials),
        () -> Optional.of("127.0.0.1"),
        (ns, pod, options) -> {
          throw new UnsupportedOperationException();
        },
        null);
  }

  /** A loopback port nothing listens on (bound once, then released). */
  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void theSettingTakesSeveralAddressesInTheirOrderOnceEach() {
    assertThat(EdgeStream.servers("10.0.0.1:10004")).containsExactly("10.0.0.1:10004");
    assertThat(EdgeStream.servers(" 10.0.0.1:10004, 10.0.0.2:10004,10.0.0.1:10004 "))
        .containsExactly("10.0.0.1:10004", "10.0.0.2:10004");
    assertThat(EdgeStream.servers("")).containsExactly("");
  }

  @Test
  void aTunnelThatCannotReachTheFirstCloudcoreGoesToTheNext() throws Exception {
    EdgeCredentials creds = new TestPki().credentialsFor("edge-1", Duration.ofHours(1));
    int dead = closedPort();
    AtomicInteger accepted = new AtomicInteger();
    try (ServerSocket alive = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      Thread acceptor =
          new Thread(
              () -> {
                while (!alive.isClosed()) {
                  try (Socket s = alive.accept()) {
                    accepted.incrementAndGet(); // closed at once: the TLS handshake fails
                  } catch (IOException e) {
                    return;
                  }
                }
              });
      acceptor.setDaemon(true);
      acceptor.start();
      String first = "127.0.0.1:" + dead;
      String second = "127.0.0.1:" + alive.getLocalPort();
      EdgeStream s = stream(first + "," + second, creds);
      try {
        assertThat(s.server()).isEqualTo(first);
        s.start();
        Waits.until("an attempt reached the second cloudcore", WAIT, () -> accepted.get() > 0);
        // the failed handshake there moves it on again: round the list
        Waits.until("back to the first", WAIT, () -> s.server().equals(first));
      } finally {
        s.close();
      }
    }
  }

  @Test
  void oneAddressIsTriedAgainAndAgain() throws Exception {
    EdgeCredentials creds = new TestPki().credentialsFor("edge-1", Duration.ofHours(1));
    AtomicInteger accepted = new AtomicInteger();
    try (ServerSocket only = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      Thread acceptor =
          new Thread(
              () -> {
                while (!only.isClosed()) {
                  try (Socket c = only.accept()) {
                    accepted.incrementAndGet();
                  } catch (IOException e) {
                    return;
                  }
                }
              });
      acceptor.setDaemon(true);
      acceptor.start();
      String addr = "127.0.0.1:" + only.getLocalPort();
      EdgeStream s = stream(addr, creds);
      try {
        s.start();
        Waits.until("two attempts", WAIT, () -> accepted.get() >= 2);
        assertThat(s.server()).isEqualTo(addr);
      } finally {
        s.close();
      }
    }
  }
}
