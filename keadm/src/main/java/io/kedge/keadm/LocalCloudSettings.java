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

  /**
   * This cloudcore's own settings from init's arguments: its advertised addresses, and the {@code
   * cloudCore.modules.cloudHub.*} values given with {@code --set} (ports, addresses, limits).
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
        if (p.size() < 4
            || !"cloudCore".equals(p.get(0))
            || !"modules".equals(p.get(1))
            || !"cloudHub".equals(p.get(2))) {
          throw new IllegalArgumentException(
              "--set "
                  + o.text()
                  + ": cloudcore is already installed in this cluster, and all its cloudcores share"
                  + " their settings (kubectl edit cm cloudcore -n kubeedge); only"
                  + " cloudCore.modules.cloudHub.* may differ for the cloudcore added here");
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
