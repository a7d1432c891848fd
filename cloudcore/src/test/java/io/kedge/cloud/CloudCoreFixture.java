package io.kedge.cloud;

import io.kedge.controlplane.ControlPlane;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.testkit.CloudCoreProcess;
import io.kedge.testkit.KedgeManifests;
import io.kedge.testkit.edge.EdgeIdentity;
import io.kedge.testkit.edge.SimulatedEdge;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** An in-process cloudcore on free loopback ports, as ServiceAccount kubeedge/cloudcore. */
public final class CloudCoreFixture implements AutoCloseable {
  public final CloudCore core;
  private final List<SimulatedEdge> edges = new ArrayList<>();

  public CloudCoreFixture(ControlPlane plane, Path dir, String... sets) {
    Path kc =
        KedgeManifests.cloudcoreKubeconfig(
            plane, Path.of(System.getProperty("kedge.home")), dir.resolve("cloudcore.kubeconfig"));
    List<String> all = new ArrayList<>(List.of(config(dir, kc)));
    all.addAll(List.of(sets));
    core = CloudCore.start(CloudCoreConfig.load(null, all).config());
  }

  /** Settings for a test cloudcore: loopback, free ports, files under {@code dir}. */
  public static String[] config(Path dir, Path kubeconfig) {
    return CloudCoreProcess.testSettings(dir, kubeconfig);
  }

  public URI hubUri() {
    return URI.create("wss://127.0.0.1:" + core.hub().webSocketAddress().getPort());
  }

  public EdgeIdentity identity(String node) {
    return EdgeIdentity.issue(core.tls().ca(), node);
  }

  public SimulatedEdge connect(String node) {
    SimulatedEdge e = SimulatedEdge.connect(hubUri(), identity(node));
    synchronized (edges) {
      edges.add(e);
    }
    return e;
  }

  @Override
  public void close() {
    synchronized (edges) {
      edges.forEach(SimulatedEdge::closeAbruptly);
    }
    core.close();
  }
}
