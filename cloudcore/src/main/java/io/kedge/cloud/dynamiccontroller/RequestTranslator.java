package io.kedge.cloud.dynamiccontroller;

import io.kedge.cloud.kube.ApiStatusException;
import io.kedge.protocol.Json;
import io.kedge.protocol.application.Application;
import io.kedge.protocol.application.ApplicationKey;
import io.kedge.protocol.application.KedgeExchange;
import io.kedge.protocol.application.PatchInfo;
import io.kedge.protocol.selector.FieldSelector;
import io.kedge.protocol.selector.LabelSelector;
import io.kedge.protocol.selector.SelectableFields;
import io.kedge.protocol.selector.SelectorException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Turns an Application into the HTTP request it stands for. Kedge edges send the original request
 * ({@link KedgeExchange}): it is replayed as it is, after checking the path. KubeEdge edges send
 * {@code Key}/{@code Verb}/{@code Option}/{@code ReqBody}/{@code Subresource}, interpreted as
 * KubeEdge's cloud does with its dynamic client (the options become the query, a patch's {@link
 * PatchInfo} its content type and body). Invalid input is a 4xx {@link ApiStatusException}.
 */
final class RequestTranslator {
  private RequestTranslator() {}

  /** What the watch of a request asks for. */
  record WatchSpec(
      String group,
      String version,
      String resource,
      String namespace,
      String name,
      LabelSelector labels,
      FieldSelector fields) {}

  /**
   * A translated request.
   *
   * @param http the HTTP request (for a watch: its path and query, not sent)
   * @param watch what to watch, or null for a plain request
   * @param kubeEdge whether the request came in KubeEdge's form
   * @param verb the KubeEdge verb (lower case), or the HTTP method for Kedge requests
   */
  record Translated(ApiRequest http, WatchSpec watch, boolean kubeEdge, String verb) {}

  private static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "PATCH", "DELETE");
  private static final Set<String> LIST_ONLY_OPTIONS = Set.of("watch", "allowWatchBookmarks");
  static final String KUBEEDGE_ACCEPT = "application/json";

  static Translated translate(Application app) {
    return app.kedge() != null ? fromKedge(app) : fromKubeEdge(app);
  }

  // ------------------------------------------------------------------ Kedge edges

  private static Translated fromKedge(Application app) {
    KedgeExchange k = app.kedge();
    String method = k.method().toUpperCase(Locale.ROOT);
    if (!METHODS.contains(method)) {
      throw ApiStatusException.of(
          405, "MethodNotAllowed", "method " + k.method() + " is not supported");
    }
    ApiPath target = path(k.path());
    for (String h : new String[] {k.accept(), k.contentType(), k.query()}) {
      if (h.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
        throw ApiStatusException.of(
            400, "BadRequest", "control characters in the request's headers or query");
      }
    }
    QueryString q = QueryString.parse(k.query());
    if (!target.resourceRequest() && !method.equals("GET")) {
      throw ApiStatusException.of(
          405, "MethodNotAllowed", "the server does not allow this method on " + k.path());
    }
    if ("log".equals(target.subresource()) && q.flag("follow")) {
      throw ApiStatusException.of(
          400, "BadRequest", "following logs is not supported through the cloud");
    }
    byte[] body = method.equals("GET") ? null : app.reqBody();
    ApiRequest http =
        new ApiRequest(method, k.path(), k.query(), k.accept(), k.contentType(), body, target);
    WatchSpec watch = null;
    if (method.equals("GET")
        && target.resourceRequest()
        && (target.watchPrefix() || q.flag("watch"))) {
      watch =
          watchSpec(
              target.group(),
              target.version(),
              target.resource(),
              target.namespace(),
              target.name(),
              q.get("labelSelector"),
              q.get("fieldSelector"));
    }
    return new Translated(http, watch, false, method);
  }

  // ------------------------------------------------------------------ KubeEdge edges

  private static Translated fromKubeEdge(Application app) {
    String verb = app.verb().toLowerCase(Locale.ROOT);
    String key = app.key();
    if (isRawPath(key)) {
      ApiPath target = path(key);
      if (!verb.equals("get")) {
        throw ApiStatusException.of(
            405, "MethodNotAllowed", "only get is supported on " + key + ", not " + verb);
      }
      return new Translated(
          new ApiRequest("GET", key, "", "application/json, */*", "", null, target),
          null,
          true,
          verb);
    }
    ApplicationKey k = ApplicationKey.parse(key);
    if (k == null) {
      throw ApiStatusException.of(400, "BadRequest", "invalid application key \"" + key + "\"");
    }
    JsonNode opts = json(app.option(), "Option");
    String sub = app.subresource().isEmpty() ? null : app.subresource();
    switch (verb) {
      case "get":
        return plain(app, verb, "GET", k, k.name(), sub, query(opts, Set.of()), null, "");
      case "list":
        return plain(app, verb, "GET", k, null, null, query(opts, LIST_ONLY_OPTIONS), null, "");
      case "watch":
        {
          WatchSpec w =
              watchSpec(
                  k.group(),
                  k.version(),
                  k.resource(),
                  k.namespace(),
                  k.name(),
                  opts.path("labelSelector").asString(""),
                  opts.path("fieldSelector").asString(""));
          String p =
              ApiPath.format(k.group(), k.version(), k.resource(), k.namespace(), null, null);
          return new Translated(
              new ApiRequest("GET", p, "watch=true", KUBEEDGE_ACCEPT, "", null, path(p)),
              w,
              true,
              verb);
        }
      case "create":
        {
          String name = sub == null ? null : nameOf(k, app.reqBody());
          return plain(
              app,
              verb,
              "POST",
              k,
              name,
              sub,
              query(opts, Set.of()),
              app.reqBody(),
              "application/json");
        }
      case "update":
        return plain(
            app,
            verb,
            "PUT",
            k,
            nameOf(k, app.reqBody()),
            sub,
            query(opts, Set.of()),
            app.reqBody(),
            "application/json");
      case "updatestatus":
        return plain(
            app,
            verb,
            "PUT",
            k,
            nameOf(k, app.reqBody()),
            "status",
            query(opts, Set.of()),
            app.reqBody(),
            "application/json");
      case "patch":
        return patch(app, k);
      case "delete":
        return plain(
            app, verb, "DELETE", k, k.name(), sub, "", nonEmpty(app.option()), "application/json");
      case "deletecollection":
        return plain(
            app,
            verb,
            "DELETE",
            k,
            null,
            null,
            query(opts, LIST_ONLY_OPTIONS),
            nonEmpty(app.reqBody()),
            "application/json");
      default:
        throw ApiStatusException.of(
            405, "MethodNotAllowed", "verb \"" + app.verb() + "\" is not supported");
    }
  }

  private static Translated patch(Application app, ApplicationKey k) {
    PatchInfo pi;
    try {
      pi = app.option() == null ? null : PatchInfo.fromJson(Json.parse(app.option()));
    } catch (JacksonException e) {
      throw ApiStatusException.of(
          400, "BadRequest", "the patch Option is not valid JSON: " + e.getOriginalMessage());
    } catch (IllegalArgumentException e) {
      throw ApiStatusException.of(
          400, "BadRequest", "the patch Option is not a PatchInfo: " + e.getMessage());
    }
    if (pi == null || pi.patchType() == null || pi.patchType().isEmpty()) {
      throw ApiStatusException.of(400, "BadRequest", "the patch Option has no PatchType");
    }
    String name = pi.name() != null && !pi.name().isEmpty() ? pi.name() : k.name();
    if (name == null) {
      throw ApiStatusException.of(400, "BadRequest", "the patch names no object");
    }
    List<String> subs = new ArrayList<>();
    if (pi.subresources() != null) {
      for (String s : pi.subresources()) {
        if (s != null && !s.isEmpty()) {
          subs.add(s);
        }
      }
    }
    String sub =
        subs.isEmpty()
            ? (app.subresource().isEmpty() ? null : app.subresource())
            : String.join("/", subs);
    JsonNode opts = pi.options() == null ? Json.object() : pi.options();
    byte[] body = pi.data() == null ? new byte[0] : pi.data();
    return plain(app, "patch", "PATCH", k, name, sub, query(opts, Set.of()), body, pi.patchType());
  }

  private static Translated plain(
      Application app,
      String verb,
      String method,
      ApplicationKey k,
      String name,
      String sub,
      String query,
      byte[] body,
      String contentType) {
    if (("PUT".equals(method) || "PATCH".equals(method)) && name == null) {
      throw ApiStatusException.of(400, "BadRequest", verb + " needs an object name");
    }
    if ("POST".equals(method) && body == null) {
      throw ApiStatusException.of(400, "BadRequest", verb + " needs a request body");
    }
    String p = ApiPath.format(k.group(), k.version(), k.resource(), k.namespace(), name, sub);
    return new Translated(
        new ApiRequest(
            method, p, query, KUBEEDGE_ACCEPT, body == null ? "" : contentType, body, path(p)),
        null,
        true,
        verb);
  }

  // ------------------------------------------------------------------ helpers

  /** Keys that are paths of the Kubernetes API rather than KubeEdge storage keys. */
  static boolean isRawPath(String key) {
    if (key == null) {
      return false;
    }
    return key.equals("/api")
        || key.equals("/apis")
        || key.startsWith("/api/")
        || key.startsWith("/apis/")
        || key.equals("/version")
        || key.startsWith("/openapi/")
        || key.startsWith("/healthz")
        || key.startsWith("/livez")
        || key.startsWith("/readyz");
  }

  private static ApiPath path(String p) {
    try {
      return ApiPath.parse(p);
    } catch (ApiPath.Refused e) {
      throw ApiStatusException.of(e.code(), null, e.getMessage());
    }
  }

  private static WatchSpec watchSpec(
      String group,
      String version,
      String resource,
      String namespace,
      String name,
      String labelSelector,
      String fieldSelector) {
    LabelSelector labels;
    FieldSelector fields;
    try {
      labels = LabelSelector.parse(labelSelector);
      fields = FieldSelector.parse(fieldSelector, SelectableFields.of(group, version, resource));
    } catch (SelectorException e) {
      throw ApiStatusException.of(e.code(), e.reason(), e.getMessage());
    }
    String n = name != null ? name : fields.requiredValue("metadata.name");
    String ns = namespace != null ? namespace : fields.requiredValue("metadata.namespace");
    return new WatchSpec(group, version, resource, ns, n, labels, fields);
  }

  private static JsonNode json(byte[] bytes, String field) {
    if (bytes == null || bytes.length == 0) {
      return Json.object();
    }
    try {
      JsonNode n = Json.parse(bytes);
      return n == null || n.isNull() ? Json.object() : n;
    } catch (JacksonException e) {
      throw ApiStatusException.of(
          400, "BadRequest", field + " is not valid JSON: " + e.getOriginalMessage());
    }
  }

  private static byte[] nonEmpty(byte[] b) {
    return b == null || b.length == 0 ? null : b;
  }

  /** The object name: from the key, else from the body's {@code metadata.name}. */
  private static String nameOf(ApplicationKey k, byte[] body) {
    if (k.name() != null) {
      return k.name();
    }
    JsonNode n = json(body, "ReqBody").path("metadata").path("name");
    return n.isString() && !n.asString().isEmpty() ? n.asString() : null;
  }

  /** Options JSON (Get/List/Create/Update/Patch options) as query parameters. */
  static String query(JsonNode opts, Set<String> skip) {
    List<String[]> pairs = new ArrayList<>();
    if (opts != null && opts.isObject()) {
      for (Map.Entry<String, JsonNode> e : opts.properties()) {
        String name = e.getKey();
        JsonNode v = e.getValue();
        if (name.equals("kind") || name.equals("apiVersion") || skip.contains(name)) {
          continue;
        }
        if (v.isArray()) {
          for (JsonNode x : v) {
            if (x.isValueNode()) {
              pairs.add(new String[] {name, text(x)});
            }
          }
        } else if (v.isValueNode() && !v.isNull()) {
          String t = text(v);
          if (!t.isEmpty()) {
            pairs.add(new String[] {name, t});
          }
        }
      }
    }
    return QueryString.encode(pairs);
  }

  private static String text(JsonNode v) {
    return v.isString() ? v.asString() : v.toString();
  }
}
