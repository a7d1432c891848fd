package io.kedge.edge.store;

import io.kedge.protocol.Json;
import io.kedge.protocol.selector.SelectableFields;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * The resource types the edge knows: kind, plural, scope and verbs per group/version, learned from
 * the cluster's discovery documents ({@code APIResourceList} of {@code /api/v1} and {@code
 * /apis/<g>/<v>}) and kept in the store for offline use. Until a group/version has been learned, a
 * built-in table of common types stands in for it.
 */
public final class ResourceCatalog {
  private static final Logger LOG = LoggerFactory.getLogger(ResourceCatalog.class);
  static final String BLOB_PREFIX = "apiresources/";

  /** One resource type. {@code subresources} are the names after the slash ({@code status}). */
  public record ApiResource(
      Gvr gvr, String kind, boolean namespaced, List<String> verbs, Set<String> subresources) {
    public String apiVersion() {
      return gvr.apiVersion();
    }

    public boolean supports(String verb) {
      return verbs.isEmpty() || verbs.contains(verb);
    }

    /**
     * Whether the apiserver serves this type from a CustomResourceDefinition (any group it does not
     * build in): it writes such lists as they are stored, each item with its {@code kind} and
     * {@code apiVersion} and the list's metadata always with a {@code continue}, where the items of
     * a built-in type's list carry no type.
     */
    public boolean custom() {
      return !SelectableFields.builtInGroup(gvr.group());
    }
  }

  private record GroupVersion(Map<String, ApiResource> byResource, boolean learned) {}

  private static final List<String> ALL_VERBS =
      List.of("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch");

  private final ObjectStore store;
  private final Map<String, GroupVersion> groupVersions = new ConcurrentHashMap<>();

  public ResourceCatalog(ObjectStore store) {
    this.store = store;
    builtins();
    if (store != null) {
      for (Blob b : store.blobs(BLOB_PREFIX)) {
        String gv = b.key().substring(BLOB_PREFIX.length());
        try {
          install(gv, Json.parse(b.value()));
        } catch (RuntimeException e) {
          LOG.warn("catalog: ignoring unreadable stored document for {}: {}", gv, e.toString());
        }
      }
    }
  }

  /**
   * Learns a group/version from its discovery document and keeps it for offline use. Returns false
   * when the document is not an {@code APIResourceList}.
   */
  public boolean learn(String groupVersion, byte[] apiResourceList) {
    JsonNode doc;
    try {
      doc = Json.parse(apiResourceList);
    } catch (RuntimeException e) {
      return false;
    }
    if (!install(groupVersion, doc)) {
      return false;
    }
    if (store != null) {
      store.putBlob(BLOB_PREFIX + groupVersion, "application/json", apiResourceList);
    }
    return true;
  }

  /** Whether the cluster's own document for {@code groupVersion} is known. */
  public boolean learned(String groupVersion) {
    GroupVersion g = groupVersions.get(groupVersion);
    return g != null && g.learned();
  }

  public Optional<ApiResource> resource(String group, String version, String resource) {
    GroupVersion g = groupVersions.get(gv(group, version));
    return g == null ? Optional.empty() : Optional.ofNullable(g.byResource().get(resource));
  }

  public Optional<ApiResource> resource(Gvr gvr) {
    return resource(gvr.group(), gvr.version(), gvr.resource());
  }

  public Optional<ApiResource> byKind(String apiVersion, String kind) {
    GroupVersion g = groupVersions.get(apiVersion);
    if (g == null) {
      return Optional.empty();
    }
    for (ApiResource r : g.byResource().values()) {
      if (r.kind().equals(kind)) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }

  /**
   * The type of an object given its apiVersion and kind; a guessed plural when the catalog does not
   * know it (the object is still stored, under the guess).
   */
  public ApiResource resolve(String apiVersion, String kind, boolean namespaced) {
    return byKind(apiVersion, kind)
        .orElseGet(
            () -> {
              int slash = apiVersion.indexOf('/');
              String group = slash < 0 ? "" : apiVersion.substring(0, slash);
              String version = slash < 0 ? apiVersion : apiVersion.substring(slash + 1);
              return new ApiResource(
                  new Gvr(group, version, plural(kind)), kind, namespaced, ALL_VERBS, Set.of());
            });
  }

  /** English plural of a kind, as Kubernetes' REST mapper guesses it. */
  public static String plural(String kind) {
    String k = kind.toLowerCase(Locale.ROOT);
    if (k.isEmpty()) {
      return k;
    }
    if (k.endsWith("s")
        || k.endsWith("x")
        || k.endsWith("z")
        || k.endsWith("ch")
        || k.endsWith("sh")) {
      return k + "es";
    }
    if (k.endsWith("y") && k.length() > 1 && "aeiou".indexOf(k.charAt(k.length() - 2)) < 0) {
      return k.substring(0, k.length() - 1) + "ies";
    }
    return k + "s";
  }

  private static String gv(String group, String version) {
    return group == null || group.isEmpty() ? version : group + "/" + version;
  }

  /**
   * Takes {@code apiResourceList} as the document of {@code groupVersion} for now, without keeping
   * it and without counting it as learned: the cloud could not answer, and a later answer wins.
   */
  public void assume(String groupVersion, JsonNode apiResourceList) {
    GroupVersion g = groupVersions.get(groupVersion);
    if (g == null || !g.learned()) {
      install(groupVersion, apiResourceList, false);
    }
  }

  /** Every group/version known, with its resources (learned, assumed or built in). */
  public Map<String, List<ApiResource>> groupVersions() {
    Map<String, List<ApiResource>> out = new java.util.TreeMap<>();
    groupVersions.forEach((gv, g) -> out.put(gv, List.copyOf(g.byResource().values())));
    return out;
  }

  private boolean install(String groupVersion, JsonNode doc) {
    return install(groupVersion, doc, true);
  }

  private boolean install(String groupVersion, JsonNode doc, boolean learned) {
    if (!doc.isObject() || !doc.path("resources").isArray()) {
      return false;
    }
    int slash = groupVersion.indexOf('/');
    String group = slash < 0 ? "" : groupVersion.substring(0, slash);
    String version = slash < 0 ? groupVersion : groupVersion.substring(slash + 1);
    Map<String, ApiResource> byResource = new HashMap<>();
    Map<String, List<String>> subs = new HashMap<>();
    for (JsonNode r : doc.path("resources")) {
      String name = r.path("name").asString("");
      if (name.isEmpty()) {
        continue;
      }
      int s = name.indexOf('/');
      if (s >= 0) {
        subs.computeIfAbsent(name.substring(0, s), k -> new ArrayList<>())
            .add(name.substring(s + 1));
        continue;
      }
      List<String> verbs = new ArrayList<>();
      for (JsonNode v : r.path("verbs")) {
        verbs.add(v.asString(""));
      }
      byResource.put(
          name,
          new ApiResource(
              new Gvr(group, version, name),
              r.path("kind").asString(""),
              r.path("namespaced").asBoolean(false),
              List.copyOf(verbs),
              Set.of()));
    }
    for (Map.Entry<String, List<String>> e : subs.entrySet()) {
      ApiResource r = byResource.get(e.getKey());
      if (r != null) {
        byResource.put(
            e.getKey(),
            new ApiResource(
                r.gvr(), r.kind(), r.namespaced(), r.verbs(), Set.copyOf(e.getValue())));
      }
    }
    groupVersions.put(groupVersion, new GroupVersion(Map.copyOf(byResource), learned));
    return true;
  }

  private void builtin(String groupVersion, String spec) {
    int slash = groupVersion.indexOf('/');
    String group = slash < 0 ? "" : groupVersion.substring(0, slash);
    String version = slash < 0 ? groupVersion : groupVersion.substring(slash + 1);
    Map<String, ApiResource> m = new HashMap<>();
    // spec: "resource:Kind:n|c[:sub,sub]" entries separated by spaces
    for (String e : spec.trim().split("\\s+")) {
      String[] p = e.split(":", -1);
      Set<String> subs =
          p.length < 4 ? Set.of("status") : p[3].isEmpty() ? Set.of() : Set.of(p[3].split(","));
      m.put(
          p[0],
          new ApiResource(new Gvr(group, version, p[0]), p[1], p[2].equals("n"), ALL_VERBS, subs));
    }
    groupVersions.put(groupVersion, new GroupVersion(Map.copyOf(m), false));
  }

  private void builtins() {
    builtin(
        "v1",
        "pods:Pod:n:status,log,exec,attach,binding,eviction,portforward,proxy,ephemeralcontainers"
            + " configmaps:ConfigMap:n: secrets:Secret:n: services:Service:n:status,proxy"
            + " endpoints:Endpoints:n: namespaces:Namespace:c:status,finalize nodes:Node:c:status,proxy"
            + " serviceaccounts:ServiceAccount:n:token events:Event:n:"
            + " persistentvolumes:PersistentVolume:c persistentvolumeclaims:PersistentVolumeClaim:n"
            + " limitranges:LimitRange:n: resourcequotas:ResourceQuota:n"
            + " replicationcontrollers:ReplicationController:n:status,scale"
            + " podtemplates:PodTemplate:n:");
    builtin("coordination.k8s.io/v1", "leases:Lease:n:");
    builtin("discovery.k8s.io/v1beta1", "endpointslices:EndpointSlice:n:");
    builtin(
        "apps/v1",
        "deployments:Deployment:n:status,scale replicasets:ReplicaSet:n:status,scale"
            + " statefulsets:StatefulSet:n:status,scale daemonsets:DaemonSet:n"
            + " controllerrevisions:ControllerRevision:n:");
    builtin("batch/v1", "jobs:Job:n");
    builtin("batch/v1beta1", "cronjobs:CronJob:n");
    builtin(
        "rbac.authorization.k8s.io/v1",
        "roles:Role:n: rolebindings:RoleBinding:n: clusterroles:ClusterRole:c:"
            + " clusterrolebindings:ClusterRoleBinding:c:");
    builtin("networking.k8s.io/v1", "networkpolicies:NetworkPolicy:n: ingresses:Ingress:n");
    builtin(
        "storage.k8s.io/v1", "storageclasses:StorageClass:c: volumeattachments:VolumeAttachment:c");
    builtin("events.k8s.io/v1", "events:Event:n:");
    builtin(
        "certificates.k8s.io/v1",
        "certificatesigningrequests:CertificateSigningRequest:c:status,approval");
    builtin("apiextensions.k8s.io/v1", "customresourcedefinitions:CustomResourceDefinition:c");
    builtin("scheduling.k8s.io/v1", "priorityclasses:PriorityClass:c:");
    builtin("autoscaling/v1", "horizontalpodautoscalers:HorizontalPodAutoscaler:n");
    builtin("policy/v1beta1", "poddisruptionbudgets:PodDisruptionBudget:n");
    builtin("policy.kubeedge.io/v1alpha1", "serviceaccountaccesses:ServiceAccountAccess:n");
    builtin(
        "reliablesyncs.kubeedge.io/v1alpha1",
        "objectsyncs:ObjectSync:n clusterobjectsyncs:ClusterObjectSync:c");
  }
}
