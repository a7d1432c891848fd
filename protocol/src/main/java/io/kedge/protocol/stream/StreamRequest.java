package io.kedge.protocol.stream;

import io.kedge.protocol.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The data of a connect message: the apiserver's kubelet request as KubeEdge's cloud forwards it —
 * {@code {"MessID":N,"url":<Go url.URL>,"header":{name:[values]},"method":"POST"}} ({@code method}
 * absent for logs). The URL's host is the edge's own kubelet address ({@code 127.0.0.1:10350});
 * only its path and query matter.
 *
 * @param kedgeHeaders headers a Kedge cloud adds for a Kedge edge (see {@link #STATUS_FIRST})
 */
public record StreamRequest(
    long messId, String method, String path, String rawQuery, Map<String, List<String>> header) {

  /**
   * Kedge: a logs request carrying this header asks the edge to send, as the first DATA message,
   * the HTTP status of its answer (3 ASCII digits), followed, for an error, by the message — so
   * that the cloud can answer the apiserver with that status instead of KubeEdge's {@code 200} and
   * the error as log text. A KubeEdge edge passes it on to its kubelet server, which ignores it.
   */
  public static final String STATUS_FIRST = "X-Kedge-Stream-Status";

  public StreamRequest {
    header = header == null ? Map.of() : header;
    rawQuery = rawQuery == null ? "" : rawQuery;
  }

  public String firstHeader(String name) {
    for (Map.Entry<String, List<String>> e : header.entrySet()) {
      if (e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) {
        return e.getValue().get(0);
      }
    }
    return null;
  }

  public byte[] toJson() {
    ObjectNode o = Json.object();
    o.put("MessID", messId);
    ObjectNode url = o.putObject("url");
    url.put("Scheme", "http");
    url.put("Opaque", "");
    url.putNull("User");
    url.put("Host", "127.0.0.1:10350");
    url.put("Path", path);
    url.put("RawPath", "");
    url.put("OmitHost", false);
    url.put("ForceQuery", false);
    url.put("RawQuery", rawQuery);
    url.put("Fragment", "");
    url.put("RawFragment", "");
    ObjectNode h = o.putObject("header");
    header.forEach(
        (k, vs) -> {
          ArrayNode a = h.putArray(k);
          vs.forEach(a::add);
        });
    if (method != null) {
      o.put("method", method);
    }
    return Json.bytes(o);
  }

  /**
   * @throws IllegalArgumentException when the data is not such a request
   */
  public static StreamRequest fromJson(byte[] data) {
    JsonNode o;
    try {
      o = Json.parse(data);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("connect message is not JSON: " + e.getMessage(), e);
    }
    JsonNode url = o.path("url");
    if (!url.isObject() || !url.path("Path").isString()) {
      throw new IllegalArgumentException("connect message has no url.Path");
    }
    Map<String, List<String>> header = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : o.path("header").properties()) {
      List<String> vs = new ArrayList<>();
      for (JsonNode v : e.getValue()) {
        vs.add(v.asString(""));
      }
      header.put(e.getKey(), vs);
    }
    String method = o.path("method").isString() ? o.path("method").asString() : null;
    return new StreamRequest(
        o.path("MessID").asLong(0),
        method,
        url.path("Path").asString(),
        url.path("RawQuery").asString(""),
        header);
  }
}
