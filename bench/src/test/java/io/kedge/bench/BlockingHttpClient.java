package io.kedge.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * One HTTP/1.1 keep-alive connection over TLS, used by one thread: a request is written and its
 * answer read on the calling thread, as python-kubernetes (urllib3) does. The load generator's own
 * cost per request is then a write and a read, where the JDK's HttpClient hands every exchange
 * between its selector thread, an executor and the caller. Reads {@code Content-Length} and chunked
 * bodies; a connection the server closes is opened again for the next request.
 */
final class BlockingHttpClient implements AutoCloseable {
  private final SSLContext tls;
  private final String host;
  private final int port;
  private final String authorization;
  private SSLSocket socket;
  private InputStream in;
  private OutputStream out;

  BlockingHttpClient(SSLContext tls, URI base, String token) {
    this.tls = tls;
    this.host = base.getHost();
    this.port = base.getPort();
    this.authorization = "Bearer " + token;
  }

  /** GETs {@code pathAndQuery} with {@code Accept: application/json}; returns the status code. */
  int get(String pathAndQuery) throws IOException {
    if (socket == null) {
      open();
    }
    byte[] request =
        ("GET "
                + pathAndQuery
                + " HTTP/1.1\r\nHost: "
                + host
                + ":"
                + port
                + "\r\nAccept: application/json\r\nAuthorization: "
                + authorization
                + "\r\nUser-Agent: kedge-bench\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    try {
      out.write(request);
      out.flush();
      return readResponse();
    } catch (IOException e) {
      close();
      throw e;
    }
  }

  private void open() throws IOException {
    SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(host, port);
    SSLParameters p = s.getSSLParameters();
    p.setEndpointIdentificationAlgorithm("HTTPS");
    p.setApplicationProtocols(new String[] {"http/1.1"});
    s.setSSLParameters(p);
    s.setTcpNoDelay(true);
    s.setSoTimeout(30_000);
    s.startHandshake();
    socket = s;
    in = new BufferedInputStream(s.getInputStream(), 64 * 1024);
    out = s.getOutputStream();
  }

  private int readResponse() throws IOException {
    String status = line();
    if (!status.startsWith("HTTP/1.1 ") || status.length() < 12) {
      throw new IOException("not an HTTP/1.1 answer: " + status);
    }
    int code = Integer.parseInt(status.substring(9, 12));
    long length = -1;
    boolean chunked = false;
    boolean close = false;
    for (String h = line(); !h.isEmpty(); h = line()) {
      int colon = h.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String name = h.substring(0, colon).trim();
      String value = h.substring(colon + 1).trim();
      if (name.equalsIgnoreCase("Content-Length")) {
        length = Long.parseLong(value);
      } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
        chunked = value.equalsIgnoreCase("chunked");
      } else if (name.equalsIgnoreCase("Connection")) {
        close = value.equalsIgnoreCase("close");
      }
    }
    if (chunked) {
      for (long n = chunkSize(); n > 0; n = chunkSize()) {
        skip(n);
        line();
      }
      for (String trailer = line(); !trailer.isEmpty(); trailer = line()) {
        // trailers: none expected
      }
    } else if (length >= 0) {
      skip(length);
    } else {
      close = true; // the body runs until the connection ends
      while (in.read() >= 0) {
        // drain
      }
    }
    if (close) {
      close();
    }
    return code;
  }

  private long chunkSize() throws IOException {
    String l = line();
    int semi = l.indexOf(';');
    return Long.parseLong((semi < 0 ? l : l.substring(0, semi)).trim(), 16);
  }

  private void skip(long n) throws IOException {
    while (n > 0) {
      long k = in.skip(n);
      if (k <= 0) {
        if (in.read() < 0) {
          throw new IOException("connection ended inside a body");
        }
        k = 1;
      }
      n -= k;
    }
  }

  private String line() throws IOException {
    StringBuilder b = new StringBuilder(64);
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        int end = b.length();
        if (end > 0 && b.charAt(end - 1) == '\r') {
          b.setLength(end - 1);
        }
        return b.toString();
      }
      b.append((char) c);
    }
    throw new IOException("connection ended");
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
    socket = null;
    in = null;
    out = null;
  }
}
