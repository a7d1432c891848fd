package io.kedge.testkit;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kedge.controlplane.ControlPlane;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Applies the project's shipped manifests ({@code deploy/crds/*.yaml}, {@code deploy/rbac/*.yaml})
 * to a cluster, as keadm does, and hands out cloudcore's ServiceAccount kubeconfig. Tests run
 * cloudcore with exactly these rights.
 */
public final class KedgeManifests {
  private KedgeManifests() {}

  public static final String NAMESPACE = "kubeedge";
  public static final String SERVICE_ACCOUNT = "cloudcore";

  /** Applies every CRD, then every RBAC manifest, under {@code kedgeHome/deploy}. */
  public static void apply(KubernetesClient admin, Path kedgeHome) {
    Path deploy = kedgeHome.resolve("deploy");
    for (Path f : yamlFiles(deploy.resolve("crds"))) {
      List<HasMetadata> items = load(admin, f);
      admin.resourceList(items).serverSideApply();
      for (HasMetadata m : items) {
        if (m instanceof CustomResourceDefinition crd) {
          admin
              .apiextensions()
              .v1()
              .customResourceDefinitions()
              .withName(crd.getMetadata().getName())
              .waitUntilCondition(
                  c ->
                      c != null
                          && c.getStatus() != null
                          && c.getStatus().getConditions() != null
                          && c.getStatus().getConditions().stream()
                              .anyMatch(
                                  x ->
                                      "Established".equals(x.getType())
                                          && "True".equals(x.getStatus())),
                  Duration.ofSeconds(60).toMillis(),
                  TimeUnit.MILLISECONDS);
        }
      }
    }
    for (Path f : yamlFiles(deploy.resolve("rbac"))) {
      admin.resourceList(load(admin, f)).serverSideApply();
    }
  }

  /**
   * Applies the manifests and writes a kubeconfig for {@code kubeedge/cloudcore} to {@code file}.
   */
  public static Path cloudcoreKubeconfig(ControlPlane plane, Path kedgeHome, Path file) {
    apply(plane.adminClient(), kedgeHome);
    return plane.serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT, file);
  }

  private static List<HasMetadata> load(KubernetesClient admin, Path f) {
    try (InputStream in = Files.newInputStream(f)) {
      return admin.load(in).items();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f, e);
    }
  }

  private static List<Path> yamlFiles(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
