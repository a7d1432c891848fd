package io.kedge.edge.hub;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * One HTTP/1.1 request on a fresh TLS connection, blocking, with the body read in full. The edge
 * makes two such requests per certificate (join, rotation); the JDK's HttpClient would load some
 * 300 classes (about 2 MB of an edge's memory) for them and keep them for the life of the process.
 */
final class HttpsExchange {
  private static final int MAX_HEAD = 64 << 10;

  /** A status code and the whole body. */
  record Response(int status, byte[] body) {}

  /** Connecting did not finish within the timeout. */
  static final class ConnectTimeoutException extends IOException {
    ConnectTimeoutException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** The server sent more than the allowed body. */
  static final class OversizedException extends IOException {
    OversizedException() {
      super("oversized body");
    }
  }

  private HttpsExchange() {}

  /**
   * Sends {@code method} to {@code uri} with {@code headers} and {@code body} (none when null),
   * verifying the server's name as HTTPS does (unless {@code tls} trusts with an extended trust
   * manager that skips it). {@code timeout} bounds connecting and each read.
   */
  static Response send(
      SSLContext tls,
      URI uri,
      String method,
      Map<String, String> headers,
      byte[] body,
      Duration timeout,
      int maxBody)
      throws IOException {
    String host = uri.getHost();
    if (host.startsWith("[")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = uri.getPort() == -1 ? 443 : uri.getPort();
    int millis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
    try (Socket raw = new Socket()) {
      try {
        raw.connect(new InetSocketAddress(host, port), millis);
      } catch (SocketTimeoutException e) {
        throw new ConnectTimeoutException("connect timed out", e);
      }
      raw.setSoTimeout(millis);
      try (SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(raw, host, port, true)) {
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        s.setSSLParameters(p);
        s.setUseClientMode(true);
        OutputStream out = s.getOutputStream();
        out.write(head(uri, method, headers, body).getBytes(StandardCharsets.ISO_8859_1));
        if (body != null) {
          out.write(body);
        }
        out.flush();
        return read(s.getInputStream(), method, maxBody);
      }
    }
  }

  private static String head(URI uri, String method, Map<String, String> headers, byte[] body) {
    String target = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    if (uri.getRawQuery() != null) {
      target += "?" + uri.getRawQuery();
    }
    StringBuilder sb = new StringBuilder();
    sb.append(method).append(' ').append(target).append(" HTTP/1.1\r\n");
    sb.append("Host: ").append(uri.getRawAuthority()).append("\r\n");
    for (Map.Entry<String, String> h : headers.entrySet()) {
      sb.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
    }
    if (body != null) {
      sb.append("Content-Length: ").append(body.length).append("\r\n");
    }
    sb.append("Connection: close\r\n\r\n");
    return sb.toString();
  }

  static Response read(InputStream in, String method, int maxBody) throws IOException {
    String statusLine = line(in);
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP/1.x response: " + abbreviate(statusLine));
    }
    int status;
    try {
      status = Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      throw new IOException("bad HTTP status line: " + abbreviate(statusLine), e);
    }
    long length = -1;
    boolean chunked = false;
    int headBytes = statusLine.length();
    for (String h = line(in); !h.isEmpty(); h = line(in)) {
      headBytes += h.length();
      if (headBytes > MAX_HEAD) {
        throw new IOException("response headers over " + MAX_HEAD + " bytes");
      }
      int colon = h.indexOf(':');
      if (colon <= 0) {
        continue;
      }
      String name = h.substring(0, colon).strip().toLowerCase(Locale.ROOT);
      String value = h.substring(colon + 1).strip();
      if (name.equals("content-length")) {
        try {
          length = Long.parseLong(value);
        } catch (NumberFormatException e) {
          throw new IOException("bad Content-Length: " + abbreviate(value), e);
        }
      } else if (name.equals("transfer-encoding")) {
        chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
      }
    }
    if (method.equals("HEAD") || status == 204 || status == 304 || status / 100 == 1) {
      return new Response(status, new byte[0]);
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (chunked) {
      while (true) {
        String size = line(in);
        int semi = size.indexOf(';');
        long n;
        try {
          n = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
        } catch (NumberFormatException e) {
          throw new IOException("bad chunk size: " + abbreviate(size), e);
        }
        if (n == 0) {
          break;
        }
        copy(in, body, n, maxBody);
        line(in); // the CRLF after the chunk
      }
    } else if (length >= 0) {
      copy(in, body, length, maxBody);
    } else {
      copy(in, body, Long.MAX_VALUE, maxBody);
    }
    return new Response(status, body.toByteArray());
  }

  private static void copy(InputStream in, ByteArrayOutputStream out, long n, int max)
      throws IOException {
    byte[] buf = new byte[8192];
    long left = n;
    while (left > 0) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (r < 0) {
        if (n == Long.MAX_VALUE) {
          return; // body delimited by the end of the connection
        }
        throw new EOFException("connection closed inside the response body");
      }
      if (out.size() + r > max) {
        throw new OversizedException();
      }
      out.write(buf, 0, r);
      left -= r;
    }
  }

  /** A header line without its CRLF (a bare LF accepted too). */
  private static String line(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new EOFException("connection closed before the response was complete");
      }
      if (c == '\n') {
        int len = sb.length();
        if (len > 0 && sb.charAt(len - 1) == '\r') {
          sb.setLength(len - 1);
        }
        return sb.toString();
      }
      if (sb.length() >= MAX_HEAD) {
        throw new IOException("response header line over " + MAX_HEAD + " bytes");
      }
      sb.append((char) c);
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "…";
  }
}
