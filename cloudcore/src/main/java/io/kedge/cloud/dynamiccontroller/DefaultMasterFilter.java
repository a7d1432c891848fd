package io.kedge.cloud.dynamiccontroller;

import io.kedge.protocol.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Makes the {@code default/kubernetes} Endpoints and EndpointSlice point edges at their MetaServer,
 * as KubeEdge's defaultMaster filter does: one endpoint with one address (the MetaServer's), and
 * the port named {@code https} moved to the MetaServer's port. Clients that resolve the apiserver
 * through the {@code kubernetes} service then reach MetaServer. Other objects pass unchanged.
 */
final class DefaultMasterFilter {
  private final String address;
  private final int port;

  DefaultMasterFilter(String address, int port) {
    this.address = address;
    this.port = port;
  }

  /** Whether a response to {@code target} may need rewriting (cheap pre-check). */
  static boolean concerns(ApiPath target) {
    if (target == null || !target.resourceRequest() || target.subresource() != null) {
      return false;
    }
    boolean type =
        (target.group().isEmpty() && target.resource().equals("endpoints"))
            || (target.group().equals("discovery.k8s.io")
                && target.resource().equals("endpointslices"));
    return type && (target.namespace() == null || target.namespace().equals("default"));
  }

  static boolean concerns(String group, String resource) {
    return (group.isEmpty() && resource.equals("endpoints"))
        || (group.equals("discovery.k8s.io") && resource.equals("endpointslices"));
  }

  /**
   * Returns {@code body} with the default master rewritten (a copy when anything changed), for an
   * object or a list of objects; null when nothing changed.
   */
  JsonNode apply(JsonNode body) {
    if (body == null || !body.isObject()) {
      return null;
    }
    if (body.path("items").isArray()) {
      ObjectNode copy = null;
      ArrayNode items = (ArrayNode) body.get("items");
      for (int i = 0; i < items.size(); i++) {
        JsonNode item = items.get(i);
        JsonNode rewritten = rewrite(item, body.path("kind").asString(""));
        if (rewritten != null) {
          if (copy == null) {
            copy = ((ObjectNode) body).deepCopy();
          }
          ((ArrayNode) copy.get("items")).set(i, rewritten);
        }
      }
      return copy;
    }
    return rewrite(body, "");
  }

  private JsonNode rewrite(JsonNode obj, String listKind) {
    if (!obj.isObject()) {
      return null;
    }
    JsonNode meta = obj.path("metadata");
    if (!"default".equals(meta.path("namespace").asString(""))) {
      return null;
    }
    String kind = obj.path("kind").asString("");
    if (kind.isEmpty() && listKind.endsWith("List")) {
      kind = listKind.substring(0, listKind.length() - 4);
    }
    boolean master =
        "kubernetes".equals(meta.path("name").asString(""))
            || "kubernetes"
                .equals(meta.path("labels").path("kubernetes.io/service-name").asString(""));
    if (!master) {
      return null;
    }
    if (kind.equals("Endpoints")) {
      return endpoints((ObjectNode) obj);
    }
    if (kind.equals("EndpointSlice")) {
      return endpointSlice((ObjectNode) obj);
    }
    return null;
  }

  private JsonNode endpoints(ObjectNode obj) {
    ObjectNode copy = obj.deepCopy();
    JsonNode subsets = copy.path("subsets");
    ObjectNode subset = Json.object();
    ArrayNode addrs = subset.putArray("addresses");
    addrs.addObject().put("ip", address);
    ArrayNode ports = subset.putArray("ports");
    if (subsets.isArray() && subsets.size() > 0) {
      for (JsonNode p : subsets.get(0).path("ports")) {
        ports.add(port(p));
      }
    }
    copy.putArray("subsets").add(subset);
    return copy;
  }

  private JsonNode endpointSlice(ObjectNode obj) {
    ObjectNode copy = obj.deepCopy();
    JsonNode eps = copy.path("endpoints");
    ObjectNode ep =
        eps.isArray() && eps.size() > 0 ? ((ObjectNode) eps.get(0)).deepCopy() : Json.object();
    ep.putArray("addresses").add(address);
    copy.putArray("endpoints").add(ep);
    JsonNode ports = copy.path("ports");
    if (ports.isArray()) {
      ArrayNode out = copy.putArray("ports");
      for (JsonNode p : ports) {
        out.add(port(p));
      }
    }
    return copy;
  }

  private JsonNode port(JsonNode p) {
    ObjectNode c = ((ObjectNode) p).deepCopy();
    if ("https".equals(p.path("name").asString(""))) {
      c.put("port", port);
    }
    return c;
  }
}
