package io.kedge.protocol.application;

import io.kedge.protocol.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A MetaServer request executed by the cloud, in KubeEdge's JSON form (Go field names, no tags;
 * {@code Option}, {@code ReqBody}, {@code RespBody} are base64 byte arrays). {@code Kedge} is
 * Kedge's extension, which KubeEdge's Go decoder ignores: a Kedge edge sends the original HTTP
 * request there, so that the cloud can replay it exactly (query, content types, body bytes) with
 * the calling pod's identity.
 *
 * @param id request id; KubeEdge: sha256 of node+key+verb+option+body+subresource. Kedge edges use
 *     a unique id per request so that callers are never merged
 * @param key {@code /<group|core>/<version>/<resource>/<ns|null>/<name|null>} or a raw path
 * @param verb get, list, watch, create, delete, update, updatestatus, patch (Kedge adds
 *     deletecollection)
 * @param nodename requesting node (the cloud overwrites it with the session's node)
 * @param option JSON of Get/List/Create/Update/DeleteOptions, or of {@link PatchInfo} for patch
 * @param reqBody request object JSON
 * @param subresource subresource, e.g. status
 * @param respBody response bytes
 * @param status see {@link ApplicationStatus}
 * @param reason text of a non-API failure
 * @param error {@code {"ErrStatus": Status}} of an API failure
 * @param timestamp RFC 3339
 * @param kedge Kedge's extension, or null (KubeEdge edges)
 */
public record Application(
    String id,
    String key,
    String verb,
    String nodename,
    byte[] option,
    byte[] reqBody,
    String subresource,
    byte[] respBody,
    String status,
    String reason,
    JsonNode error,
    String timestamp,
    KedgeExchange kedge) {

  /** What KubeEdge puts in Error when there is none. */
  public static final String NO_ERROR_JSON = "{\"ErrStatus\":{\"metadata\":{}}}";

  public static final String ZERO_TIME = "0001-01-01T00:00:00Z";

  public Application {
    id = id == null ? "" : id;
    key = key == null ? "" : key;
    verb = verb == null ? "" : verb;
    nodename = nodename == null ? "" : nodename;
    subresource = subresource == null ? "" : subresource;
    status = status == null ? "" : status;
    reason = reason == null ? "" : reason;
    error = error == null || error.isNull() ? Json.parse(NO_ERROR_JSON) : error;
    timestamp = timestamp == null ? ZERO_TIME : timestamp;
  }

  /**
   * The Application of a message's content.
   *
   * @throws IllegalArgumentException when {@code content} is not an Application's JSON object
   */
  public static Application fromJson(JsonNode content) {
    JsonNode o = GoFields.object(content, "an Application");
    JsonNode k = o.get("Kedge");
    return new Application(
        GoFields.string(o, "ID"),
        GoFields.string(o, "Key"),
        GoFields.string(o, "Verb"),
        GoFields.string(o, "Nodename"),
        GoFields.bytes(o, "Option"),
        GoFields.bytes(o, "ReqBody"),
        GoFields.string(o, "Subresource"),
        GoFields.bytes(o, "RespBody"),
        GoFields.string(o, "Status"),
        GoFields.string(o, "Reason"),
        o.get("Error"),
        GoFields.string(o, "Timestamp"),
        k == null || k.isNull() ? null : KedgeExchange.fromJson(k));
  }

  /** The JSON tree as it goes on the wire (byte fields as base64 strings, Go's field order). */
  public JsonNode toJson() {
    ObjectNode o = Json.object();
    o.put("ID", id);
    o.put("Key", key);
    o.put("Verb", verb);
    o.put("Nodename", nodename);
    GoFields.putBytes(o, "Option", option);
    GoFields.putBytes(o, "ReqBody", reqBody);
    o.put("Subresource", subresource);
    GoFields.putBytes(o, "RespBody", respBody);
    o.put("Status", status);
    o.put("Reason", reason);
    GoFields.putTree(o, "Error", error);
    o.put("Timestamp", timestamp);
    if (kedge != null) {
      o.set("Kedge", kedge.toJson());
    }
    return o;
  }

  public Application withStatus(String s) {
    return new Application(
        id,
        key,
        verb,
        nodename,
        option,
        reqBody,
        subresource,
        respBody,
        s,
        reason,
        error,
        timestamp,
        kedge);
  }

  /** The same Application under another ID (e.g. a {@code watchapp/sync} entry's key). */
  public Application withId(String newId) {
    if (id.equals(newId)) {
      return this;
    }
    return new Application(
        newId,
        key,
        verb,
        nodename,
        option,
        reqBody,
        subresource,
        respBody,
        status,
        reason,
        error,
        timestamp,
        kedge);
  }

  public Application withNodename(String n) {
    return new Application(
        id,
        key,
        verb,
        n,
        option,
        reqBody,
        subresource,
        respBody,
        status,
        reason,
        error,
        timestamp,
        kedge);
  }

  /** Approved, with the response bytes (and Kedge response metadata when the request had it). */
  public Application approved(byte[] body, KedgeExchange response) {
    return new Application(
        id,
        key,
        verb,
        nodename,
        option,
        reqBody,
        subresource,
        body,
        ApplicationStatus.APPROVED,
        "",
        null,
        timestamp,
        response);
  }

  /** Rejected with an API error ({@code {"ErrStatus": …}}). */
  public Application rejected(JsonNode errStatus, String reasonText, KedgeExchange response) {
    return new Application(
        id,
        key,
        verb,
        nodename,
        option,
        reqBody,
        subresource,
        null,
        ApplicationStatus.REJECTED,
        reasonText,
        errStatus,
        timestamp,
        response);
  }
}
