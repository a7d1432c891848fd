package io.kedge.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/setup.sh} asks for the Debian packages of the tools the tests run, kubectl
 * included when none is on the PATH. Run on a copy whose {@code install-packages.sh} and {@code
 * build-kube.sh} only record how they were called, with a PATH of stand-ins.
 */
class SetupScriptTest {
  @TempDir Path dir;

  private String packagesAskedFor(List<String> toolsPresent) throws Exception {
    Path scripts = Files.createDirectories(dir.resolve("scripts"));
    Path root = Path.of(System.getProperty("kedge.home", "..")).toAbsolutePath().normalize();
    Files.copy(root.resolve("scripts/setup.sh"), scripts.resolve("setup.sh"));
    Path record = dir.resolve("asked");
    script(scripts.resolve("install-packages.sh"), "echo \"$@\" >> " + record);
    script(scripts.resolve("build-kube.sh"), "true");
    Path bin = Files.createDirectories(dir.resolve("bin"));
    for (String t : toolsPresent) {
      script(bin.resolve(t), "true");
    }
    for (String t : List.of("dirname", "readlink", "mkdir", "ln")) {
      Files.createSymbolicLink(bin.resolve(t), Path.of("/usr/bin", t));
    }
    ProcessBuilder pb =
        new ProcessBuilder("/bin/bash", scripts.resolve("setup.sh").toString())
            .redirectErrorStream(true);
    pb.environment().put("PATH", bin.toString());
    Path links = dir.resolve("links");
    pb.environment().put("KEDGE_BIN_DIR", links.toString()); // not the machine's /usr/local/bin
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(Files.readSymbolicLink(links.resolve("keadm"))).isEqualTo(dir.resolve("bin/keadm"));
    return Files.readString(record).strip();
  }

  private static void script(Path p, String body) throws IOException {
    Files.writeString(p, "#!/bin/sh\n" + body + "\n");
    assertThat(p.toFile().setExecutable(true)).isTrue();
  }

  @Test
  void aMachineWithoutKubectlGetsDebiansKubernetesClient() throws Exception {
    String asked = packagesAskedFor(List.of("java", "mvn", "curl", "python3"));
    assertThat(asked.split(" "))
        .contains("kubernetes-client", "python3-kubernetes", "iproute2", "util-linux")
        .doesNotContain("openjdk-17-jdk-headless", "maven", "curl");
  }

  @Test
  void aKubectlOnThePathIsKept() throws Exception {
    String asked = packagesAskedFor(List.of("java", "mvn", "curl", "python3", "kubectl"));
    assertThat(asked.split(" ")).doesNotContain("kubernetes-client").contains("python3-kubernetes");
  }
}
