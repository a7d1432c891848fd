package io.kedge.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The kubectl on this machine, run as a fresh pod would run it: empty HOME (no discovery cache, no
 * kubeconfig), against one server.
 */
final class Kubectl {
  record Result(int exit, String out, String err) {
    Result ok() {
      if (exit != 0) {
        throw new AssertionError("kubectl failed (" + exit + "): " + err + out);
      }
      return this;
    }
  }

  private final List<String> target;
  private final Path home;

  private Kubectl(List<String> target, Path home) {
    this.target = target;
    this.home = home;
  }

  /** kubectl against {@code server} with no credentials (MetaServer with the gate off). */
  static Kubectl server(String server, Path home) {
    return new Kubectl(List.of("--server=" + server), home);
  }

  static Kubectl kubeconfig(Path kubeconfig, Path home) {
    return new Kubectl(List.of("--kubeconfig=" + kubeconfig), home);
  }

  Result run(String... args) {
    return withInput(null, args);
  }

  Result withInput(String stdin, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add("kubectl");
    cmd.addAll(target);
    cmd.addAll(List.of(args));
    try {
      Path fresh = Files.createTempDirectory(home, "home");
      ProcessBuilder pb = new ProcessBuilder(cmd);
      pb.environment().remove("KUBECONFIG");
      pb.environment().remove("KUBERNETES_SERVICE_HOST");
      pb.environment().remove("KUBERNETES_SERVICE_PORT");
      pb.environment().put("HOME", fresh.toString());
      Path out = fresh.resolve("stdout");
      Path err = fresh.resolve("stderr");
      pb.redirectOutput(out.toFile()).redirectError(err.toFile());
      Process p = pb.start();
      if (stdin != null) {
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      p.getOutputStream().close();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("kubectl " + String.join(" ", args) + " did not finish in 120 s");
      }
      return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Starts a long-running kubectl (e.g. a watch); output goes to {@code out}. */
  Process start(Path out, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add("kubectl");
    cmd.addAll(target);
    cmd.addAll(List.of(args));
    Path fresh = Files.createTempDirectory(home, "home");
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().remove("KUBECONFIG");
    pb.environment().put("HOME", fresh.toString());
    pb.redirectOutput(out.toFile())
        .redirectError(out.resolveSibling(out.getFileName() + ".stderr").toFile());
    return pb.start();
  }
}
