package io.kedge.edge.hub;

import io.kedge.protocol.config.CloudAddresses;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * The cloudcores an edge may connect to, and which one to try next. {@code
 * modules.edgeHub.websocket.server} names one {@code HOST:PORT} (KubeEdge) or several, comma
 * separated (Kedge); a host name that resolves to several addresses counts as that many cloudcores.
 * Names are resolved again before every attempt.
 *
 * <ul>
 *   <li>First: the node's name picks the address (a hash), so that a fleet spreads evenly over the
 *       cloudcores and each edge comes back to the same one after it restarts.
 *   <li>After a lost connection: any of the others, at random, so that the edges of a cloudcore
 *       that died spread over the survivors instead of all going to the next in the list.
 *   <li>After a failed attempt: an address not yet tried since the connection was lost, at random;
 *       once all were tried a round is complete and the reconnect back-off grows ({@link
 *       #rounds()}).
 * </ul>
 *
 * Not thread-safe: used on EdgeHub's control thread.
 */
final class CloudEndpoints {
  /** One address to try: the configured host (for TLS and the URL) and where to connect. */
  record Endpoint(String host, InetAddress address, int port) {
    /** {@code wss://host:port/<projectID>/<node>/events}. */
    URI uri(String projectId, String node) {
      return URI.create(
          "wss://" + hostForUri(host) + ":" + port + "/" + projectId + "/" + node + "/events");
    }

    String authority() {
      String a = hostForUri(host) + ":" + port;
      return address == null || address.getHostAddress().equals(host)
          ? a
          : a + " (" + address.getHostAddress() + ")";
    }

    private static String hostForUri(String h) {
      return h.contains(":") && !h.startsWith("[") ? "[" + h + "]" : h;
    }

    @Override
    public String toString() {
      return authority();
    }
  }

  /** Turns a configured host into its addresses (the JDK resolver; replaced in tests). */
  interface Resolver {
    List<InetAddress> resolve(String host) throws UnknownHostException;

    Resolver SYSTEM = host -> List.of(InetAddress.getAllByName(host));
  }

  private final List<CloudAddresses.HostPort> configured;
  private final String node;
  private final Resolver resolver;
  private final RandomGenerator random;
  private final Set<String> tried = new HashSet<>();
  private Endpoint current;
  private boolean started;
  private boolean again;
  private int rounds;

  CloudEndpoints(
      List<CloudAddresses.HostPort> configured,
      String node,
      Resolver resolver,
      RandomGenerator random) {
    if (configured.isEmpty()) {
      throw new IllegalArgumentException("no cloud address");
    }
    this.configured = List.copyOf(configured);
    this.node = node;
    this.resolver = resolver;
    this.random = random;
  }

  /** Every address now, in a stable order (configuration order, addresses sorted per name). */
  List<Endpoint> all() {
    List<Endpoint> out = new ArrayList<>();
    for (CloudAddresses.HostPort hp : configured) {
      List<InetAddress> addresses;
      try {
        addresses = new ArrayList<>(resolver.resolve(hp.host()));
      } catch (UnknownHostException e) {
        // tried as a name: the connection attempt reports why it fails
        out.add(new Endpoint(hp.host(), null, hp.port()));
        continue;
      }
      addresses.sort((a, b) -> java.util.Arrays.compare(a.getAddress(), b.getAddress()));
      for (InetAddress a : addresses) {
        Endpoint e = new Endpoint(hp.host(), a, hp.port());
        if (!out.contains(e)) {
          out.add(e);
        }
      }
    }
    return out;
  }

  /** How many addresses were configured (names not resolved). */
  int configuredCount() {
    return configured.size();
  }

  /** The address to try next. */
  Endpoint next() {
    List<Endpoint> all = all();
    Endpoint pick;
    if (again && current != null && all.contains(current)) {
      pick = current;
    } else if (!started) {
      started = true;
      pick = all.get(Math.floorMod(node.hashCode(), all.size()));
    } else {
      List<Endpoint> fresh = new ArrayList<>();
      for (Endpoint e : all) {
        if (!tried.contains(key(e))) {
          fresh.add(e);
        }
      }
      if (fresh.isEmpty()) {
        rounds++;
        tried.clear();
        fresh = new ArrayList<>(all);
        if (fresh.size() > 1 && current != null) {
          fresh.removeIf(e -> key(e).equals(key(current)));
        }
      }
      pick = fresh.get(random.nextInt(fresh.size()));
    }
    again = false;
    current = pick;
    tried.add(key(pick));
    return pick;
  }

  /** The next attempt goes to the same address (a reconnect with a rotated certificate). */
  void again() {
    again = true;
  }

  /**
   * The connection to the current address was lost: the next attempt goes to another address (when
   * there is one).
   *
   * @param lasted whether it had worked long enough to count as a working connection (not one that
   *     flaps): the back-off then starts again from its shortest delay
   */
  void lost(boolean lasted) {
    tried.clear();
    if (current != null) {
      tried.add(key(current));
    }
    if (lasted) {
      rounds = 0;
    }
  }

  /** Rounds of attempts at every address that all failed, since the last working connection. */
  int rounds() {
    return rounds;
  }

  private static String key(Endpoint e) {
    return e.host()
        + "|"
        + (e.address() == null ? "" : e.address().getHostAddress())
        + "|"
        + e.port();
  }
}
