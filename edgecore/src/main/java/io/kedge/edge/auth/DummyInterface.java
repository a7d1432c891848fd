package io.kedge.edge.auth;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts MetaServer's {@code dummyServer} address (KubeEdge: {@code 169.254.30.10}) on this host, as
 * KubeEdge does, so that pods reach MetaServer at a fixed address: on a link {@code edge-dummy0} of
 * type dummy; where the kernel has no dummy links, on a TUN device of that name; failing that, on
 * {@code lo}. Loopback addresses ({@code 127.0.0.0/8}) need nothing. Uses the {@code ip} command
 * (iproute2); the outcome, or why it failed, is returned for the log and {@code /readyz}.
 */
public final class DummyInterface {
  private static final Logger LOG = LoggerFactory.getLogger(DummyInterface.class);

  public static final String LINK = "edge-dummy0";

  /** How the address was made available, or why not. */
  public record Outcome(boolean ok, String how) {}

  private final List<String> prefix;

  /**
   * @param commandPrefix put before every {@code ip} command (e.g. {@code ip netns exec NS} in
   *     tests); empty normally
   */
  public DummyInterface(List<String> commandPrefix) {
    this.prefix = List.copyOf(commandPrefix);
  }

  public DummyInterface() {
    this(List.of());
  }

  public Outcome ensure(String ip) {
    InetAddress addr;
    if (ip == null || !ip.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
      return new Outcome(false, "dummyServer host " + ip + " is not an IP address");
    }
    try {
      // a literal: no name lookup happens
      addr = InetAddress.getByName(ip);
    } catch (UnknownHostException e) {
      return new Outcome(false, "dummyServer host " + ip + " is not an IP address");
    }
    if (addr.isLoopbackAddress()) {
      return new Outcome(true, ip + " is a loopback address: nothing to set up");
    }
    String cidr = addr.getHostAddress() + "/32";
    if (hasAddress(cidr)) {
      return new Outcome(true, ip + " is already on this host");
    }
    List<String> tried = new ArrayList<>();
    for (List<String> create :
        List.of(
            List.of("ip", "link", "add", LINK, "type", "dummy"),
            List.of("ip", "tuntap", "add", "dev", LINK, "mode", "tun"))) {
      Result r = run(create);
      if (r.ok()
          || r.output().contains("File exists")
          || r.output().contains("Device or resource busy")) {
        Result a = run(List.of("ip", "addr", "add", cidr, "dev", LINK));
        run(List.of("ip", "link", "set", LINK, "up"));
        if (a.ok() || a.output().contains("File exists")) {
          String kind = create.contains("dummy") ? "dummy link" : "TUN device";
          LOG.info("MetaServer address {} on {} {}", cidr, kind, LINK);
          return new Outcome(true, cidr + " on " + kind + " " + LINK);
        }
        tried.add(String.join(" ", create.subList(0, 3)) + ": " + a.output());
      } else {
        tried.add(String.join(" ", create.subList(0, 3)) + ": " + r.output());
      }
    }
    Result lo = run(List.of("ip", "addr", "add", cidr, "dev", "lo"));
    if (lo.ok() || lo.output().contains("File exists")) {
      LOG.info("MetaServer address {} on lo (no dummy or TUN devices here)", cidr);
      return new Outcome(true, cidr + " on lo");
    }
    tried.add("ip addr add " + cidr + " dev lo: " + lo.output());
    return new Outcome(
        false,
        "cannot put the MetaServer address "
            + cidr
            + " on this host (edgecore needs CAP_NET_ADMIN, and iproute2): "
            + String.join("; ", tried));
  }

  private boolean hasAddress(String cidr) {
    Result r = run(List.of("ip", "-o", "addr", "show"));
    return r.ok() && r.output().contains(" " + cidr + " ");
  }

  private record Result(boolean ok, String output) {}

  private Result run(List<String> cmd) {
    List<String> full = new ArrayList<>(prefix);
    full.addAll(cmd);
    try {
      Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(false, "timed out");
      }
      return new Result(p.exitValue() == 0, out);
    } catch (IOException e) {
      return new Result(false, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(false, "interrupted");
    }
  }
}
