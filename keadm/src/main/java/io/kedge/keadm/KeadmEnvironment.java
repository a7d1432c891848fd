package io.kedge.keadm;

import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * What keadm's commands get from the outside world: output streams, environment variables, the
 * Kedge checkout it runs from and whether systemd manages this machine. Tests build their own.
 *
 * @param kedgeHome checkout root (holds {@code bin/}, {@code deploy/}, {@code scripts/})
 * @param systemd whether PID 1 is systemd (services then become systemd units)
 */
public record KeadmEnvironment(
    PrintStream out,
    PrintStream err,
    InputStream in,
    Map<String, String> env,
    Path kedgeHome,
    boolean systemd,
    boolean debug) {

  public static KeadmEnvironment system() {
    Map<String, String> env = System.getenv();
    return new KeadmEnvironment(
        System.out,
        System.err,
        System.in,
        env,
        kedgeHome(env),
        Files.isDirectory(Path.of("/run/systemd/system")),
        "1".equals(env.get("KEADM_DEBUG")));
  }

  static Path kedgeHome(Map<String, String> env) {
    String p = System.getProperty("kedge.home");
    if (p == null || p.isBlank()) {
      p = env.get("KEDGE_HOME");
    }
    if (p == null || p.isBlank()) {
      p = ".";
    }
    return Path.of(p).toAbsolutePath().normalize();
  }

  public KeadmEnvironment withSystemd(boolean on) {
    return new KeadmEnvironment(out, err, in, env, kedgeHome, on, debug);
  }

  /**
   * How a hint keadm prints should call keadm so that it works when pasted: {@code keadm} when the
   * {@code keadm} on the PATH is this checkout's launcher (as {@code scripts/setup.sh} links it),
   * else the launcher's full path.
   */
  public String keadmCommand() {
    Path launcher = kedgeHome.resolve("bin/keadm");
    String path = env.getOrDefault("PATH", "");
    for (String dir : path.split(":")) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir).resolve("keadm");
      try {
        if (Files.isExecutable(candidate) && candidate.toRealPath().equals(launcher.toRealPath())) {
          return "keadm";
        }
      } catch (java.io.IOException e) {
        // not this one
      }
      if (Files.isExecutable(candidate)) {
        break; // another keadm comes first on the PATH
      }
    }
    return launcher.toString();
  }

  /** One progress line: {@code [step] message}. */
  public void progress(String step, String message) {
    out.println("[" + step + "] " + message);
    out.flush();
  }

  /** A notice that does not stop the command (stderr, so stdout stays machine-readable). */
  public void notice(String message) {
    err.println("keadm: note: " + message);
    err.flush();
  }

  public void warn(String message) {
    err.println("keadm: warning: " + message);
    err.flush();
  }

  /** This machine's host name in the form KubeEdge uses for default node names. */
  public String hostname() {
    String h = env.get("HOSTNAME");
    if (h == null || h.isBlank()) {
      try {
        h = Files.readString(Path.of("/etc/hostname")).strip();
      } catch (Exception e) {
        h = "";
      }
    }
    if (h.isBlank()) {
      try {
        h = InetAddress.getLocalHost().getHostName();
      } catch (Exception e) {
        h = "edge-node";
      }
    }
    return h.toLowerCase(Locale.ROOT);
  }

  public Path bin(String program) {
    return kedgeHome.resolve("bin").resolve(program);
  }
}
