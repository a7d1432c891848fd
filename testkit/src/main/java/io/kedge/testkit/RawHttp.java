package io.kedge.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLSocketFactory;

/**
 * HTTP spoken byte by byte over a socket (plain or TLS): requests no client library would send
 * (unnormalized paths, HTTP/1.0, oversized headers, bodies the server refuses before reading them,
 * requests that never finish).
 */
public final class RawHttp {
  /**
   * An answer: status code, headers (lower-case names), body; {@code closed} if the server said it
   * closes the connection.
   */
  public record Answer(int code, Map<String, String> headers, byte[] body, boolean closed) {
    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private final String host;
  private final int port;
  private final SSLSocketFactory tls;

  public RawHttp(String host, int port) {
    this(host, port, null);
  }

  /** Over TLS when {@code tls} is not null. */
  public RawHttp(String host, int port, SSLSocketFactory tls) {
    this.host = host;
    this.port = port;
    this.tls = tls;
  }

  /**
   * Sends {@code head} (request line and headers, CRLF-terminated lines, without the blank line)
   * and {@code body}, then reads one answer within 30 s. The body is written by another thread so
   * that a server answering before reading it all (413) is heard.
   */
  public Answer exchange(String head, byte[] body) throws IOException {
    try (Connection c = open()) {
      c.send(head + "\r\n");
      Thread writer = null;
      if (body != null && body.length > 0) {
        writer = c.sendInBackground(body);
      }
      try {
        return c.answer(Duration.ofSeconds(30));
      } finally {
        if (writer != null) {
          c.close();
          try {
            writer.join(10_000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }
    }
  }

  /** A connection to send on piece by piece. */
  public Connection open() throws IOException {
    Socket s = tls != null ? tls.createSocket(host, port) : new Socket(host, port);
    return new Connection(s);
  }

  /** One connection. */
  public static final class Connection implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    Connection(Socket socket) throws IOException {
      this.socket = socket;
      this.out = socket.getOutputStream();
      this.in = socket.getInputStream();
    }

    public Connection send(String s) throws IOException {
      return send(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    public Connection send(byte[] b) throws IOException {
      out.write(b);
      out.flush();
      return this;
    }

    /** Writes {@code body} from another thread, 64 KiB at a time, until done or refused. */
    public Thread sendInBackground(byte[] body) {
      Thread writer =
          new Thread(
              () -> {
                try {
                  for (int off = 0; off < body.length; off += 64 * 1024) {
                    out.write(body, off, Math.min(64 * 1024, body.length - off));
                  }
                  out.flush();
                } catch (IOException e) {
                  // the server stopped reading: its answer tells why
                }
              },
              "raw-http-body");
      writer.setDaemon(true);
      writer.start();
      return writer;
    }

    /** The next answer, read within {@code within}. */
    public Answer answer(Duration within) throws IOException {
      socket.setSoTimeout((int) within.toMillis());
      try {
        return read(in);
      } catch (SocketTimeoutException e) {
        throw new AssertionError("no answer within " + within.toSeconds() + " s");
      }
    }

    /**
     * Whether the server closes the connection within {@code within} (end of stream or a reset),
     * failing if it sends anything meanwhile.
     */
    public boolean closedWithin(Duration within) throws IOException {
      socket.setSoTimeout((int) within.toMillis());
      try {
        int b = in.read();
        if (b >= 0) {
          byte[] more = in.readNBytes(Math.max(0, Math.min(in.available(), 300)));
          throw new AssertionError(
              "the server sent "
                  + new String(new byte[] {(byte) b}, StandardCharsets.ISO_8859_1)
                  + new String(more, StandardCharsets.ISO_8859_1));
        }
        return true;
      } catch (SocketTimeoutException e) {
        return false;
      } catch (IOException e) {
        return true; // reset
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private static Answer read(InputStream in) throws IOException {
    String status = line(in);
    if (status == null) {
      throw new IOException("the server closed the connection without answering");
    }
    String[] sp = status.split(" ", 3);
    int code = Integer.parseInt(sp[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    for (String l = line(in); l != null && !l.isEmpty(); l = line(in)) {
      int c = l.indexOf(':');
      headers.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (headers.containsKey("content-length")) {
      body.write(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
    } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      for (; ; ) {
        int n = Integer.parseInt(line(in).split(";")[0].trim(), 16);
        if (n == 0) {
          line(in);
          break;
        }
        body.write(in.readNBytes(n));
        line(in);
      }
    } else {
      body.write(in.readAllBytes());
    }
    boolean closed = "close".equalsIgnoreCase(headers.get("connection"));
    return new Answer(code, headers, body.toByteArray(), closed);
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int c = in.read(); c != -1; c = in.read()) {
      if (c == '\n') {
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }
}
