package io.kedge.protocol.application;

import io.kedge.protocol.Json;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Fields of the Go structs exchanged as JSON ({@code Application}, {@code PatchInfo}), read and
 * written as Go's {@code encoding/json} does: {@code []byte} as standard base64 (null for nil),
 * absent or null fields as the zero value. Reading is as lenient as Jackson's binding was (numbers
 * and booleans where strings are expected are read as their text); values of the wrong kind
 * (objects for strings, …) fail with {@link IllegalArgumentException}.
 */
final class GoFields {
  private GoFields() {}

  /** The object's fields, or an exception naming what it is instead. */
  static JsonNode object(JsonNode n, String what) {
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException(
          what + " must be a JSON object, not " + (n == null ? "nothing" : n.getNodeType()));
    }
    return n;
  }

  /** A string field; null when absent or null. */
  static String string(JsonNode obj, String name) {
    JsonNode v = obj.get(name);
    if (v == null || v.isNull()) {
      return null;
    }
    if (v.isString() || v.isNumber() || v.isBoolean()) {
      return v.asString();
    }
    throw new IllegalArgumentException(name + " must be a string, not " + v.getNodeType());
  }

  /** A {@code []byte} field (base64); null when absent or null. */
  static byte[] bytes(JsonNode obj, String name) {
    JsonNode v = obj.get(name);
    if (v == null || v.isNull()) {
      return null;
    }
    if (v.isBinary()) {
      return v.binaryValue();
    }
    if (!v.isString()) {
      throw new IllegalArgumentException(name + " must be base64 text, not " + v.getNodeType());
    }
    try {
      return Base64.getDecoder().decode(v.stringValue());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(name + " is not base64: " + e.getMessage(), e);
    }
  }

  /** An integer field; 0 when absent or null. */
  static int integer(JsonNode obj, String name) {
    JsonNode v = obj.get(name);
    if (v == null || v.isNull()) {
      return 0;
    }
    if (v.isIntegralNumber() && v.canConvertToInt()) {
      return v.intValue();
    }
    if (v.isString()) {
      try {
        return Integer.parseInt(v.stringValue().strip());
      } catch (NumberFormatException e) {
        // below
      }
    }
    throw new IllegalArgumentException(name + " must be an integer, not " + v);
  }

  /** A list of strings; null when absent or null. */
  static List<String> strings(JsonNode obj, String name) {
    JsonNode v = obj.get(name);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isArray()) {
      throw new IllegalArgumentException(name + " must be an array, not " + v.getNodeType());
    }
    List<String> out = new ArrayList<>(v.size());
    for (JsonNode e : v.values()) {
      if (e.isNull()) {
        out.add(null);
      } else if (e.isString() || e.isNumber() || e.isBoolean()) {
        out.add(e.asString());
      } else {
        throw new IllegalArgumentException(name + " must hold strings, not " + e.getNodeType());
      }
    }
    return out;
  }

  static void putBytes(ObjectNode o, String name, byte[] b) {
    if (b == null) {
      o.putNull(name);
    } else {
      o.put(name, Base64.getEncoder().encodeToString(b));
    }
  }

  static void putTree(ObjectNode o, String name, JsonNode n) {
    o.set(name, n == null ? Json.NODES.nullNode() : n);
  }

  static void putStrings(ObjectNode o, String name, List<String> l) {
    if (l == null) {
      o.putNull(name);
      return;
    }
    ArrayNode a = o.putArray(name);
    for (String s : l) {
      a.add(s);
    }
  }
}
