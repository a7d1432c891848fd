package io.kedge.edge.metaserver;

import io.kedge.protocol.Json;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;
import tools.jackson.dataformat.yaml.YAMLWriteFeature;

/**
 * Writes what MetaServer serves from the store: objects and lists as JSON (the stored bytes as they
 * are, no re-serialisation), YAML, or a {@code meta.k8s.io} Table with the apiserver's default
 * columns (Name, Created At — as it shows types without their own printer), and watch events.
 */
final class Encoding {
  private Encoding() {}

  /** Created when a client first asks for YAML (a mapper is several hundred classes). */
  private static final class Yaml {
    static final YAMLMapper MAPPER =
        YAMLMapper.builder()
            .disable(YAMLWriteFeature.WRITE_DOC_START_MARKER)
            .enable(YAMLWriteFeature.MINIMIZE_QUOTES)
            .build();
  }

  private static final byte[] ITEMS_OPEN = ",\"items\":[".getBytes(StandardCharsets.UTF_8);
  private static final byte[] CLOSE_LIST = "]}".getBytes(StandardCharsets.UTF_8);

  static final String NAME_DESCRIPTION =
      "Name must be unique within a namespace. Is required when creating resources, although some"
          + " resources may allow a client to request the generation of an appropriate name"
          + " automatically. Name is primarily intended for creation idempotence and configuration"
          + " definition. Cannot be updated. More info:"
          + " http://kubernetes.io/docs/user-guide/identifiers#names";
  static final String CREATED_DESCRIPTION =
      "CreationTimestamp is a timestamp representing the server time when this object was"
          + " created. It is not guaranteed to be set in happens-before order across separate"
          + " operations. Clients may not set this value. It is represented in RFC3339 form and is"
          + " in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info:"
          + " https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

  static byte[] object(byte[] json, Negotiation.Choice choice, String includeObject) {
    return switch (choice.format()) {
      case YAML -> yaml(Json.parse(json));
      case TABLE ->
          Json.bytes(table(List.of(json), choice.tableVersion(), "", "", -1, includeObject, true));
      default -> json;
    };
  }

  /**
   * A list as the apiserver writes it: {@code
   * {"kind":"<Kind>List","apiVersion":..,"metadata":{..},"items":[..]}}. The items of a built-in
   * type's list carry no {@code kind} and {@code apiVersion} (the apiserver converts them into a
   * typed list, whose items have no type of their own); those of a custom resource's list are
   * copied byte for byte, type included, and its metadata always has a {@code continue}, empty on
   * the last page (the apiserver writes custom resources' lists as they are stored).
   *
   * @param remaining the list's {@code remainingItemCount}, written with a continue token; -1 for
   *     none (the apiserver counts only lists without selectors)
   */
  static byte[] list(
      String kind,
      String apiVersion,
      boolean custom,
      String resourceVersion,
      String continueToken,
      long remaining,
      List<byte[]> items,
      Negotiation.Choice choice,
      String includeObject) {
    if (choice.format() == Negotiation.Format.TABLE) {
      return Json.bytes(
          table(
              items,
              choice.tableVersion(),
              resourceVersion,
              continueToken,
              remaining,
              includeObject,
              true));
    }
    ObjectNode head = Json.object();
    head.put("kind", kind + "List");
    head.put("apiVersion", apiVersion);
    head.set("metadata", listMeta(resourceVersion, continueToken, remaining, custom));
    byte[] h = Json.bytes(head);
    List<byte[]> written = custom ? items : untyped(items);
    int size = h.length + ITEMS_OPEN.length + CLOSE_LIST.length + written.size();
    for (byte[] i : written) {
      size += i.length;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(size);
    out.write(h, 0, h.length - 1); // without its closing brace
    out.writeBytes(ITEMS_OPEN);
    for (int i = 0; i < written.size(); i++) {
      if (i > 0) {
        out.write(',');
      }
      out.writeBytes(written.get(i));
    }
    out.writeBytes(CLOSE_LIST);
    byte[] json = out.toByteArray();
    return choice.format() == Negotiation.Format.YAML ? yaml(Json.parse(json)) : json;
  }

  /**
   * A list's metadata as the apiserver writes it: {@code resourceVersion}, and with a continue
   * token its {@code remainingItemCount} (when counted); a custom resource's list (written as
   * stored, its keys in order) always has {@code continue}.
   */
  private static ObjectNode listMeta(String rv, String cont, long remaining, boolean custom) {
    ObjectNode m = Json.object();
    boolean more = cont != null && !cont.isEmpty();
    if (custom) {
      m.put("continue", more ? cont : "");
      if (more && remaining >= 0) {
        m.put("remainingItemCount", remaining);
      }
    }
    if (rv != null && !rv.isEmpty()) {
      m.put("resourceVersion", rv);
    }
    if (!custom && more) {
      m.put("continue", cont);
      if (remaining >= 0) {
        m.put("remainingItemCount", remaining);
      }
    }
    return m;
  }

  private static List<byte[]> untyped(List<byte[]> items) {
    List<byte[]> out = new java.util.ArrayList<>(items.size());
    for (byte[] i : items) {
      out.add(untyped(i));
    }
    return out;
  }

  private static final byte[] KIND_FIELD = "\"kind\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] API_VERSION_FIELD =
      "\"apiVersion\":\"".getBytes(StandardCharsets.US_ASCII);

  /**
   * A stored object without its {@code kind} and {@code apiVersion}. Both lead the object as the
   * store keeps it (as the apiserver writes an object, or as the store puts them when it adds
   * them), so the bytes after them are kept as they are; an object written otherwise is parsed and
   * written again.
   */
  static byte[] untyped(byte[] json) {
    if (json.length == 0 || json[0] != '{') {
      return reparsed(json);
    }
    int p = 1;
    byte[] first = null;
    for (int field = 0; field < 2; field++) {
      byte[] name;
      if (first != KIND_FIELD && startsWith(json, p, KIND_FIELD)) {
        name = KIND_FIELD;
      } else if (first != API_VERSION_FIELD && startsWith(json, p, API_VERSION_FIELD)) {
        name = API_VERSION_FIELD;
      } else {
        return reparsed(json);
      }
      first = name;
      int q = p + name.length;
      while (q < json.length && json[q] != '"' && json[q] != '\\') {
        q++;
      }
      if (q + 1 >= json.length || json[q] != '"' || json[q + 1] != ',') {
        return reparsed(json); // an escape in the value, or the object ends
      }
      p = q + 2;
    }
    byte[] out = new byte[json.length - p + 1];
    out[0] = '{';
    System.arraycopy(json, p, out, 1, json.length - p);
    return out;
  }

  private static boolean startsWith(byte[] b, int at, byte[] prefix) {
    if (b.length - at < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (b[at + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static byte[] reparsed(byte[] json) {
    JsonNode n = Json.parse(json);
    if (n instanceof ObjectNode o && (o.has("kind") || o.has("apiVersion"))) {
      ObjectNode copy = o.deepCopy();
      copy.remove("kind");
      copy.remove("apiVersion");
      return Json.bytes(copy);
    }
    return json;
  }

  static ObjectNode table(
      List<byte[]> objects,
      String version,
      String resourceVersion,
      String continueToken,
      long remaining,
      String includeObject,
      boolean withColumns) {
    ObjectNode t = Json.object();
    t.put("kind", "Table");
    t.put("apiVersion", "meta.k8s.io/" + (version.isEmpty() ? "v1" : version));
    t.set("metadata", listMeta(resourceVersion, continueToken, remaining, false));
    ArrayNode cols = t.putArray("columnDefinitions");
    if (withColumns) {
      ObjectNode name = cols.addObject();
      name.put("name", "Name");
      name.put("type", "string");
      name.put("format", "name");
      name.put("description", NAME_DESCRIPTION);
      name.put("priority", 0);
      ObjectNode created = cols.addObject();
      created.put("name", "Created At");
      created.put("type", "date");
      created.put("format", "");
      created.put("description", CREATED_DESCRIPTION);
      created.put("priority", 0);
    }
    ArrayNode rows = t.putArray("rows");
    for (byte[] o : objects) {
      JsonNode obj = Json.parse(o);
      ObjectNode row = rows.addObject();
      ArrayNode cells = row.putArray("cells");
      cells.add(obj.path("metadata").path("name").asString(""));
      cells.add(obj.path("metadata").path("creationTimestamp").asString(""));
      switch (includeObject == null ? "" : includeObject) {
        case "None" -> {}
        case "Object" -> row.set("object", obj);
        default -> {
          ObjectNode meta = Json.object();
          meta.put("kind", "PartialObjectMetadata");
          meta.put("apiVersion", "meta.k8s.io/v1");
          meta.set("metadata", obj.path("metadata"));
          row.set("object", meta);
        }
      }
    }
    return t;
  }

  static byte[] yaml(JsonNode n) {
    return Yaml.MAPPER.writeValueAsBytes(n);
  }

  /** One watch event as a JSON stream line (also a WebSocket message's text). */
  static byte[] event(String type, byte[] object) {
    byte[] head = ("{\"type\":\"" + type + "\",\"object\":").getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[head.length + object.length + 2];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(object, 0, out, head.length, object.length);
    out[out.length - 2] = '}';
    out[out.length - 1] = '\n';
    return out;
  }
}
