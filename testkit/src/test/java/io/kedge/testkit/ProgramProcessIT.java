package io.kedge.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Programs a test started do not outlive the test's JVM. */
class ProgramProcessIT {

  /** A test JVM in miniature: starts a long-running program, says its pid, waits. */
  public static void main(String[] args) throws Exception {
    ProgramProcess p =
        ProgramProcess.start("sleeper", List.of("sleep", "300"), Map.of(), Path.of(args[0]));
    System.out.println(p.pid());
    System.out.flush();
    Thread.sleep(300_000);
  }

  @Test
  void aProgramStillRunningWhenTheJvmIsStoppedIsKilled(@TempDir Path dir) throws Exception {
    Process jvm =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                ProgramProcessIT.class.getName(),
                dir.resolve("sleeper.log").toString())
            .redirectErrorStream(true)
            .start();
    long sleeper = -1;
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8))) {
      sleeper = Long.parseLong(out.readLine().strip());
      ProcessHandle program = ProcessHandle.of(sleeper).orElseThrow();
      assertThat(program.isAlive()).isTrue();

      jvm.destroy(); // SIGTERM, as a CI time limit or Ctrl-C ends a test run
      assertThat(jvm.waitFor(30, TimeUnit.SECONDS)).isTrue();
      Waits.until("the program is gone", Duration.ofSeconds(10), () -> !program.isAlive());
    } finally {
      jvm.destroyForcibly();
      if (sleeper > 0) {
        ProcessHandle.of(sleeper).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }
}
