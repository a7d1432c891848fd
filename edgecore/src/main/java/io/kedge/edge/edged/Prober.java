package io.kedge.edge.edged;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Runs a probe once, with the kubelet's rules and messages: exec succeeds on exit code 0 (its
 * output is the message otherwise); HTTP GET succeeds on a status from 200 to 399 ({@code
 * User-Agent: kube-probe/1.20}, HTTPS without certificate checks, as the kubelet); TCP succeeds
 * when a connection opens. Each gives up after the probe's timeout.
 */
final class Prober {
  /** The kubelet's probe User-Agent (its minor version: the API level Kedge reports). */
  static final String USER_AGENT = "kube-probe/1.20";

  /** Output kept from an exec probe for the event. */
  private static final int MAX_OUTPUT = 10 * 1024;

  /** What one probe run found. */
  record Result(boolean success, String output) {
    static Result ok(String output) {
      return new Result(true, output);
    }

    static Result failed(String output) {
      return new Result(false, output);
    }
  }

  private final PodRuntime runtime;

  Prober(PodRuntime runtime) {
    this.runtime = runtime;
  }

  /**
   * @param podIp the address HTTP and TCP probes go to unless they name a host
   */
  Result run(ProbeSpec spec, String containerId, String podIp) {
    ProbeSpec.Action a = spec.action();
    if (a instanceof ProbeSpec.Exec e) {
      return exec(e, containerId, spec.timeout());
    }
    if (a instanceof ProbeSpec.HttpGet h) {
      return http(h, host(h.host(), podIp), spec.timeout());
    }
    ProbeSpec.TcpSocket t = (ProbeSpec.TcpSocket) a;
    return tcp(host(t.host(), podIp), t.port(), spec.timeout());
  }

  private static String host(String given, String podIp) {
    return given == null || given.isEmpty() ? podIp : given;
  }

  private Result exec(ProbeSpec.Exec e, String containerId, Duration timeout) {
    try {
      PodRuntime.ExecResult r = runtime.exec(containerId, e.command(), timeout);
      if (r.timedOut()) {
        return Result.failed("command \"" + String.join(" ", e.command()) + "\" timed out");
      }
      String out =
          r.output().length() > MAX_OUTPUT ? r.output().substring(0, MAX_OUTPUT) : r.output();
      if (r.exitCode() == 0) {
        return Result.ok(out);
      }
      return Result.failed(out.isBlank() ? "command exited with " + r.exitCode() : out.strip());
    } catch (PodRuntime.RuntimeFailure f) {
      return Result.failed(f.getMessage());
    }
  }

  static Result http(ProbeSpec.HttpGet h, String host, Duration timeout) {
    String hostPort = (host.contains(":") ? "[" + host + "]" : host) + ":" + h.port();
    String url = h.scheme().toLowerCase(java.util.Locale.ROOT) + "://" + hostPort + h.path();
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Socket plain = new Socket()) {
      plain.connect(new InetSocketAddress(host, h.port()), millisLeft(deadline));
      Socket s = plain;
      if (h.scheme().equals("HTTPS")) {
        SSLSocket tls =
            (SSLSocket) insecureTls().getSocketFactory().createSocket(plain, host, h.port(), true);
        tls.setSoTimeout(millisLeft(deadline));
        tls.startHandshake();
        s = tls;
      }
      StringBuilder req = new StringBuilder();
      req.append("GET ").append(h.path()).append(" HTTP/1.1\r\n");
      boolean hostSet = false;
      boolean agentSet = false;
      boolean acceptSet = false;
      for (Map.Entry<String, String> hd : h.headers()) {
        hostSet |= hd.getKey().equalsIgnoreCase("Host");
        agentSet |= hd.getKey().equalsIgnoreCase("User-Agent");
        acceptSet |= hd.getKey().equalsIgnoreCase("Accept");
      }
      if (!hostSet) {
        req.append("Host: ").append(hostPort).append("\r\n");
      }
      if (!agentSet) {
        req.append("User-Agent: ").append(USER_AGENT).append("\r\n");
      }
      if (!acceptSet) {
        req.append("Accept: */*\r\n");
      }
      for (Map.Entry<String, String> hd : h.headers()) {
        req.append(hd.getKey()).append(": ").append(hd.getValue()).append("\r\n");
      }
      req.append("Connection: close\r\n\r\n");
      OutputStream out = s.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      s.setSoTimeout(millisLeft(deadline));
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
      String status = in.readLine();
      if (status == null) {
        return Result.failed("Get \"" + url + "\": EOF");
      }
      String[] parts = status.split(" ", 3);
      int code;
      try {
        code = Integer.parseInt(parts.length > 1 ? parts[1] : "");
      } catch (NumberFormatException e) {
        return Result.failed("Get \"" + url + "\": malformed HTTP response \"" + status + "\"");
      }
      if (code >= 200 && code < 400) {
        return Result.ok("");
      }
      return Result.failed("HTTP probe failed with statuscode: " + code);
    } catch (SocketTimeoutException e) {
      return Result.failed(
          "Get \""
              + url
              + "\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
    } catch (IOException e) {
      return Result.failed("Get \"" + url + "\": dial tcp " + hostPort + ": " + goError(e));
    }
  }

  static Result tcp(String host, int port, Duration timeout) {
    String hostPort = (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), (int) Math.max(1, timeout.toMillis()));
      return Result.ok("");
    } catch (IOException e) {
      return Result.failed("dial tcp " + hostPort + ": " + goError(e));
    }
  }

  /** Java's connect errors in the words Go uses. */
  private static String goError(IOException e) {
    if (e instanceof SocketTimeoutException) {
      return "i/o timeout";
    }
    if (e instanceof ConnectException) {
      return "connect: connection refused";
    }
    if (e instanceof NoRouteToHostException) {
      return "connect: no route to host";
    }
    if (e instanceof UnknownHostException) {
      return "lookup " + e.getMessage() + ": no such host";
    }
    return String.valueOf(e.getMessage());
  }

  private static int millisLeft(long deadline) throws SocketTimeoutException {
    long ms = (deadline - System.nanoTime()) / 1_000_000;
    if (ms <= 0) {
      throw new SocketTimeoutException("probe timeout");
    }
    return (int) Math.min(Integer.MAX_VALUE, ms);
  }

  /** The kubelet probes HTTPS with InsecureSkipVerify: no certificate or name checks. */
  private static SSLContext insecureTls() throws IOException {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(
          null,
          new TrustManager[] {
            new X509TrustManager() {
              @Override
              public void checkClientTrusted(X509Certificate[] chain, String authType) {}

              @Override
              public void checkServerTrusted(X509Certificate[] chain, String authType) {}

              @Override
              public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
              }
            }
          },
          null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IOException("no TLS: " + e.getMessage(), e);
    }
  }
}
