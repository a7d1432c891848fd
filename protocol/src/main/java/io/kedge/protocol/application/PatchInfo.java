package io.kedge.protocol.application;

import io.kedge.protocol.Json;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The {@code Option} of a patch Application: {@code {"Name","PatchType","Data"(base64),
 * "Options","Subresources"}}.
 */
public record PatchInfo(
    String name, String patchType, byte[] data, JsonNode options, List<String> subresources) {

  /** Reads the JSON object {@link #toJson} writes; null for JSON null. */
  public static PatchInfo fromJson(JsonNode n) {
    if (n == null || n.isNull() || n.isMissingNode()) {
      return null;
    }
    JsonNode o = GoFields.object(n, "a PatchInfo");
    return new PatchInfo(
        GoFields.string(o, "Name"),
        GoFields.string(o, "PatchType"),
        GoFields.bytes(o, "Data"),
        o.get("Options"),
        GoFields.strings(o, "Subresources"));
  }

  /** The JSON object, in Go's field order ({@code Data} as base64). */
  public ObjectNode toJson() {
    ObjectNode o = Json.object();
    o.put("Name", name);
    o.put("PatchType", patchType);
    GoFields.putBytes(o, "Data", data);
    GoFields.putTree(o, "Options", options);
    GoFields.putStrings(o, "Subresources", subresources);
    return o;
  }
}
