package io.kedge.protocol.config;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * The cloudcores an edge may connect to: {@code modules.edgeHub.websocket.server} and {@code
 * modules.edgeHub.httpServer} as KubeEdge writes them (one {@code HOST:PORT}, one {@code
 * https://HOST:PORT}) or, Kedge, several of them separated by commas. A host name may resolve to
 * several addresses; that is the edge's business, not the configuration's.
 */
public final class CloudAddresses {
  private CloudAddresses() {}

  /**
   * One configured cloudcore address.
   *
   * @param host a host name or an IP literal (IPv6 without brackets)
   */
  public record HostPort(String host, int port) {
    public HostPort {
      if (host == null || host.isBlank()) {
        throw new IllegalArgumentException("empty host");
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port " + port + " is out of range");
      }
    }

    /** {@code host:port}, IPv6 in brackets. */
    @Override
    public String toString() {
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
  }

  /**
   * {@code HOST:PORT[,HOST:PORT...]} (the WebSocket servers). Blank entries are ignored, so that a
   * trailing comma is harmless; duplicates are kept once.
   *
   * @param key the setting's name, for messages
   * @throws ConfigException when an entry is not {@code HOST:PORT}
   */
  public static List<HostPort> servers(String text, String key) {
    List<HostPort> out = new ArrayList<>();
    if (text == null) {
      return out;
    }
    for (String part : text.split(",")) {
      String s = part.strip();
      if (s.isEmpty()) {
        continue;
      }
      HostPort hp = hostPort(s, key);
      if (!out.contains(hp)) {
        out.add(hp);
      }
    }
    return out;
  }

  /**
   * {@code https://HOST:PORT[,https://HOST:PORT...]} (the certificate servers); an entry without a
   * scheme is taken as {@code https://}.
   *
   * @throws ConfigException when an entry is not an https URL with a host
   */
  public static List<URI> httpsServers(String text, String key) {
    List<URI> out = new ArrayList<>();
    if (text == null) {
      return out;
    }
    for (String part : text.split(",")) {
      String s = part.strip();
      if (s.isEmpty()) {
        continue;
      }
      if (!s.contains("://")) {
        s = "https://" + s;
      }
      URI u;
      try {
        u = URI.create(s);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(key + ": '" + part.strip() + "' is not a URL");
      }
      if (!"https".equals(u.getScheme()) || u.getHost() == null) {
        throw new ConfigException(key + " must be https://HOST:PORT, not " + s);
      }
      if (!out.contains(u)) {
        out.add(u);
      }
    }
    return out;
  }

  /** The WebSocket servers written back in the configuration's form. */
  public static String format(List<HostPort> servers) {
    return String.join(",", servers.stream().map(HostPort::toString).toList());
  }

  private static HostPort hostPort(String s, String key) {
    String host;
    String port;
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
        throw new ConfigException(key + ": '" + s + "' is not [IPv6]:PORT");
      }
      host = s.substring(1, close);
      port = s.substring(close + 2);
    } else {
      int colon = s.lastIndexOf(':');
      if (colon <= 0 || s.indexOf(':') != colon) {
        throw new ConfigException(
            key + ": '" + s + "' is not HOST:PORT (an IPv6 address goes in brackets)");
      }
      host = s.substring(0, colon);
      port = s.substring(colon + 1);
    }
    try {
      return new HostPort(host, Integer.parseInt(port));
    } catch (NumberFormatException e) {
      throw new ConfigException(key + ": '" + s + "' has no port number");
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key + ": '" + s + "': " + e.getMessage());
    }
  }
}
