package io.kedge.keadm;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.testkit.Waits;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The supervisor with real processes: restart on exit, clean stop, pid files. */
class SupervisedServicesTest {

  static KeadmEnvironment env() {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    return new KeadmEnvironment(
        new PrintStream(sink, true),
        new PrintStream(sink, true),
        new ByteArrayInputStream(new byte[0]),
        Map.of(),
        KeadmRun.kedgeHome(),
        false,
        false);
  }

  @Test
  void keepsTheProgramRunningAndStopsItCleanly(@TempDir Path root) throws Exception {
    InstallLayout layout = InstallLayout.of(root);
    Path marker = root.resolve("runs");
    ServiceSpec spec =
        new ServiceSpec(
            "demo",
            "demo",
            List.of("bash", "-c", "echo run >> " + marker + "; exec sleep 300"),
            Map.of(),
            layout);
    SupervisedServices services = new SupervisedServices(env());
    try {
      services.start(spec);
      assertThat(services.running(spec)).isTrue();
      Waits.until("first child", Duration.ofSeconds(10), () -> services.childPid(spec).isPresent());
      long first = services.childPid(spec).orElseThrow();

      ProcessHandle.of(first).orElseThrow().destroyForcibly();
      Waits.until(
          "restarted child",
          Duration.ofSeconds(20),
          () -> services.childPid(spec).filter(p -> p != first).isPresent());
      long second = services.childPid(spec).orElseThrow();
      Waits.until(
          "second run", Duration.ofSeconds(10), () -> Files.readAllLines(marker).size() == 2);
      assertThat(Files.readString(spec.log()))
          .contains("exited with status")
          .contains("restarting");

      services.start(spec); // already running: nothing happens
      assertThat(services.childPid(spec)).contains(second);

      assertThat(services.stop(spec)).isTrue();
      assertThat(services.running(spec)).isFalse();
      assertThat(ProcessHandle.of(second).map(ProcessHandle::isAlive).orElse(false)).isFalse();
      assertThat(spec.pidFile()).doesNotExist();
      assertThat(services.stop(spec)).isFalse();
    } finally {
      services.stop(spec);
    }
  }

  @Test
  void aStalePidFileIsNotMistakenForTheService(@TempDir Path root) throws Exception {
    InstallLayout layout = InstallLayout.of(root);
    ServiceSpec spec = new ServiceSpec("demo", "demo", List.of("sleep", "300"), Map.of(), layout);
    Files.createDirectories(spec.pidFile().getParent());
    // Our own pid: alive, but not a supervisor of this service.
    Files.writeString(spec.pidFile(), Long.toString(ProcessHandle.current().pid()));
    SupervisedServices services = new SupervisedServices(env());
    assertThat(services.running(spec)).isFalse();
    assertThat(services.stop(spec)).isFalse();
    assertThat(ProcessHandle.current().isAlive()).isTrue();
  }
}
