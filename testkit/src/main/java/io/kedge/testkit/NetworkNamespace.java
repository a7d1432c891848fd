package io.kedge.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A network namespace of the test's own ({@code ip netns}), joined to the host by a veth pair with
 * a /30 of its own, so that an edge node with its containerd, CNI bridge and MetaServer's dummy
 * address lives apart from the host's (where other edges, or another test run, may hold {@code
 * 169.254.30.10}) and still reaches the cloud at {@link #hostAddress()}. {@link #close()} deletes
 * it; the processes started in it must be gone by then.
 */
public final class NetworkNamespace implements AutoCloseable {
  private final String name;
  private final String hostLink;
  private final String hostAddress;
  private final String innerAddress;

  private NetworkNamespace(String name, String hostLink, String hostAddress, String inner) {
    this.name = name;
    this.hostLink = hostLink;
    this.hostAddress = hostAddress;
    this.innerAddress = inner;
  }

  /** Creates a namespace with {@code lo} up and a veth to the host. */
  public static NetworkNamespace create() {
    SecureRandom r = new SecureRandom();
    String tag = Integer.toString(r.nextInt(1 << 24), 36);
    String name = "kedge-" + tag;
    String hostLink = "kv" + tag;
    String used = run(List.of("ip", "-o", "addr", "show"), true);
    String host = null;
    String inner = null;
    for (int i = 0; i < 100 && host == null; i++) {
      int b = 200 + r.nextInt(50);
      int c = r.nextInt(256);
      int d = r.nextInt(64) * 4;
      String prefix = "10." + b + "." + c + ".";
      if (!used.contains(" " + prefix)) {
        host = prefix + (d + 1);
        inner = prefix + (d + 2);
      }
    }
    if (host == null) {
      throw new IllegalStateException("no free 10.x.y.z/30 for a test network namespace");
    }
    NetworkNamespace ns = new NetworkNamespace(name, hostLink, host, inner);
    try {
      run(List.of("ip", "netns", "add", name), false);
      ns.exec(List.of("ip", "link", "set", "lo", "up"));
      run(
          List.of(
              "ip", "link", "add", hostLink, "type", "veth", "peer", "name", "eth0", "netns", name),
          false);
      run(List.of("ip", "addr", "add", host + "/30", "dev", hostLink), false);
      run(List.of("ip", "link", "set", hostLink, "up"), false);
      ns.exec(List.of("ip", "addr", "add", inner + "/30", "dev", "eth0"));
      ns.exec(List.of("ip", "link", "set", "eth0", "up"));
      return ns;
    } catch (RuntimeException e) {
      ns.close();
      throw e;
    }
  }

  public String name() {
    return name;
  }

  /** The host's end of the veth: what processes in the namespace reach the host at. */
  public String hostAddress() {
    return hostAddress;
  }

  /** The namespace's end of the veth. */
  public String innerAddress() {
    return innerAddress;
  }

  /**
   * Put before a command to run it in this namespace: only the network namespace changes (not the
   * mount namespace, as {@code ip netns exec} would), so files and mounts stay shared.
   */
  public List<String> prefix() {
    return List.of("nsenter", "--net=/run/netns/" + name, "--");
  }

  /** Runs {@code command} in the namespace; returns its output; fails on a non-zero exit. */
  public String exec(List<String> command) {
    List<String> cmd = new ArrayList<>(prefix());
    cmd.addAll(command);
    return run(cmd, false);
  }

  @Override
  public void close() {
    run(List.of("ip", "netns", "del", name), true);
    run(List.of("ip", "link", "del", hostLink), true);
  }

  private static String run(List<String> cmd, boolean tolerant) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(cmd + " timed out");
      }
      if (p.exitValue() != 0 && !tolerant) {
        throw new IllegalStateException(cmd + " failed: " + out.strip());
      }
      return out;
    } catch (IOException e) {
      if (tolerant) {
        return "";
      }
      throw new IllegalStateException(cmd + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
