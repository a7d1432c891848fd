package io.kedge.keadm;

import io.kedge.protocol.config.ConfigException;
import io.kedge.protocol.config.ConfigOverrides;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The settings of one cloudcore only, on top of the ConfigMap {@code kubeedge/cloudcore} all
 * cloudcores of a cluster share: where this one listens and which addresses it advertises. {@code
 * keadm init} writes them when it adds a cloudcore to a cluster that has one already; they are kept
 * in {@code <config dir>/cloudcore-local.sets} ({@code cloudcore.yaml} key paths, one {@code
 * KEY=VALUE} a line) and handed to cloudcore as {@code --set} whenever keadm starts it.
 */
final class LocalCloudSettings {
  private LocalCloudSettings() {}

  static Path file(InstallLayout layout) {
    return layout.configDir().resolve("cloudcore-local.sets");
  }

  static List<String> read(InstallLayout layout) {
    Path f = file(layout);
    if (!Files.isRegularFile(f)) {
      return List.of();
    }
    try {
      return Files.readAllLines(f, StandardCharsets.UTF_8).stream()
          .map(String::strip)
          .filter(l -> !l.isEmpty() && !l.startsWith("#"))
          .toList();
    } catch (IOException e) {
      throw new KeadmException("cannot read " + f + ": " + e.getMessage(), e);
    }
  }

  static void write(InstallLayout layout, List<String> sets) {
    Path f = file(layout);
    StringBuilder b =
        new StringBuilder(
            "# Settings of this cloudcore only (keadm init), on top of ConfigMap"
                + " kubeedge/cloudcore,\n# which all cloudcores of the cluster share. One"
                + " cloudcore.yaml KEY=VALUE a line.\n");
    sets.forEach(s -> b.append(s).append('\n'));
    try {
      Files.createDirectories(f.getParent());
      Files.writeString(f, b.toString(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new KeadmException("cannot write " + f + ": " + e.getMessage(), e);
    }
  }

  static void remove(InstallLayout layout) throws IOException {
    Files.deleteIfExists(file(layout));
  }

  /** The settings a cloudcore may have of its own, as keadm's usage names them. */
  static final String OWN =
      "cloudCore.modules.cloudHub.*, cloudCore.modules.cloudStream.tunnelPort and .streamPort,"
          + " cloudCore.commonConfig.monitorServer.bindAddress and"
          + " cloudCore.highAvailability.name";

  /**
   * Where this cloudcore listens and what it is called are its own; everything else (modules,
   * feature gates, the apiserver's settings, lease timings) all cloudcores of a cluster share.
   */
  private static boolean own(List<Object> p) {
    if (p.isEmpty() || !"cloudCore".equals(p.get(0))) {
      return false;
    }
    List<Object> key = p.subList(1, p.size());
    return key.size() >= 3 && key.get(0).equals("modules") && key.get(1).equals("cloudHub")
        || key.equals(List.of("modules", "cloudStream", "tunnelPort"))
        || key.equals(List.of("modules", "cloudStream", "streamPort"))
        || key.equals(List.of("commonConfig", "monitorServer", "bindAddress"))
        || key.equals(List.of("highAvailability", "name"));
  }

  /**
   * The key of {@code commonConfig.monitorServer.bindAddress} in the settings {@link #of} makes.
   */
  static final String MONITOR_KEY = "commonConfig.monitorServer.bindAddress";

  /**
   * The monitor address for a cloudcore added on a machine where the shared one ({@code
   * bindAddress}) is taken, most likely by another cloudcore of the cluster: the next port that is
   * free, skipping edgecore's default 9092. Empty when {@code bindAddress} is free or empty, or
   * when {@code local} names one already (the operator's choice stands, and cloudcore says so if it
   * cannot bind it).
   */
  static java.util.Optional<String> monitorFor(
      List<String> local,
      String bindAddress,
      java.util.function.Predicate<java.net.InetSocketAddress> free) {
    if (bindAddress == null
        || bindAddress.isBlank()
        || local.stream().anyMatch(l -> l.startsWith(MONITOR_KEY + "="))) {
      return java.util.Optional.empty();
    }
    java.net.InetSocketAddress wanted = io.kedge.monitor.MonitorServer.parse(bindAddress);
    if (wanted.getPort() == 0 || free.test(wanted)) {
      return java.util.Optional.empty();
    }
    for (int port = wanted.getPort() + 1; port <= Math.min(65535, wanted.getPort() + 100); port++) {
      if (port == 9092) {
        continue;
      }
      java.net.InetSocketAddress a = new java.net.InetSocketAddress(wanted.getAddress(), port);
      if (free.test(a)) {
        return java.util.Optional.of(io.kedge.monitor.MonitorServer.hostPort(a));
      }
    }
    return java.util.Optional.empty();
  }

  /** Whether a TCP port can be bound on this machine now. */
  static boolean bindable(java.net.InetSocketAddress a) {
    try (java.net.ServerSocket s = new java.net.ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(a);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * This cloudcore's own settings from init's arguments: its advertised addresses, and the values
   * of {@link #OWN} given with {@code --set} (ports, addresses, limits, its name).
   *
   * @throws IllegalArgumentException for a value every cloudcore of the cluster must share (a usage
   *     error: it belongs in the ConfigMap)
   */
  static List<String> of(List<String> userSets, List<String> advertiseAddresses) {
    List<String> out = new ArrayList<>();
    out.add("modules.cloudHub.advertiseAddress={" + String.join(",", advertiseAddresses) + "}");
    for (String s : userSets) {
      List<ConfigOverrides.Override> parsed;
      try {
        parsed = ConfigOverrides.parse(s);
      } catch (ConfigException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
      for (ConfigOverrides.Override o : parsed) {
        List<Object> p = o.path();
        if (!own(p)) {
          throw new IllegalArgumentException(
              "--set "
                  + o.text()
                  + ": cloudcore is already installed in this cluster, and all its cloudcores share"
                  + " their settings (kubectl edit cm cloudcore -n kubeedge); only "
                  + OWN
                  + " may differ for the cloudcore added here");
        }
        StringBuilder key = new StringBuilder();
        for (Object step : p.subList(1, p.size())) {
          if (step instanceof Integer i) {
            key.append('[').append(i).append(']');
          } else {
            key.append(key.isEmpty() ? "" : ".").append(step);
          }
        }
        out.add(key + "=" + o.text().substring(o.text().indexOf('=') + 1).strip());
      }
    }
    return out;
  }
}
