package io.kedge.edge.metaserver;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a request path addresses, resolved as the apiserver's request-info resolver does ({@code
 * /api/<v>/...} and {@code /apis/<g>/<v>/...} are resource requests, the rest non-resource), after
 * strict checks: segments are percent-decoded one by one, and empty, {@code .}, {@code ..} or
 * slash-containing segments are refused (400) rather than cleaned, so that no encoding trick can
 * address something else than what the authorizer saw.
 *
 * @param path the path as received (without query), trailing slashes removed
 * @param verb get, list, watch, create, update, patch, delete, deletecollection; for non-resource
 *     requests the lower-case method
 * @param extra path segments after the subresource (only proxy-style paths have them)
 */
public record RequestInfo(
    boolean resourceRequest,
    String path,
    String method,
    String verb,
    String group,
    String version,
    String namespace,
    String resource,
    String name,
    String subresource,
    List<String> extra) {

  static final int MAX_PATH = 4096;

  public boolean hasName() {
    return !name.isEmpty();
  }

  public boolean namespaced() {
    return !namespace.isEmpty();
  }

  public String apiVersion() {
    return group.isEmpty() ? version : group + "/" + version;
  }

  public static RequestInfo parse(String method, String rawPath, QueryParams query) {
    String m = method.toUpperCase(Locale.ROOT);
    if (rawPath == null || rawPath.isEmpty() || rawPath.charAt(0) != '/') {
      throw ApiException.badRequest("invalid request path");
    }
    if (rawPath.length() > MAX_PATH) {
      throw ApiException.of(414, "the request path is too long");
    }
    String trimmed = rawPath;
    while (trimmed.length() > 1 && trimmed.endsWith("/")) {
      trimmed = trimmed.substring(0, trimmed.length() - 1);
    }
    List<String> parts = new ArrayList<>();
    if (trimmed.length() > 1) {
      for (String raw : trimmed.substring(1).split("/", -1)) {
        String seg = decodeSegment(raw, rawPath);
        if (seg.isEmpty() || seg.equals(".") || seg.equals("..") || seg.indexOf('/') >= 0) {
          throw ApiException.badRequest("invalid request path \"" + rawPath + "\"");
        }
        for (int i = 0; i < seg.length(); i++) {
          if (seg.charAt(i) < 0x20 || seg.charAt(i) == 0x7f) {
            throw ApiException.badRequest("invalid request path \"" + rawPath + "\"");
          }
        }
        parts.add(seg);
      }
    }
    String lowerMethod = m.toLowerCase(Locale.ROOT);
    RequestInfo nonResource =
        new RequestInfo(false, trimmed, m, lowerMethod, "", "", "", "", "", "", List.of());
    if (parts.size() < 3) {
      return nonResource;
    }
    int i;
    String group = "";
    if (parts.get(0).equals("api")) {
      i = 1;
    } else if (parts.get(0).equals("apis")) {
      if (parts.size() < 4) {
        return nonResource;
      }
      group = parts.get(1);
      i = 2;
    } else {
      return nonResource;
    }
    String version = parts.get(i++);
    List<String> rest = parts.subList(i, parts.size());
    String verb =
        switch (m) {
          case "GET", "HEAD" -> "get";
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          case "DELETE" -> "delete";
          default -> throw ApiException.of(405, "the server does not allow method " + m);
        };
    if (rest.get(0).equals("watch")) {
      if (!m.equals("GET") || rest.size() < 2) {
        return nonResource;
      }
      verb = "watch";
      rest = rest.subList(1, rest.size());
    }
    String namespace = "";
    if (rest.get(0).equals("namespaces") && rest.size() > 1) {
      namespace = rest.get(1);
      if (rest.size() == 2
          || (rest.size() >= 3
              && (rest.get(2).equals("status") || rest.get(2).equals("finalize")))) {
        // /namespaces/{name}[/status|/finalize] addresses the Namespace object itself
        namespace = "";
      } else {
        rest = rest.subList(2, rest.size());
      }
    }
    String resource = rest.get(0);
    String name = rest.size() > 1 ? rest.get(1) : "";
    String sub = rest.size() > 2 ? rest.get(2) : "";
    List<String> extra = rest.size() > 3 ? List.copyOf(rest.subList(3, rest.size())) : List.of();
    if (name.isEmpty()) {
      if (verb.equals("get")) {
        verb = query.bool("watch") ? "watch" : "list";
      } else if (verb.equals("delete")) {
        verb = "deletecollection";
      } else if (verb.equals("update") || verb.equals("patch")) {
        throw ApiException.of(
            405, "the server does not allow this method on the requested resource");
      }
    } else if (verb.equals("create") && sub.isEmpty()) {
      throw ApiException.of(405, "the server does not allow this method on the requested resource");
    }
    return new RequestInfo(
        true, trimmed, m, verb, group, version, namespace, resource, name, sub, extra);
  }

  private static String decodeSegment(String s, String whole) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    byte[] out = new byte[s.length()];
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= s.length()) {
          throw ApiException.badRequest("invalid URL escape in request path \"" + whole + "\"");
        }
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw ApiException.badRequest("invalid URL escape in request path \"" + whole + "\"");
        }
        out[n++] = (byte) (hi * 16 + lo);
        i += 2;
      } else {
        out[n++] = (byte) c;
      }
    }
    return new String(out, 0, n, StandardCharsets.UTF_8);
  }
}
