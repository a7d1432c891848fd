package io.kedge.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.controlplane.ControlPlane;
import io.kedge.controlplane.ControlPlaneCli;
import io.kedge.testkit.junit.WithControlPlane;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code control-plane up|status|env|down} on a second plane beside the shared one: several
 * instances run at once, a taken port is replaced, and every error is one clear line.
 */
@WithControlPlane
class ControlPlaneCliIT {

  @Test
  void secondInstanceLifecycleWithTakenPort(ControlPlane shared, @TempDir Path tmp)
      throws Exception {
    Path dir = tmp.resolve("second");
    try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int taken = busy.getLocalPort();
      Result up = run("up", "--dir", dir.toString(), "--port", Integer.toString(taken));
      assertThat(up.code).as(up.err).isZero();
      assertThat(up.out).contains("KUBECONFIG=" + dir.resolve("admin.kubeconfig"));
      ControlPlane second = ControlPlane.attach(dir).orElseThrow();
      assertThat(second.apiserverUrl()).isNotEqualTo("https://127.0.0.1:" + taken);
      assertThat(second.apiserverUrl()).isNotEqualTo(shared.apiserverUrl());

      Result status = run("status", "--dir", dir.toString());
      assertThat(status.code).as(status.out).isZero();
      assertThat(status.out).contains("kube-apiserver").contains("running");

      Result env = run("env", "--dir", dir.toString());
      assertThat(env.out.strip()).isEqualTo("KUBECONFIG=" + dir.resolve("admin.kubeconfig"));

      // A second 'up' in the same directory refuses with one line.
      Result again = run("up", "--dir", dir.toString());
      assertThat(again.code).isEqualTo(1);
      assertThat(again.err.strip()).contains("already running").doesNotContain("\n");

      List<Long> pids = ControlPlane.COMPONENTS.stream().map(second::pid).toList();
      Result down = run("down", "--dir", dir.toString());
      assertThat(down.code).isZero();
      assertThat(pids)
          .allSatisfy(
              pid ->
                  assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                      .as("pid %d still running after down", pid)
                      .isFalse());
      assertThat(Files.exists(dir.resolve(ControlPlane.STATE_FILE))).isFalse();
    } finally {
      ControlPlane.down(dir); // never leave a plane behind when an assertion failed
    }
    // The shared plane was not touched.
    assertThat(shared.status().values()).containsOnly(true);
  }

  @Test
  void downWithoutPlaneIsOneClearLine(@TempDir Path tmp) {
    Result down = run("down", "--dir", tmp.toString());
    assertThat(down.code).isEqualTo(1);
    assertThat(down.err.strip())
        .isEqualTo("control-plane: no control plane is running in " + tmp.toAbsolutePath());
    Result status = run("status", "--dir", tmp.toString());
    assertThat(status.code).isEqualTo(1);
  }

  @Test
  void badFlagsExitWithUsage() {
    Result r = run("up", "--cluster-signing-duration", "soon");
    assertThat(r.code).isEqualTo(2);
    assertThat(r.err).contains("not a duration");
  }

  record Result(int code, String out, String err) {}

  static synchronized Result run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = ControlPlaneCli.run(args);
      return new Result(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }
}
