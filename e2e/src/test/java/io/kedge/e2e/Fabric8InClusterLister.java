package io.kedge.e2e;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.util.List;

/**
 * The program of an edge pod in {@link EdgePodIT}: fabric8 with its default auto-configuration (no
 * explicit config, so {@code KUBERNETES_SERVICE_HOST}/{@code _PORT} and the service-account files)
 * lists the ConfigMaps of the pod's namespace.
 */
public final class Fabric8InClusterLister {
  private Fabric8InClusterLister() {}

  public static void main(String[] args) {
    try (KubernetesClient client = new KubernetesClientBuilder().build()) {
      System.out.println("master " + client.getConfiguration().getMasterUrl());
      String ns = client.getNamespace();
      List<String> names =
          client.configMaps().inNamespace(ns).list().getItems().stream()
              .map(c -> c.getMetadata().getName())
              .sorted()
              .toList();
      System.out.println("namespace " + ns + " configmaps " + names);
    }
  }
}
