package io.kedge.cloud.dynamiccontroller;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a request path of the Kubernetes API addresses, parsed as the apiserver's request-info
 * resolver does: {@code /api/v1/...} and {@code /apis/<group>/<version>/...} with an optional
 * {@code namespaces/<ns>} part, a resource, a name and a subresource; the legacy {@code /watch/}
 * prefix; and the non-resource paths the cloud serves (discovery, {@code /version}, OpenAPI,
 * health). Anything else is refused before it reaches the apiserver.
 *
 * @param raw the path as received
 * @param resourceRequest whether it addresses a resource (else a non-resource path)
 * @param group API group ("" for core)
 * @param version API version
 * @param resource plural resource name
 * @param namespace namespace, or null
 * @param name object name, or null for a collection
 * @param subresource subresource ("status", "scale", "log", ...), or null
 * @param watchPrefix the deprecated {@code /watch/} form was used
 */
public record ApiPath(
    String raw,
    boolean resourceRequest,
    String group,
    String version,
    String resource,
    String namespace,
    String name,
    String subresource,
    boolean watchPrefix) {

  /** Characters a path may contain; '%' is not among them so nothing decodes to '/' or '..'. */
  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._~:@!$&'()*+,;=/-]*");

  private static final Set<String> NAMESPACE_SUBRESOURCES = Set.of("status", "finalize");

  /** Subresources that open streams or tunnels: never relayed. */
  private static final Set<String> CONNECT_SUBRESOURCES =
      Set.of("exec", "attach", "portforward", "proxy");

  private static final List<String> NON_RESOURCE_ROOTS =
      List.of("/version", "/healthz", "/livez", "/readyz", "/openapi/v2", "/openapi/v3");

  /** Thrown for a path the cloud does not relay; carries the HTTP code to answer. */
  public static final class Refused extends Exception {
    private final int code;

    Refused(int code, String message) {
      super(message, null, false, false);
      this.code = code;
    }

    public int code() {
      return code;
    }
  }

  public static ApiPath parse(String path) throws Refused {
    if (path == null || path.isEmpty() || path.charAt(0) != '/') {
      throw new Refused(400, "the request path must start with '/'");
    }
    if (!SAFE.matcher(path).matches()) {
      throw new Refused(400, "the request path contains characters that are not allowed");
    }
    String p =
        path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    String[] parts = p.substring(1).split("/", -1);
    for (String s : parts) {
      if (s.isEmpty() || s.equals(".") || s.equals("..")) {
        throw new Refused(400, "the request path has an empty, '.' or '..' segment");
      }
    }
    if (parts[0].equals("api")) {
      if (parts.length <= 2) {
        return nonResource(path);
      }
      return resource(path, "", parts[1], Arrays.copyOfRange(parts, 2, parts.length));
    }
    if (parts[0].equals("apis")) {
      if (parts.length <= 3) {
        return nonResource(path);
      }
      return resource(path, parts[1], parts[2], Arrays.copyOfRange(parts, 3, parts.length));
    }
    for (String root : NON_RESOURCE_ROOTS) {
      if (p.equals(root) || p.startsWith(root + "/")) {
        return nonResource(path);
      }
    }
    throw new Refused(404, "the server could not find the requested resource");
  }

  private static ApiPath nonResource(String path) {
    return new ApiPath(path, false, null, null, null, null, null, null, false);
  }

  private static ApiPath resource(String raw, String group, String version, String[] rest)
      throws Refused {
    boolean watch = false;
    if (rest[0].equals("watch")) {
      watch = true;
      rest = Arrays.copyOfRange(rest, 1, rest.length);
      if (rest.length == 0) {
        throw new Refused(404, "the server could not find the requested resource");
      }
    }
    String ns = null;
    if (rest[0].equals("namespaces") && rest.length > 1) {
      ns = rest[1];
      if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.contains(rest[2])) {
        rest = Arrays.copyOfRange(rest, 2, rest.length);
      } else {
        // the namespace object itself: namespaces/<ns>[/status|/finalize]
        ns = null;
      }
    }
    String resource = rest[0];
    String name = rest.length > 1 ? rest[1] : null;
    String sub =
        rest.length > 2 ? String.join("/", Arrays.copyOfRange(rest, 2, rest.length)) : null;
    if (sub != null && CONNECT_SUBRESOURCES.contains(rest[2])) {
      throw new Refused(
          403, resource + "/" + rest[2] + " is not available through the cloud (no tunnels)");
    }
    if (resource.equals("nodes") && name != null && name.contains(":")) {
      // nodes/<name>:<port>/proxy style addressing
      throw new Refused(403, "node proxying is not available through the cloud");
    }
    return new ApiPath(raw, true, group, version, resource, ns, name, sub, watch);
  }

  /** {@code v1} or {@code group/version}. */
  public String apiVersion() {
    return group == null || group.isEmpty() ? version : group + "/" + version;
  }

  /** Builds the canonical path of a resource request. */
  public static String format(
      String group, String version, String resource, String ns, String name, String sub) {
    StringBuilder b = new StringBuilder();
    b.append(
        group == null || group.isEmpty() ? "/api/" + version : "/apis/" + group + "/" + version);
    if (ns != null && !ns.isEmpty()) {
      b.append("/namespaces/").append(ns);
    }
    b.append('/').append(resource);
    if (name != null && !name.isEmpty()) {
      b.append('/').append(name);
      if (sub != null && !sub.isEmpty()) {
        b.append('/').append(sub);
      }
    }
    return b.toString();
  }
}
