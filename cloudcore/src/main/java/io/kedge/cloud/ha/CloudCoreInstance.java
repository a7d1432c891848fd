package io.kedge.cloud.ha;

import io.kedge.protocol.config.CloudCoreConfig;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Locale;

/**
 * This cloudcore among the others of its cluster: its {@code name} (stable across restarts, from
 * {@code highAvailability.name} or the host name and WebSocket port) and its {@code id} for this
 * run ({@code <name>_<random>}), the holder identity of every Lease it takes. A restarted cloudcore
 * keeps its name and gets a new id, so that nothing the dead process held is taken for its own.
 *
 * @param leaseDuration how long a Lease is valid without renewal
 * @param renewDeadline how long the leader may fail to renew before it stops leading
 * @param retryPeriod between attempts to take or renew a Lease
 */
public record CloudCoreInstance(
    String name, String id, Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {

  /** Names are at most 40 characters: Lease names and label values have room for them. */
  static final int MAX_NAME = 40;

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

  public static CloudCoreInstance of(CloudCoreConfig.HighAvailability ha, int webSocketPort) {
    // port 0 (tests: a free port picked when listening) names nothing: a random part instead
    String name =
        ha.name() != null && !ha.name().isEmpty()
            ? ha.name()
            : webSocketPort > 0
                ? defaultName(localHostName(), String.valueOf(webSocketPort))
                : defaultName(localHostName(), suffix());
    return new CloudCoreInstance(
        name,
        name + "_" + suffix(),
        Duration.ofSeconds(ha.leaseDuration()),
        Duration.ofSeconds(ha.renewDeadline()),
        Duration.ofSeconds(ha.retryPeriod()));
  }

  /** A name for tests and single cloudcores: the defaults of {@code highAvailability}. */
  public static CloudCoreInstance named(String name) {
    return new CloudCoreInstance(
        name,
        name + "_" + suffix(),
        Duration.ofSeconds(15),
        Duration.ofSeconds(10),
        Duration.ofSeconds(2));
  }

  /** {@code <host>-<port>} in Lease-name characters, the host part shortened to fit. */
  static String defaultName(String host, String port) {
    String h = host.toLowerCase(Locale.ROOT);
    int dot = h.indexOf('.');
    if (dot > 0) {
      h = h.substring(0, dot);
    }
    h = h.replaceAll("[^a-z0-9-]", "-").replaceAll("^-+|-+$", "");
    if (h.isEmpty()) {
      h = "cloudcore";
    }
    String p = "-" + port;
    if (h.length() + p.length() > MAX_NAME) {
      h = h.substring(0, MAX_NAME - p.length()).replaceAll("-+$", "");
    }
    return h + p;
  }

  /** The name part of a holder identity, or null when it is not one of a cloudcore. */
  public static String nameOf(String id) {
    if (id == null) {
      return null;
    }
    int u = id.lastIndexOf('_');
    return u <= 0 ? null : id.substring(0, u);
  }

  private static String localHostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      String env = System.getenv("HOSTNAME");
      return env == null || env.isBlank() ? "cloudcore" : env;
    }
  }

  private static String suffix() {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 5; i++) {
      b.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return b.toString();
  }

  @Override
  public String toString() {
    return id;
  }
}
