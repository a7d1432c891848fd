package io.kedge.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP relay on a free loopback port in front of another address (an edge's link to its cloud),
 * which a test can cut and restore: cutting loopback itself would cut every process on the machine.
 *
 * <ul>
 *   <li>{@link Cut#RESET}: every relayed connection is reset and new ones are closed at once, as
 *       when the far side goes away; the ends notice immediately.
 *   <li>{@link Cut#SILENT}: bytes stop flowing both ways (they are read and dropped) and new
 *       connections are accepted but never relayed, as on a network that loses packets; the ends
 *       notice only by their own timeouts.
 * </ul>
 *
 * {@link #restore} resets what a silent cut held (its byte streams have holes) and relays new
 * connections again.
 */
public final class LinkProxy implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LinkProxy.class);

  /** How a link is cut. */
  public enum Cut {
    RESET,
    SILENT
  }

  private final InetSocketAddress target;
  private final ServerSocket server;
  private final Thread acceptor;
  private final List<Pair> pairs = new ArrayList<>(); // guarded by this
  private Cut cut; // guarded by this; null while relaying
  private volatile boolean closed;
  private int relayed; // guarded by this

  private LinkProxy(InetSocketAddress target, ServerSocket server) {
    this.target = target;
    this.server = server;
    this.acceptor = new Thread(this::acceptLoop, "link-proxy-" + server.getLocalPort());
    this.acceptor.setDaemon(true);
  }

  /** Relays a free loopback port to {@code host:port}. */
  public static LinkProxy start(String host, int port) {
    try {
      ServerSocket s = new ServerSocket();
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
      LinkProxy p = new LinkProxy(new InetSocketAddress(host, port), s);
      p.acceptor.start();
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start a link proxy to " + host + ":" + port, e);
    }
  }

  /** The port the relay listens on (loopback). */
  public int port() {
    return server.getLocalPort();
  }

  /** Cuts the link as {@code how} says, until {@link #restore}. */
  public void cut(Cut how) {
    List<Pair> reset = List.of();
    synchronized (this) {
      cut = how;
      if (how == Cut.RESET) {
        reset = new ArrayList<>(pairs);
        pairs.clear();
      }
    }
    reset.forEach(Pair::reset);
    LOG.info("link proxy :{} cut ({})", port(), how);
  }

  /** Relays again; connections a silent cut held are reset. */
  public void restore() {
    List<Pair> reset;
    synchronized (this) {
      Cut was = cut;
      cut = null;
      reset = was == Cut.SILENT ? new ArrayList<>(pairs) : List.of();
      if (was == Cut.SILENT) {
        pairs.clear();
      }
    }
    reset.forEach(Pair::reset);
    LOG.info("link proxy :{} restored", port());
  }

  /** Whether the link is cut now. */
  public synchronized boolean isCut() {
    return cut != null;
  }

  /** How many connections have been relayed to the target so far. */
  public synchronized int relayed() {
    return relayed;
  }

  private void acceptLoop() {
    while (!closed) {
      Socket in;
      try {
        in = server.accept();
      } catch (IOException e) {
        if (!closed) {
          LOG.warn("link proxy :{} stopped accepting: {}", port(), e.toString());
        }
        return;
      }
      Cut now;
      synchronized (this) {
        now = cut;
      }
      if (now == Cut.RESET) {
        Pair.resetQuietly(in);
        continue;
      }
      Pair p = new Pair(in, now == Cut.SILENT ? null : connect(in));
      if (now != Cut.SILENT && p.out == null) {
        continue;
      }
      synchronized (this) {
        pairs.add(p);
        if (p.out != null) {
          relayed++;
        }
      }
      p.start();
    }
  }

  private Socket connect(Socket in) {
    try {
      Socket out = new Socket();
      out.connect(target, 5_000);
      out.setTcpNoDelay(true);
      in.setTcpNoDelay(true);
      return out;
    } catch (IOException e) {
      LOG.info("link proxy :{} cannot reach {}: {}", port(), target, e.toString());
      Pair.resetQuietly(in);
      return null;
    }
  }

  private synchronized boolean dropping() {
    return cut == Cut.SILENT;
  }

  private synchronized void forget(Pair p) {
    pairs.remove(p);
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // closing
    }
    List<Pair> all;
    synchronized (this) {
      all = new ArrayList<>(pairs);
      pairs.clear();
    }
    all.forEach(Pair::reset);
  }

  /** One relayed connection; {@code out} is null for one accepted during a silent cut. */
  private final class Pair {
    final Socket in;
    final Socket out;

    Pair(Socket in, Socket out) {
      this.in = in;
      this.out = out;
    }

    void start() {
      pump(in, out, "up");
      if (out != null) {
        pump(out, in, "down");
      }
    }

    private void pump(Socket from, Socket to, String dir) {
      Thread t =
          new Thread(
              () -> {
                byte[] buf = new byte[16 * 1024];
                try (InputStream i = from.getInputStream()) {
                  OutputStream o = to == null ? null : to.getOutputStream();
                  int n;
                  while ((n = i.read(buf)) >= 0) {
                    if (o != null && !dropping()) {
                      o.write(buf, 0, n);
                      o.flush();
                    }
                  }
                } catch (SocketException e) {
                  // reset by a cut or by an end
                } catch (IOException e) {
                  LOG.debug("link proxy :{} {} ended: {}", port(), dir, e.toString());
                }
                reset();
              },
              "link-proxy-" + port() + "-" + dir);
      t.setDaemon(true);
      t.start();
    }

    void reset() {
      forget(this);
      resetQuietly(in);
      if (out != null) {
        resetQuietly(out);
      }
    }

    static void resetQuietly(Socket s) {
      try {
        s.setSoLinger(true, 0); // RST, as a vanished peer
        s.close();
      } catch (IOException e) {
        // already closed
      }
    }
  }
}
