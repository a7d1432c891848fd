package io.kedge.keadm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Services as systemd units ({@code /etc/systemd/system/NAME.service}), as KubeEdge's keadm
 * installs edgecore: {@code systemctl restart edgecore.service} works as the documentation says.
 */
final class SystemdServices implements ServiceManager {
  private final KeadmEnvironment env;
  private final Path unitDir;

  SystemdServices(KeadmEnvironment env) {
    this(env, Path.of("/etc/systemd/system"));
  }

  SystemdServices(KeadmEnvironment env, Path unitDir) {
    this.env = env;
    this.unitDir = unitDir;
  }

  Path unitFile(ServiceSpec spec) {
    return unitDir.resolve(spec.name() + ".service");
  }

  /** The unit's text. */
  static String unit(ServiceSpec spec, Path kedgeHome) {
    StringBuilder b = new StringBuilder();
    b.append("# Written by keadm; removed by keadm reset.\n");
    b.append("[Unit]\n");
    b.append("Description=").append(spec.description()).append('\n');
    b.append("Wants=network-online.target\nAfter=network-online.target\n\n");
    b.append("[Service]\n");
    b.append("Type=simple\n");
    b.append("Environment=").append(quote("KEDGE_HOME=" + kedgeHome)).append('\n');
    for (Map.Entry<String, String> e : spec.env().entrySet()) {
      b.append("Environment=").append(quote(e.getKey() + "=" + e.getValue())).append('\n');
    }
    b.append("ExecStart=");
    List<String> parts = new ArrayList<>();
    for (String c : spec.command()) {
      parts.add(c.matches("[A-Za-z0-9_@%+=:,./-]+") ? c : quote(c));
    }
    b.append(String.join(" ", parts)).append('\n');
    b.append("Restart=always\nRestartSec=10\nKillMode=mixed\nTimeoutStopSec=30\n\n");
    b.append("[Install]\nWantedBy=multi-user.target\n");
    return b.toString();
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  @Override
  public void start(ServiceSpec spec) {
    try {
      Path unit = unitFile(spec);
      String text = unit(spec, env.kedgeHome());
      if (!Files.isRegularFile(unit) || !Files.readString(unit).equals(text)) {
        Files.createDirectories(unitDir);
        Files.writeString(unit, text, StandardCharsets.UTF_8);
        systemctl("daemon-reload");
      }
    } catch (IOException e) {
      throw new KeadmException(
          "cannot write the unit of " + spec.name() + ": " + e.getMessage(), e);
    }
    systemctl("enable", spec.name() + ".service");
    systemctl("start", spec.name() + ".service");
  }

  @Override
  public boolean stop(ServiceSpec spec) {
    boolean was = running(spec);
    if (Files.isRegularFile(unitFile(spec))) {
      systemctl("stop", spec.name() + ".service");
    }
    return was;
  }

  @Override
  public boolean running(ServiceSpec spec) {
    return run(List.of("systemctl", "is-active", "--quiet", spec.name() + ".service")) == 0;
  }

  @Override
  public void uninstall(ServiceSpec spec) {
    Path unit = unitFile(spec);
    if (!Files.isRegularFile(unit)) {
      return;
    }
    stop(spec);
    run(List.of("systemctl", "disable", spec.name() + ".service"));
    try {
      Files.deleteIfExists(unit);
    } catch (IOException e) {
      throw new KeadmException("cannot remove " + unit + ": " + e.getMessage(), e);
    }
    systemctl("daemon-reload");
  }

  @Override
  public String logHint(ServiceSpec spec) {
    return "journalctl -u " + spec.name() + ".service -f";
  }

  @Override
  public String describe(ServiceSpec spec) {
    return "systemd unit " + spec.name() + ".service";
  }

  private void systemctl(String... args) {
    List<String> cmd = new ArrayList<>(List.of("systemctl"));
    cmd.addAll(List.of(args));
    int rc = run(cmd);
    if (rc != 0) {
      throw new KeadmException(String.join(" ", cmd) + " failed (exit " + rc + ")");
    }
  }

  private int run(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return -1;
      }
      if (p.exitValue() != 0 && env.debug() && !out.isBlank()) {
        env.err().print(out);
      }
      return p.exitValue();
    } catch (IOException e) {
      throw new KeadmException("cannot run " + String.join(" ", cmd) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KeadmException("interrupted");
    }
  }
}
