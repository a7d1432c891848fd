package io.kedge.edge.auth;

import io.kedge.protocol.selector.FieldSelector;
import io.kedge.protocol.selector.LabelSelector;
import io.kedge.protocol.selector.SelectorException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Derives {@link RequestAttributes} from an HTTP request exactly as the apiserver's request-info
 * resolver does: {@code /api/<v>/...} and {@code /apis/<g>/<v>/...} are resource requests (method →
 * verb; a GET without a name is {@code list} or, with {@code watch=true}, {@code watch}; a DELETE
 * without a name is {@code deletecollection}; {@code /watch/} path prefix), everything else is a
 * non-resource request whose verb is the lower-case method.
 */
public final class RequestAttributesResolver {
  private RequestAttributesResolver() {}

  private static final Set<String> NAMESPACE_SUBRESOURCES = Set.of("status", "finalize");

  public static RequestAttributes resolve(
      UserInfo user, String method, String path, String rawQuery) {
    String m = method == null ? "GET" : method.toUpperCase(Locale.ROOT);
    RequestAttributes nonResource =
        RequestAttributes.nonResource(user, m.toLowerCase(Locale.ROOT), path);
    List<String> parts = split(path);
    if (parts.size() < 3) {
      return nonResource;
    }
    String prefix = parts.get(0);
    int i = 1;
    String group = "";
    if ("apis".equals(prefix)) {
      if (parts.size() < 4) {
        return nonResource;
      }
      group = parts.get(i++);
    } else if (!"api".equals(prefix)) {
      return nonResource;
    }
    String version = parts.get(i++);
    List<String> rest = parts.subList(i, parts.size());
    String verb;
    if ("watch".equals(rest.get(0)) || "proxy".equals(rest.get(0))) {
      if (rest.size() < 2) {
        // the apiserver cannot resolve this and answers it as a non-resource request
        return nonResource;
      }
      verb = rest.get(0);
      rest = rest.subList(1, rest.size());
    } else {
      verb =
          switch (m) {
            case "POST" -> "create";
            case "GET", "HEAD" -> "get";
            case "PUT" -> "update";
            case "PATCH" -> "patch";
            case "DELETE" -> "delete";
            default -> "";
          };
    }
    String namespace = "";
    if ("namespaces".equals(rest.get(0))) {
      if (rest.size() > 1) {
        namespace = rest.get(1);
        if (rest.size() > 2 && !NAMESPACE_SUBRESOURCES.contains(rest.get(2))) {
          rest = rest.subList(2, rest.size());
        }
      }
    }
    String resource = rest.get(0);
    String name = rest.size() >= 2 ? rest.get(1) : "";
    String subresource = rest.size() >= 3 && !"proxy".equals(verb) ? rest.get(2) : "";
    if (name.isEmpty() && "get".equals(verb)) {
      verb = watchRequested(rawQuery) ? "watch" : "list";
      String byField = exactName(rawQuery);
      if (byField != null) {
        name = byField;
      }
    }
    if (name.isEmpty() && "delete".equals(verb)) {
      verb = "deletecollection";
    }
    return RequestAttributes.resource(
        user, verb, group, version, resource, subresource, namespace, name);
  }

  private static List<String> split(String path) {
    String p = path == null ? "" : path;
    while (p.startsWith("/")) {
      p = p.substring(1);
    }
    while (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    List<String> out = new ArrayList<>();
    if (p.isEmpty()) {
      return out;
    }
    for (String s : p.split("/", -1)) {
      out.add(s);
    }
    return out;
  }

  private static boolean watchRequested(String rawQuery) {
    List<String> w = query(rawQuery, "watch");
    if (w.isEmpty()) {
      return false;
    }
    String v = w.get(0).toLowerCase(Locale.ROOT);
    return !(v.equals("false") || v.equals("0"));
  }

  /**
   * {@code metadata.name} from a field selector that requires an exact match, if it is a valid path
   * segment; none when the apiserver could not read the selectors.
   */
  private static String exactName(String rawQuery) {
    List<String> fs = query(rawQuery, "fieldSelector");
    if (fs.isEmpty()) {
      return null;
    }
    List<String> ls = query(rawQuery, "labelSelector");
    String value;
    try {
      LabelSelector.parse(ls.isEmpty() ? null : ls.get(0));
      value = FieldSelector.parse(fs.get(0)).requiredValue("metadata.name");
    } catch (SelectorException e) {
      return null;
    }
    boolean valid =
        value != null
            && !value.isEmpty()
            && !value.equals(".")
            && !value.equals("..")
            && value.indexOf('/') < 0
            && value.indexOf('%') < 0;
    return valid ? value : null;
  }

  private static List<String> query(String rawQuery, String key) {
    List<String> out = new ArrayList<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return out;
    }
    for (String kv : rawQuery.split("&")) {
      int eq = kv.indexOf('=');
      String k = decode(eq < 0 ? kv : kv.substring(0, eq));
      if (key.equals(k)) {
        out.add(eq < 0 ? "" : decode(kv.substring(eq + 1)));
      }
    }
    return out;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }
}
