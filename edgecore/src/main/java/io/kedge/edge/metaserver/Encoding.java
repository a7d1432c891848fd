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

  private static final YAMLMapper YAML =
      YAMLMapper.builder()
          .disable(YAMLWriteFeature.WRITE_DOC_START_MARKER)
          .enable(YAMLWriteFeature.MINIMIZE_QUOTES)
          .build();

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
          Json.bytes(table(List.of(json), choice.tableVersion(), "", "", includeObject, true));
      default -> json;
    };
  }

  /**
   * A list: {@code {"kind":"<Kind>List","apiVersion":..,"metadata":{..},"items":[..]}}, items
   * copied byte for byte.
   */
  static byte[] list(
      String kind,
      String apiVersion,
      String resourceVersion,
      String continueToken,
      long remaining,
      List<byte[]> items,
      Negotiation.Choice choice,
      String includeObject) {
    if (choice.format() == Negotiation.Format.TABLE) {
      return Json.bytes(
          table(items, choice.tableVersion(), resourceVersion, continueToken, includeObject, true));
    }
    ObjectNode head = Json.object();
    head.put("kind", kind + "List");
    head.put("apiVersion", apiVersion);
    head.set("metadata", listMeta(resourceVersion, continueToken, remaining));
    byte[] h = Json.bytes(head);
    int size = h.length + ITEMS_OPEN.length + CLOSE_LIST.length + items.size();
    for (byte[] i : items) {
      size += i.length;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(size);
    out.write(h, 0, h.length - 1); // without its closing brace
    out.writeBytes(ITEMS_OPEN);
    for (int i = 0; i < items.size(); i++) {
      if (i > 0) {
        out.write(',');
      }
      out.writeBytes(items.get(i));
    }
    out.writeBytes(CLOSE_LIST);
    byte[] json = out.toByteArray();
    return choice.format() == Negotiation.Format.YAML ? yaml(Json.parse(json)) : json;
  }

  private static ObjectNode listMeta(String rv, String cont, long remaining) {
    ObjectNode m = Json.object();
    if (rv != null && !rv.isEmpty()) {
      m.put("resourceVersion", rv);
    }
    if (cont != null && !cont.isEmpty()) {
      m.put("continue", cont);
      if (remaining > 0) {
        m.put("remainingItemCount", remaining);
      }
    }
    return m;
  }

  static ObjectNode table(
      List<byte[]> objects,
      String version,
      String resourceVersion,
      String continueToken,
      String includeObject,
      boolean withColumns) {
    ObjectNode t = Json.object();
    t.put("kind", "Table");
    t.put("apiVersion", "meta.k8s.io/" + (version.isEmpty() ? "v1" : version));
    t.set("metadata", listMeta(resourceVersion, continueToken, 0));
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
    return YAML.writeValueAsBytes(n);
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
