package io.kedge.edge.metaserver;

/** {@code host:port} of {@code edgecore.yaml} ({@code [v6]:port} too), with defaults. */
public record HostPort(String host, int port) {
  /**
   * @throws IllegalArgumentException when the port is not a number
   */
  public static HostPort parse(String s, String defHost, int defPort) {
    if (s == null || s.isBlank()) {
      return new HostPort(defHost, defPort);
    }
    int colon = s.lastIndexOf(':');
    String host = colon < 0 ? s : s.substring(0, colon);
    int port = defPort;
    if (colon >= 0) {
      try {
        port = Integer.parseInt(s.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not host:port: " + s);
      }
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new HostPort(host.isEmpty() ? defHost : host, port);
  }
}
