package io.kedge.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the real {@code bin/keadm} of the checkout as a user would, stdout and stderr apart. */
final class Keadm {
  private Keadm() {}

  record Result(int code, String out, String err) {
    Result ok() {
      if (code != 0) {
        throw new AssertionError(
            "keadm exited " + code + "\nstdout:\n" + out + "\nstderr:\n" + err);
      }
      return this;
    }
  }

  static Path home() {
    return Path.of(System.getProperty("kedge.home")).toAbsolutePath().normalize();
  }

  static Result run(List<String> args) {
    return run(Map.of(), args);
  }

  static Result run(String... args) {
    return run(Map.of(), List.of(args));
  }

  static Result run(Map<String, String> env, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(home().resolve("bin/keadm").toString());
    cmd.addAll(args);
    try {
      Path out = Files.createTempFile("keadm", ".out");
      Path err = Files.createTempFile("keadm", ".err");
      try {
        ProcessBuilder pb =
            new ProcessBuilder(cmd)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        pb.environment().putAll(env);
        pb.environment()
            .put("KEDGE_JAVA_OPTS", "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1");
        Process p = pb.start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
          p.descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly();
          throw new AssertionError("keadm " + args + " did not finish in 10 minutes");
        }
        return new Result(
            p.exitValue(),
            Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new AssertionError("cannot run keadm: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
