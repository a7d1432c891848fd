package io.kedge.edge.metaserver;

import io.kedge.edge.store.ResourceCatalog;
import io.kedge.edge.store.ResourceCatalog.ApiResource;
import io.kedge.protocol.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Discovery answered by the edge itself, for a cloud that cannot answer it (KubeEdge's cloudcore
 * v1.17 rejects {@code /api} and {@code /apis}): the documents a v1.20 kube-apiserver serves for
 * its built-in groups ({@value #RESOURCE}, recorded from the real apiserver and compared with it by
 * {@code BuiltInDiscoveryIT}), plus the group/versions the edge's {@link ResourceCatalog} knows
 * beyond them (custom resources it learned, KubeEdge's own types). Loaded on first use: an edge
 * whose cloud answers discovery never needs it.
 */
final class BuiltInDiscovery {
  static final String RESOURCE = "discovery-v1.20.json";

  private final ResourceCatalog catalog;
  private volatile Map<String, JsonNode> documents;

  BuiltInDiscovery(ResourceCatalog catalog) {
    this.catalog = catalog;
  }

  /** The recorded documents by path ({@code /api}, {@code /apis/apps/v1}, …). */
  Map<String, JsonNode> documents() {
    Map<String, JsonNode> d = documents;
    if (d == null) {
      synchronized (this) {
        d = documents;
        if (d == null) {
          d = load();
          documents = d;
        }
      }
    }
    return d;
  }

  private static Map<String, JsonNode> load() {
    try (InputStream in = BuiltInDiscovery.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing from edgecore's jar");
      }
      JsonNode all = Json.parse(in.readAllBytes());
      Map<String, JsonNode> out = new LinkedHashMap<>();
      for (var e : all.properties()) {
        out.put(e.getKey(), e.getValue());
      }
      return Map.copyOf(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The answer for a discovery path ({@code /api}, {@code /api/<v>}, {@code /apis}, {@code
   * /apis/<g>}, {@code /apis/<g>/<v>}), or empty when the edge knows no such group or version (the
   * apiserver's 404).
   */
  Optional<byte[]> answer(String path) {
    String p =
        path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    Map<String, JsonNode> docs = documents();
    if (p.equals("/apis")) {
      return Optional.of(Json.bytes(groupList(docs)));
    }
    JsonNode recorded = docs.get(p);
    if (recorded != null) {
      return Optional.of(Json.bytes(recorded));
    }
    Map<String, Map<String, List<ApiResource>>> extra = extraGroups(docs);
    String[] parts = p.substring(1).split("/");
    if (parts[0].equals("apis") && parts.length == 2 && extra.containsKey(parts[1])) {
      return Optional.of(Json.bytes(group(parts[1], extra.get(parts[1]).keySet())));
    }
    if (parts[0].equals("apis") && parts.length == 3) {
      List<ApiResource> rs = extra.getOrDefault(parts[1], Map.of()).get(parts[2]);
      if (rs != null) {
        return Optional.of(Json.bytes(resourceList(parts[1] + "/" + parts[2], rs)));
      }
    }
    return Optional.empty();
  }

  /** The recorded {@code APIResourceList} of {@code groupVersion} ({@code v1} or {@code g/v}). */
  Optional<JsonNode> resourceList(String groupVersion) {
    String path = groupVersion.indexOf('/') < 0 ? "/api/" + groupVersion : "/apis/" + groupVersion;
    return Optional.ofNullable(documents().get(path));
  }

  /** The recorded {@code /apis}, with the groups only the catalog knows appended. */
  private ObjectNode groupList(Map<String, JsonNode> docs) {
    ObjectNode list = (ObjectNode) docs.get("/apis").deepCopy();
    ArrayNode groups = (ArrayNode) list.get("groups");
    extraGroups(docs).forEach((g, versions) -> groups.add(group(g, versions.keySet())));
    return list;
  }

  /** Group → version → resources the catalog knows and the recorded documents do not. */
  private Map<String, Map<String, List<ApiResource>>> extraGroups(Map<String, JsonNode> docs) {
    Map<String, Map<String, List<ApiResource>>> out = new TreeMap<>();
    for (Map.Entry<String, List<ApiResource>> e : catalog.groupVersions().entrySet()) {
      String gv = e.getKey();
      int slash = gv.indexOf('/');
      if (slash < 0 || docs.containsKey("/apis/" + gv) || e.getValue().isEmpty()) {
        continue; // the core group, and the built-in groups, are as recorded
      }
      out.computeIfAbsent(gv.substring(0, slash), k -> new TreeMap<>())
          .put(gv.substring(slash + 1), e.getValue());
    }
    return out;
  }

  private static ObjectNode group(String name, Iterable<String> versions) {
    ObjectNode g = Json.object();
    g.put("kind", "APIGroup");
    g.put("apiVersion", "v1");
    g.put("name", name);
    ArrayNode vs = g.putArray("versions");
    List<String> sorted = new ArrayList<>();
    versions.forEach(sorted::add);
    sorted.sort(BuiltInDiscovery::byPriority);
    for (String v : sorted) {
      vs.addObject().put("groupVersion", name + "/" + v).put("version", v);
    }
    g.putObject("preferredVersion")
        .put("groupVersion", name + "/" + sorted.get(0))
        .put("version", sorted.get(0));
    return g;
  }

  private static ObjectNode resourceList(String groupVersion, List<ApiResource> resources) {
    ObjectNode l = Json.object();
    l.put("kind", "APIResourceList");
    l.put("apiVersion", "v1");
    l.put("groupVersion", groupVersion);
    ArrayNode rs = l.putArray("resources");
    List<ApiResource> sorted = new ArrayList<>(resources);
    sorted.sort((a, b) -> a.gvr().resource().compareTo(b.gvr().resource()));
    for (ApiResource r : sorted) {
      rs.add(resource(r.gvr().resource(), r, r.verbs()));
      for (String sub : new java.util.TreeSet<>(r.subresources())) {
        rs.add(resource(r.gvr().resource() + "/" + sub, r, List.of("get", "patch", "update")));
      }
    }
    return l;
  }

  private static ObjectNode resource(String name, ApiResource r, List<String> verbs) {
    ObjectNode o = Json.object();
    o.put("name", name);
    o.put("singularName", "");
    o.put("namespaced", r.namespaced());
    o.put("kind", r.kind());
    ArrayNode v = o.putArray("verbs");
    verbs.forEach(v::add);
    return o;
  }

  /** Kubernetes' version priority: GA before beta before alpha, higher numbers first. */
  static int byPriority(String a, String b) {
    return Integer.compare(rank(b), rank(a));
  }

  private static int rank(String v) {
    var m = java.util.regex.Pattern.compile("v(\\d+)(?:(alpha|beta)(\\d+))?").matcher(v);
    if (!m.matches()) {
      return -1;
    }
    int major = Integer.parseInt(m.group(1));
    int stage = m.group(2) == null ? 3 : m.group(2).equals("beta") ? 2 : 1;
    int minor = m.group(3) == null ? 0 : Integer.parseInt(m.group(3));
    return stage * 1_000_000 + major * 1_000 + minor;
  }
}
