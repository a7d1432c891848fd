package io.kedge.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.controlplane.ControlPlaneOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The install and build scripts fail with one clear line that says what to look at. */
class ScriptErrorsIT {
  private static final Path HOME = ControlPlaneOptions.kedgeHomeFromEnvironment();

  @Test
  void unreachableAptArchiveIsNamed() throws Exception {
    // A package that is not installed, with apt pointed at a closed local port.
    Result r =
        run(
            List.of(HOME.resolve("scripts/install-packages.sh").toString(), "sl"),
            Map.of(
                "KEDGE_APT_OPTS",
                "-o Acquire::http::Proxy=http://127.0.0.1:9 -o Acquire::Retries=0"));
    assertThat(r.code).isEqualTo(1);
    assertThat(r.err.strip().lines().toList())
        .hasSize(2) // "installing sl" and the error
        .last()
        .asString()
        .startsWith("[packages] error: apt cannot reach the Debian archive");
  }

  @Test
  void failedBuildNamesItsLog(@TempDir Path cache) throws Exception {
    // A source tree whose build fails: the script must stop with the log path.
    Path src = cache.resolve("k8s-v1.20.2/src/kubernetes-broken");
    Files.createDirectories(src.resolve("vendor"));
    Files.writeString(
        src.resolve("Makefile"), "all:\n\t@echo 'compile error: broken on purpose'; exit 1\n");
    Result r =
        run(
            List.of(HOME.resolve("scripts/build-kube.sh").toString()),
            Map.of("KEDGE_CACHE", cache.toString()));
    assertThat(r.code).isEqualTo(1);
    String last = r.err.strip().lines().reduce((a, b) -> b).orElse("");
    assertThat(last)
        .startsWith("[build-kube] error: build failed")
        .endsWith("see " + cache.resolve("k8s-v1.20.2/build.log"));
    assertThat(Files.readString(cache.resolve("k8s-v1.20.2/build.log")))
        .contains("broken on purpose");
  }

  record Result(int code, String out, String err) {}

  static Result run(List<String> cmd, Map<String, String> env)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), out, err);
  }
}
