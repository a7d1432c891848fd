package io.kedge.edge;

import io.kedge.edge.hub.EdgeHub;
import io.kedge.edge.node.NodeFacts;
import io.kedge.edge.node.NodeLifecycle;
import io.kedge.protocol.config.EdgeCoreConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * edgecore's components, built from one {@link EdgeCoreConfig} and wired by constructor: EdgeHub
 * (the cloud link), the MetaManager slot, and the node lifecycle. {@link #start()} starts them in
 * order, {@link #close()} stops them in reverse.
 */
public final class EdgeCore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EdgeCore.class);
  private static final Pattern DNS1123_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** Something with a start and a stop, named for the log. */
  public record Part(String name, Runnable start, AutoCloseable stop) {}

  private final EdgeCoreConfig config;
  private final String node;
  private final EdgeHub hub;
  private final List<Part> parts = new ArrayList<>();
  private final List<Part> running = new ArrayList<>();

  public EdgeCore(EdgeCoreConfig config) {
    this.config = config;
    this.node = nodeName(config);
    this.hub = new EdgeHub(config.modules().edgeHub(), node);
    addMetaManager();
    if (config.modules().edgeHub().enable()) {
      parts.add(new Part("edgehub", hub::start, hub));
    }
    if (config.modules().edged().enable()) {
      var edged = config.modules().edged();
      NodeLifecycle lifecycle =
          new NodeLifecycle(
              hub,
              node,
              edged,
              Duration.ofSeconds(Math.max(1, config.modules().metaManager().remoteQueryTimeout())),
              () -> hub.localAddress().map(a -> a.getAddress().getHostAddress()),
              NodeFacts.probe(edged.maxPods(), edged.runtime(), Path.of(edged.rootDirectory())),
              Clock.systemUTC());
      parts.add(new Part("node", lifecycle::start, lifecycle));
    }
  }

  /**
   * The slot for the edge store, MetaManager and MetaServer (when {@code modules.metaManager} is
   * enabled): build them here from {@link #config}, give them {@link #hub} as their {@code
   * CloudLink}, register the MetaManager with {@code hub.setDownstreamHandler(...)}, and add their
   * parts with {@code parts.add(...)} so that they start before the hub connects. Until then
   * cloud→edge messages are not acknowledged, and the cloud keeps them for later.
   */
  private void addMetaManager() {}

  public String node() {
    return node;
  }

  public EdgeHub hub() {
    return hub;
  }

  public void start() {
    LOG.info("edgecore starting for node {}", node);
    for (Part p : parts) {
      p.start().run();
      running.add(p);
    }
  }

  @Override
  public void close() {
    for (int i = running.size() - 1; i >= 0; i--) {
      Part p = running.get(i);
      try {
        p.stop().close();
      } catch (Exception e) {
        LOG.warn("stopping {} failed: {}", p.name(), e.toString());
      }
    }
    running.clear();
    hub.close(); // idempotent; owns threads even when it was never started
  }

  /** {@code modules.edged.hostnameOverride}, else this host's name, lower-cased. */
  static String nodeName(EdgeCoreConfig config) {
    String name = config.nodeName() == null ? "" : config.nodeName().strip();
    if (name.isEmpty()) {
      name = hostname().toLowerCase(Locale.ROOT);
    }
    if (name.length() > 253 || !DNS1123_SUBDOMAIN.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "node name '"
              + name
              + "' is not a valid Kubernetes node name (lower-case letters, digits, '-' and '.');"
              + " set modules.edged.hostnameOverride");
    }
    return name;
  }

  private static String hostname() {
    for (Path p : List.of(Path.of("/proc/sys/kernel/hostname"), Path.of("/etc/hostname"))) {
      try {
        String s = Files.readString(p).strip();
        if (!s.isEmpty()) {
          return s;
        }
      } catch (IOException e) {
        // try the next source
      }
    }
    return Optional.ofNullable(System.getenv("HOSTNAME"))
        .filter(s -> !s.isBlank())
        .orElseGet(
            () -> {
              try {
                return InetAddress.getLocalHost().getHostName();
              } catch (IOException e) {
                return "";
              }
            });
  }
}
