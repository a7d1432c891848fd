package io.kedge.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/**
 * An image registry on loopback: Debian's {@code docker-registry} (the Distribution registry),
 * plain HTTP, its storage under a test directory, optionally with a user and password ({@code
 * htpasswd}, bcrypt). Images are pushed to it with {@code skopeo} from OCI image-layout tarballs.
 * Both packages are installed through {@code scripts/install-packages.sh} when missing.
 */
public final class TestRegistry implements AutoCloseable {
  private final Path dir;
  private final List<String> prefix;
  private final int port;
  private final String user;
  private final String password;
  private final ProgramProcess process;

  private TestRegistry(
      Path dir, List<String> prefix, int port, String user, String password, ProgramProcess p) {
    this.dir = dir;
    this.prefix = prefix;
    this.port = port;
    this.user = user;
    this.password = password;
    this.process = p;
  }

  /** A registry anyone may pull from and push to. */
  public static TestRegistry open(Path dir, List<String> commandPrefix) {
    return start(dir, commandPrefix, null, null);
  }

  /** A registry that needs {@code user} and {@code password} for every request. */
  public static TestRegistry withCredentials(
      Path dir, List<String> commandPrefix, String user, String password) {
    return start(dir, commandPrefix, user, password);
  }

  /**
   * @param commandPrefix put before the registry's and skopeo's commands (e.g. to run them in a
   *     network namespace, {@link NetworkNamespace#prefix()})
   */
  private static TestRegistry start(
      Path dir, List<String> commandPrefix, String user, String password) {
    install();
    int port = Ports.free();
    try {
      Files.createDirectories(dir.resolve("data"));
      StringBuilder cfg = new StringBuilder();
      cfg.append("version: 0.1\n")
          .append("log:\n  level: info\n")
          .append("storage:\n  filesystem:\n    rootdirectory: ")
          .append(dir.resolve("data"))
          .append("\n  delete:\n    enabled: true\n")
          .append("http:\n  addr: 127.0.0.1:")
          .append(port)
          .append('\n');
      if (user != null) {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        String hash = OpenBSDBCrypt.generate("2a", password.toCharArray(), salt, 10);
        Files.writeString(dir.resolve("htpasswd"), user + ":" + hash + "\n");
        cfg.append("auth:\n  htpasswd:\n    realm: kedge-test\n    path: ")
            .append(dir.resolve("htpasswd"))
            .append('\n');
      }
      Files.writeString(dir.resolve("config.yml"), cfg.toString());
    } catch (IOException e) {
      throw new IllegalStateException("cannot prepare the registry in " + dir, e);
    }
    List<String> cmd = new ArrayList<>(commandPrefix);
    cmd.addAll(List.of("docker-registry", "serve", dir.resolve("config.yml").toString()));
    ProgramProcess p =
        ProgramProcess.start(
            "docker-registry", cmd, java.util.Map.of(), dir.resolve("registry.log"));
    TestRegistry r = new TestRegistry(dir, List.copyOf(commandPrefix), port, user, password, p);
    try {
      p.awaitLog("listening on 127\\.0\\.0\\.1:" + port, Duration.ofSeconds(60));
    } catch (RuntimeException | Error e) {
      r.close();
      throw e;
    }
    return r;
  }

  private static void install() {
    Path script = kedgeHome().resolve("scripts/install-packages.sh");
    run(List.of(script.toString(), "docker-registry", "skopeo"), Duration.ofMinutes(10));
  }

  /** {@code 127.0.0.1:PORT}, the registry part of image names. */
  public String host() {
    return "127.0.0.1:" + port;
  }

  public String user() {
    return user;
  }

  public String password() {
    return password;
  }

  /**
   * Copies an OCI image-layout tarball ({@code scripts/build-edge-image.sh}) to {@code
   * host()/repositoryAndTag}; returns the full image name.
   */
  public String push(Path ociArchive, String repositoryAndTag) {
    String image = host() + "/" + repositoryAndTag;
    List<String> cmd = new ArrayList<>(prefix);
    cmd.addAll(
        List.of("skopeo", "copy", "--quiet", "--insecure-policy", "--dest-tls-verify=false"));
    if (user != null) {
      cmd.add("--dest-creds=" + user + ":" + password);
    }
    cmd.add("oci-archive:" + ociArchive);
    cmd.add("docker://" + image);
    run(cmd, Duration.ofMinutes(5));
    return image;
  }

  public Path dir() {
    return dir;
  }

  @Override
  public void close() {
    process.close();
  }

  private static Path kedgeHome() {
    return Path.of(System.getProperty("kedge.home", "..")).toAbsolutePath().normalize();
  }

  private static void run(List<String> cmd, Duration limit) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(cmd + " timed out");
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            cmd + " failed: " + new String(out, StandardCharsets.UTF_8).strip());
      }
    } catch (IOException e) {
      throw new IllegalStateException(cmd + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
