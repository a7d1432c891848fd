package io.kedge.cloud.cloudstream;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * KubeEdge's iptables manager (mode {@code internal}): on the host the apiserver runs on, nat chain
 * {@code TUNNEL-PORT}, jumped to from {@code OUTPUT} and {@code PREROUTING}, holds for every
 * cloudcore of the tunnel-port record {@code -p tcp --dport <its port> -j DNAT --to <its
 * IP>:<streamPort>}: the apiserver's connection to a node's kubelet port ends at the stream server
 * of the cloudcore holding the node. Rules are kept every 10 s from the record. Unlike KubeEdge the
 * chain is not flushed at start (several clusters' cloudcores may share one host); rules for
 * cloudcores that left the record are removed. {@code keadm reset} removes the chain.
 */
public final class TunnelPortRules implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TunnelPortRules.class);
  static final String CHAIN = "TUNNEL-PORT";
  static final String JUMP_COMMENT = "kubeedge tunnel port";

  private final Supplier<Map<String, Integer>> record;
  private final int streamPort;
  private final Set<List<String>> ours = new HashSet<>();
  private String lastError = "";

  TunnelPortRules(Supplier<Map<String, Integer>> record, int streamPort) {
    this.record = record;
    this.streamPort = streamPort;
  }

  /** The rule for one cloudcore: the arguments after {@code -A TUNNEL-PORT}. */
  static List<String> rule(String ip, int port, int streamPort) {
    return List.of(
        "-p",
        "tcp",
        "-j",
        "DNAT",
        "--dport",
        Integer.toString(port),
        "--to",
        ip + ":" + streamPort);
  }

  static List<String> jump() {
    return List.of("-m", "comment", "--comment", JUMP_COMMENT, "-j", CHAIN);
  }

  /** One round: the chain, its jumps and the record's rules exist; departed entries go. */
  synchronized void reconcile() {
    try {
      if (!run(List.of("-t", "nat", "-S", CHAIN))) {
        run(List.of("-t", "nat", "-N", CHAIN));
      }
      for (String from : List.of("OUTPUT", "PREROUTING")) {
        ensure(from, jump());
      }
      Set<List<String>> wanted = new HashSet<>();
      for (Map.Entry<String, Integer> e : record.get().entrySet()) {
        List<String> r = rule(e.getKey(), e.getValue(), streamPort);
        wanted.add(r);
        if (ensure(CHAIN, r)) {
          LOG.info("cloudstream: DNAT {} -> {}:{} added", e.getValue(), e.getKey(), streamPort);
        }
      }
      for (List<String> r : new ArrayList<>(ours)) {
        if (!wanted.contains(r)) {
          delete(CHAIN, r);
        }
      }
      ours.clear();
      ours.addAll(wanted);
      lastError = "";
    } catch (RuntimeException e) {
      if (!e.getMessage().equals(lastError)) {
        LOG.warn("cloudstream: cannot keep the tunnel-port DNAT rules: {}", e.getMessage());
        lastError = e.getMessage();
      }
    }
  }

  /** Appends the rule unless it exists; true when it was added. */
  private static boolean ensure(String chain, List<String> rule) {
    List<String> check = new ArrayList<>(List.of("-t", "nat", "-C", chain));
    check.addAll(rule);
    if (run(check)) {
      return false;
    }
    List<String> add = new ArrayList<>(List.of("-t", "nat", "-A", chain));
    add.addAll(rule);
    if (!run(add)) {
      throw new IllegalStateException("iptables " + String.join(" ", add) + " failed");
    }
    return true;
  }

  /**
   * Removes the DNAT rules of the cloudcores in {@code record} (IP to tunnel port), and KubeEdge's
   * chain and its jumps once nothing else is in it ({@code keadm reset}); returns the rules
   * removed.
   */
  public static List<String> removeAll(Map<String, Integer> record) {
    List<String> removed = new ArrayList<>();
    String rules = output(List.of("-t", "nat", "-S", CHAIN));
    for (String line : rules.lines().toList()) {
      if (!line.startsWith("-A " + CHAIN + " ")) {
        continue;
      }
      for (Map.Entry<String, Integer> e : record.entrySet()) {
        if (line.contains("--dport " + e.getValue() + " ")
            && line.contains("--to-destination " + e.getKey() + ":")) {
          List<String> args = new ArrayList<>(List.of("-t", "nat", "-D"));
          args.addAll(List.of(line.substring(3).split(" ")));
          if (run(args)) {
            removed.add(line);
          }
        }
      }
    }
    if (output(List.of("-t", "nat", "-S", CHAIN)).lines().noneMatch(l -> l.startsWith("-A "))) {
      for (String from : List.of("OUTPUT", "PREROUTING")) {
        delete(from, jump());
      }
      run(List.of("-t", "nat", "-X", CHAIN));
    }
    return removed;
  }

  /** The record of the cluster behind {@code client} (for {@code keadm reset}). */
  public static Map<String, Integer> record(io.fabric8.kubernetes.client.KubernetesClient client) {
    return TunnelPorts.read(client);
  }

  private static String output(List<String> args) {
    List<String> cmd = new ArrayList<>(List.of("iptables", "-w", "5"));
    cmd.addAll(args);
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(30, TimeUnit.SECONDS);
      return p.exitValue() == 0 ? out : "";
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  static void delete(String chain, List<String> rule) {
    List<String> del = new ArrayList<>(List.of("-t", "nat", "-D", chain));
    del.addAll(rule);
    while (run(del)) {
      // every copy
    }
  }

  private static boolean run(List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add("iptables");
    cmd.add("-w");
    cmd.add("5");
    cmd.addAll(args);
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", cmd) + " timed out");
      }
      if (p.exitValue() != 0) {
        LOG.debug("{}: {}", String.join(" ", cmd), out.strip());
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run iptables: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() {
    // Rules stay while cloudcore is down, as KubeEdge's: the route is the cluster's, and another
    // cloudcore on this host may use it. keadm reset removes them.
  }
}
