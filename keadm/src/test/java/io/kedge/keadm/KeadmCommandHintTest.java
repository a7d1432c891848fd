package io.kedge.keadm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The keadm that printed hints name: one that runs when pasted. */
class KeadmCommandHintTest {
  @TempDir Path tmp;

  private KeadmEnvironment env(Path home, String path) {
    return new KeadmEnvironment(
        new PrintStream(PrintStream.nullOutputStream()),
        new PrintStream(PrintStream.nullOutputStream()),
        new ByteArrayInputStream(new byte[0]),
        Map.of("PATH", path),
        home,
        false,
        false);
  }

  private static Path executable(Path file) throws Exception {
    Files.createDirectories(file.getParent());
    Files.writeString(file, "#!/bin/sh\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    return file;
  }

  @Test
  void plainKeadmWhenThePathLeadsToThisCheckout() throws Exception {
    Path home = tmp.resolve("kedge");
    Path launcher = executable(home.resolve("bin/keadm"));
    Path bin = Files.createDirectories(tmp.resolve("usr-local-bin"));
    Files.createSymbolicLink(bin.resolve("keadm"), launcher);
    assertThat(env(home, "/nonexistent:" + bin).keadmCommand()).isEqualTo("keadm");
  }

  @Test
  void theLaunchersPathWhenKeadmIsNotOnThePathOrIsAnotherOne() throws Exception {
    Path home = tmp.resolve("kedge");
    Path launcher = executable(home.resolve("bin/keadm"));
    assertThat(env(home, "/usr/bin:/bin").keadmCommand()).isEqualTo(launcher.toString());
    Path other = executable(tmp.resolve("other/keadm")).getParent();
    Path bin = Files.createDirectories(tmp.resolve("usr-local-bin"));
    Files.createSymbolicLink(bin.resolve("keadm"), launcher);
    // KubeEdge's keadm first on the PATH: ours must be named by its path
    assertThat(env(home, other + ":" + bin).keadmCommand()).isEqualTo(launcher.toString());
  }
}
