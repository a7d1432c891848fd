package io.kedge.e2e;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP spoken byte by byte over a socket: requests no client library would send (unnormalized
 * paths, HTTP/1.0, oversized headers, bodies the server refuses before reading them).
 */
final class RawHttp {
  /**
   * An answer: status code, headers (lower-case names), body; {@code closed} if the server hung up.
   */
  record Answer(int code, Map<String, String> headers, byte[] body, boolean closed) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private final String host;
  private final int port;

  RawHttp(String host, int port) {
    this.host = host;
    this.port = port;
  }

  /**
   * Sends {@code head} (request line and headers, CRLF-terminated lines, without the blank line)
   * and {@code body}, then reads one answer within 30 s. The body is written by another thread so
   * that a server answering before reading it all (413) is heard.
   */
  Answer exchange(String head, byte[] body) throws IOException {
    try (Socket s = new Socket(host, port)) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      out.write((head + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      Thread writer = null;
      if (body != null && body.length > 0) {
        writer =
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
      }
      try {
        return read(s.getInputStream());
      } catch (SocketTimeoutException e) {
        throw new AssertionError("no answer within 30 s to: " + head.lines().findFirst().get());
      } finally {
        if (writer != null) {
          s.close();
          try {
            writer.join(10_000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }
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
