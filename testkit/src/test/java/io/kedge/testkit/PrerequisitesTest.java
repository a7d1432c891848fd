package io.kedge.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.TestAbortedException;

class PrerequisitesTest {
  @TempDir Path dir;

  @Test
  void aMissingToolSkipsOnADevelopersMachineAndFailsWhereCiIsTrue() {
    Map<String, String> dev = Map.of("PATH", dir.toString());
    assertThatThrownBy(() -> Prerequisites.tool("kubectl", "kubernetes-client", dev))
        .isInstanceOf(TestAbortedException.class)
        .hasMessageContaining("kubectl on the PATH (Debian package kubernetes-client");
    for (String ci : List.of("true", "TRUE", "1")) {
      Map<String, String> env = Map.of("PATH", dir.toString(), "CI", ci);
      assertThatThrownBy(() -> Prerequisites.tool("kubectl", "kubernetes-client", env))
          .as("CI=" + ci)
          .isInstanceOf(AssertionError.class)
          .isNotInstanceOf(TestAbortedException.class)
          .hasMessageContaining("with CI=true a missing prerequisite fails the test");
    }
    assertThatThrownBy(() -> Prerequisites.require(false, "root", Map.of("CI", "false")))
        .isInstanceOf(TestAbortedException.class);
  }

  @Test
  void aToolOnThePathIsFound() throws IOException {
    Path tool = dir.resolve("kubectl");
    Files.writeString(tool, "#!/bin/sh\n");
    assertThat(tool.toFile().setExecutable(true)).isTrue();
    Map<String, String> env = Map.of("PATH", "/nonexistent:" + dir, "CI", "true");
    assertThat(Prerequisites.tool("kubectl", "kubernetes-client", env)).isEqualTo(tool);
  }

  /**
   * Tests skip themselves only through {@link Prerequisites}: no JUnit or AssertJ assumption, no
   * {@code @Disabled}, and conditional execution only for the benchmarks' opt-in runs.
   */
  @Test
  void noTestSkipsItselfAnyOtherWay() throws IOException {
    Path root = Path.of(System.getProperty("kedge.home", "..")).toAbsolutePath().normalize();
    assertThat(root.resolve("pom.xml")).exists();
    Pattern forbidden =
        Pattern.compile(
            "\\bAssumptions\\b|\\bassume(True|False|That|ThatCode|ThatThrownBy)\\s*\\("
                + "|@Disabled\\b|@(Enabled|Disabled)(If|On)\\w*");
    List<String> found = new ArrayList<>();
    try (Stream<Path> modules = Files.list(root)) {
      for (Path module : modules.filter(m -> Files.isDirectory(m.resolve("src/test"))).toList()) {
        try (Stream<Path> files = Files.walk(module.resolve("src/test"))) {
          for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
            if (f.getFileName().toString().equals("PrerequisitesTest.java")) {
              continue;
            }
            List<String> lines = Files.readAllLines(f);
            for (int i = 0; i < lines.size(); i++) {
              String l = lines.get(i);
              boolean benchOptIn =
                  module.getFileName().toString().equals("bench")
                      && l.contains("@EnabledIfSystemProperty");
              if (forbidden.matcher(l).find() && !benchOptIn) {
                found.add(root.relativize(f) + ":" + (i + 1) + ": " + l.strip());
              }
            }
          }
        }
      }
    }
    assertThat(found).as("tests that skip themselves without Prerequisites").isEmpty();
  }
}
