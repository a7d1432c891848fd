package io.kedge.e2e;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.kedge.protocol.Json;
import io.kedge.testkit.Waits;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** Cluster objects and clients the MetaServer end-to-end tests share. */
final class MetaServerFixture {
  private MetaServerFixture() {}

  static final String GROUP = "e2e.kedge.io";

  /**
   * What edge pods may do through cloudcore in these tests (cloudcore identity, as KubeEdge):
   * aggregated into cloudcore's ClusterRole, as KubeEdge documents it.
   */
  static final String CLOUDCORE_EXTRA =
      "apiVersion: rbac.authorization.k8s.io/v1\n"
          + "kind: ClusterRole\n"
          + "metadata:\n"
          + "  name: e2e-metaserver-extra\n"
          + "  labels: {rbac/aggregate-to-cloudcore: \"true\"}\n"
          + "rules:\n"
          + "- apiGroups: [\"\"]\n"
          + "  resources: [\"configmaps\"]\n"
          + "  verbs: [\"get\", \"list\", \"watch\", \"create\", \"update\", \"patch\", \"delete\", \"deletecollection\"]\n"
          + "- apiGroups: [\"\"]\n"
          + "  resources: [\"namespaces\"]\n"
          + "  verbs: [\"get\", \"list\", \"watch\"]\n"
          + "- apiGroups: [\""
          + GROUP
          + "\"]\n"
          + "  resources: [\"widgets\"]\n"
          + "  verbs: [\"get\", \"list\", \"watch\", \"create\", \"update\", \"patch\", \"delete\", \"deletecollection\"]\n"
          + "- apiGroups: [\"authorization.k8s.io\"]\n"
          + "  resources: [\"selfsubjectaccessreviews\"]\n"
          + "  verbs: [\"create\"]\n";

  static final String WIDGET_CRD =
      "apiVersion: apiextensions.k8s.io/v1\n"
          + "kind: CustomResourceDefinition\n"
          + "metadata:\n"
          + "  name: widgets."
          + GROUP
          + "\n"
          + "spec:\n"
          + "  group: "
          + GROUP
          + "\n"
          + "  scope: Namespaced\n"
          + "  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}\n"
          + "  versions:\n"
          + "  - name: v1\n"
          + "    served: true\n"
          + "    storage: true\n"
          + "    schema:\n"
          + "      openAPIV3Schema:\n"
          + "        type: object\n"
          + "        x-kubernetes-preserve-unknown-fields: true\n";

  /** Server-side applies the objects of a YAML stream. */
  static void apply(KubernetesClient admin, String yaml) {
    List<HasMetadata> items =
        admin.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
    admin.resourceList(items).serverSideApply();
  }

  /** Applies the CRD and the extra rights once, and waits until cloudcore has them. */
  static synchronized void prepare(KubernetesClient admin, InProcessKedge kedge) {
    apply(admin, CLOUDCORE_EXTRA + "---\n" + WIDGET_CRD);
    Waits.until(
        "widget CRD established",
        Duration.ofSeconds(60),
        () ->
            admin
                .apiextensions()
                .v1()
                .customResourceDefinitions()
                .withName("widgets." + GROUP)
                .get()
                .getStatus()
                .getConditions()
                .stream()
                .anyMatch(c -> c.getType().equals("Established") && c.getStatus().equals("True")));
    Waits.until(
        "cloudcore may manage configmaps and widgets",
        Duration.ofSeconds(60),
        () -> {
          kedge.kube().own().configMaps().inNamespace("default").list();
          kedge
              .kube()
              .own()
              .genericKubernetesResources(GROUP + "/v1", "Widget")
              .inNamespace("default")
              .list();
          return true;
        });
  }

  static String namespace(KubernetesClient admin, String prefix) {
    String ns = prefix + "-" + UUID.randomUUID().toString().substring(0, 6);
    admin
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    return ns;
  }

  /** A fabric8 client talking to MetaServer as a pod would (no credentials: the gate is off). */
  static KubernetesClient edgeClient(InProcessKedge kedge) {
    Config cfg =
        new ConfigBuilder(Config.empty())
            .withMasterUrl(kedge.metaServerUrl())
            .withRequestTimeout(30_000)
            .withWatchReconnectInterval(500)
            .withRequestRetryBackoffLimit(1)
            .build();
    return new KubernetesClientBuilder().withConfig(cfg).build();
  }

  /** An object's JSON without what legitimately differs between two reads of it. */
  static JsonNode normalized(JsonNode o) {
    JsonNode c = o.deepCopy();
    if (c instanceof ObjectNode n) {
      if (n.path("metadata") instanceof ObjectNode m && n.has("items")) {
        m.remove("resourceVersion"); // of a list: when it was read
        m.remove("selfLink");
      }
      for (JsonNode i : n.path("items")) {
        if (i instanceof ObjectNode io && io.path("metadata") instanceof ObjectNode im) {
          im.remove("selfLink");
        }
      }
    }
    return c;
  }

  static JsonNode json(GenericKubernetesResource r) {
    return Json.parse(io.fabric8.kubernetes.client.utils.Serialization.asJson(r));
  }
}
