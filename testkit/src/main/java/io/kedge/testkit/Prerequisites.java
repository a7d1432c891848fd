package io.kedge.testkit;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.opentest4j.TestAbortedException;

/**
 * What a test needs of the machine: a program on the PATH, root, a Python module. When it is
 * missing the test is skipped on a developer's machine, but fails where {@code CI=true}: there a
 * test that did not run must not let the build pass. {@code scripts/setup.sh} installs what the
 * tests need. The one way tests skip themselves (a test in testkit checks that no other exists).
 */
public final class Prerequisites {
  private Prerequisites() {}

  /**
   * The program {@code name} as found on the PATH.
   *
   * @param debianPackage the package that provides it, named in the message when it is missing
   */
  public static Path tool(String name, String debianPackage) {
    return tool(name, debianPackage, System.getenv());
  }

  static Path tool(String name, String debianPackage, Map<String, String> env) {
    Path found = onPath(name, env.getOrDefault("PATH", ""));
    require(
        found != null,
        name + " on the PATH (Debian package " + debianPackage + "; scripts/setup.sh installs it)",
        env);
    return found;
  }

  /**
   * That {@code /usr/bin/python3} imports {@code module}.
   *
   * @param debianPackage the package that provides it
   */
  public static void pythonModule(String module, String debianPackage) {
    boolean ok;
    try {
      Process p =
          new ProcessBuilder("/usr/bin/python3", "-c", "import " + module)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      ok = p.waitFor() == 0;
    } catch (java.io.IOException e) {
      ok = false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ok = false;
    }
    require(
        ok,
        "/usr/bin/python3 with the module "
            + module
            + " (Debian package "
            + debianPackage
            + "; scripts/setup.sh installs it)");
  }

  /** Whether this test JVM runs as root. */
  public static boolean root() {
    try {
      return Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t");
    } catch (java.io.IOException e) {
      return false;
    }
  }

  /**
   * Skips the test (fails it where {@code CI=true}) unless {@code met}.
   *
   * @param what what the test needs, for the message
   */
  public static void require(boolean met, String what) {
    require(met, what, System.getenv());
  }

  static void require(boolean met, String what, Map<String, String> env) {
    if (met) {
      return;
    }
    if (ci(env)) {
      throw new AssertionError(
          "this test needs " + what + "; with CI=true a missing prerequisite fails the test");
    }
    throw new TestAbortedException("skipped: this test needs " + what);
  }

  static boolean ci(Map<String, String> env) {
    String v = env.getOrDefault("CI", "").trim().toLowerCase(Locale.ROOT);
    return v.equals("true") || v.equals("1");
  }

  private static Path onPath(String name, String path) {
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
        return Path.of(dir, name);
      }
    }
    return null;
  }
}
