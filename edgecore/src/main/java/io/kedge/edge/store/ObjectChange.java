package io.kedge.edge.store;

import io.kedge.protocol.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A change to apply to the store: an object version to keep ({@link Op#UPSERT}) or an object that
 * is gone ({@link Op#DELETE}). Versions older than what the store holds are ignored when applied.
 *
 * @param json the object (with apiVersion and kind); for a delete its last state, or null
 */
public record ObjectChange(
    Op op, Gvr gvr, String namespace, String name, String uid, long resourceVersion, byte[] json) {

  public enum Op {
    UPSERT,
    DELETE
  }

  public ObjectChange {
    namespace = namespace == null ? "" : namespace;
    uid = uid == null ? "" : uid;
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("object of " + gvr + " without a name");
    }
  }

  /**
   * An object version to keep. {@code apiVersion} and {@code kind} are filled from {@code gvr} and
   * {@code kind} when the object lacks them (typed informer objects often do).
   *
   * @throws IllegalArgumentException when {@code object} is not an object with a name
   */
  public static ObjectChange upsert(Gvr gvr, String kind, JsonNode object) {
    ObjectNode o = normalize(gvr, kind, object);
    JsonNode meta = o.path("metadata");
    return new ObjectChange(
        Op.UPSERT,
        gvr,
        text(meta, "namespace"),
        text(meta, "name"),
        text(meta, "uid"),
        parseResourceVersion(text(meta, "resourceVersion")),
        Json.bytes(o));
  }

  /**
   * An object that was deleted. {@code object} may be null or partial (KubeEdge's SyncController
   * sends only namespace/name/uid); {@code namespace} and {@code name} then identify it.
   */
  public static ObjectChange delete(
      Gvr gvr, String kind, JsonNode object, String namespace, String name) {
    if (object != null && object.isObject() && object.path("metadata").isObject()) {
      ObjectNode o = normalize(gvr, kind, object);
      JsonNode meta = o.path("metadata");
      String n = text(meta, "name");
      String ns = text(meta, "namespace");
      return new ObjectChange(
          Op.DELETE,
          gvr,
          ns.isEmpty() ? namespace : ns,
          n.isEmpty() ? name : n,
          text(meta, "uid"),
          parseResourceVersion(text(meta, "resourceVersion")),
          o.path("metadata").has("name") ? Json.bytes(o) : null);
    }
    return new ObjectChange(Op.DELETE, gvr, namespace, name, "", 0, null);
  }

  /** A resourceVersion as a number; 0 when absent or not numeric. */
  public static long parseResourceVersion(String rv) {
    if (rv == null || rv.isEmpty() || rv.length() > 19) {
      return 0;
    }
    long v = 0;
    for (int i = 0; i < rv.length(); i++) {
      char c = rv.charAt(i);
      if (c < '0' || c > '9') {
        return 0;
      }
      v = v * 10 + (c - '0');
      if (v < 0) {
        return 0;
      }
    }
    return v;
  }

  public String sortKey() {
    return StoredObject.sortKey(namespace, name);
  }

  private static ObjectNode normalize(Gvr gvr, String kind, JsonNode object) {
    if (object == null || !object.isObject()) {
      throw new IllegalArgumentException("not a JSON object for " + gvr);
    }
    JsonNode meta = object.path("metadata");
    if (!meta.isObject() || text(meta, "name").isEmpty()) {
      throw new IllegalArgumentException("object of " + gvr + " without metadata.name");
    }
    ObjectNode o = (ObjectNode) object;
    boolean hasVersion =
        o.path("apiVersion").isString() && !o.path("apiVersion").asString().isEmpty();
    boolean hasKind = o.path("kind").isString() && !o.path("kind").asString().isEmpty();
    if (hasVersion && hasKind) {
      return o;
    }
    // Put apiVersion and kind first, as the apiserver writes them.
    ObjectNode n = Json.object();
    n.put("apiVersion", hasVersion ? o.path("apiVersion").asString() : gvr.apiVersion());
    n.put("kind", hasKind ? o.path("kind").asString() : kind == null ? "" : kind);
    for (var e : o.properties()) {
      if (!e.getKey().equals("apiVersion") && !e.getKey().equals("kind")) {
        n.set(e.getKey(), e.getValue());
      }
    }
    return n;
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v != null && v.isString() ? v.asString() : "";
  }
}
