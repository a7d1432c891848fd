package io.kedge.cloud.kube;

import io.fabric8.kubernetes.client.Config;
import io.kedge.controlplane.ControlPlane;
import io.kedge.controlplane.ControlPlaneOptions;
import io.kedge.testkit.KedgeManifests;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** cloudcore's own clients in tests: ServiceAccount kubeedge/cloudcore with the shipped RBAC. */
public final class CloudcoreIdentity {
  private CloudcoreIdentity() {}

  public static KubeClients clients(ControlPlane plane) {
    try {
      Path dir = Files.createTempDirectory("kedge-cloudcore-");
      Path home = ControlPlaneOptions.kedgeHomeFromEnvironment();
      Path kc =
          KedgeManifests.cloudcoreKubeconfig(plane, home, dir.resolve("cloudcore.kubeconfig"));
      return KubeClients.of(Config.fromKubeconfig(null, Files.readString(kc), kc.toString()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
