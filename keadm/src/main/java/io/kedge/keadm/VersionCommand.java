package io.kedge.keadm;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code keadm version}. */
@Command(
    name = "version",
    mixinStandardHelpOptions = true,
    description = "Print keadm's version and the KubeEdge release it is compatible with.")
public final class VersionCommand implements Callable<Integer> {
  private final KeadmEnvironment env;

  VersionCommand(KeadmEnvironment env) {
    this.env = env;
  }

  static String kedgeVersion() {
    Properties p = new Properties();
    try (InputStream in = VersionCommand.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // unknown below
    }
    String v = p.getProperty("version", "unknown");
    return v.startsWith("${") ? "unknown" : v;
  }

  static String line() {
    return "keadm version: Kedge "
        + kedgeVersion()
        + " (KubeEdge "
        + KubeEdgeVersion.DEFAULT
        + " compatible; --kubeedge-version accepts "
        + KubeEdgeVersion.MINIMUM
        + " and later)";
  }

  @Override
  public Integer call() {
    env.out().println(line());
    return 0;
  }

  /** For {@code keadm --version}. */
  public static final class Provider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {line()};
    }
  }
}
