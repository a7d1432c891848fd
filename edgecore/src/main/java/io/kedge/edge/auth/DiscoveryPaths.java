package io.kedge.edge.auth;

import java.util.Set;

/**
 * The non-resource paths anyone may GET (discovery, version, health), as KubeEdge's MetaServer
 * passes them through: {@code /api}, {@code /apis}, {@code /version}, {@code /healthz}, {@code
 * /livez}, {@code /readyz}, {@code /openapi/v2}, {@code /openapi/v3}, {@code /api/<v>}, {@code
 * /apis/<g>} and {@code /apis/<g>/<v>}; a trailing slash is ignored.
 */
public final class DiscoveryPaths implements Authorizer {

  private static final Set<String> EXACT =
      Set.of(
          "/api",
          "/apis",
          "/version",
          "/healthz",
          "/livez",
          "/readyz",
          "/openapi/v2",
          "/openapi/v3");

  public static boolean isDiscovery(String verb, String path) {
    if (!"get".equals(verb) || path == null) {
      return false;
    }
    String p = path;
    while (p.length() > 1 && p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    if (EXACT.contains(p)) {
      return true;
    }
    String[] parts = p.substring(1).split("/", -1);
    for (String s : parts) {
      if (s.isEmpty() || s.equals("..") || s.equals(".")) {
        return false;
      }
    }
    return ("api".equals(parts[0]) && parts.length == 2)
        || ("apis".equals(parts[0]) && (parts.length == 2 || parts.length == 3));
  }

  @Override
  public Decision authorize(RequestAttributes a) {
    return !a.resourceRequest() && isDiscovery(a.verb(), a.path())
        ? Decision.ALLOW
        : Decision.NO_OPINION;
  }
}
