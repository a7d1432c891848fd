package io.kedge.edge.auth;

/**
 * What a request asks to do, in Kubernetes' authorization terms ({@code authorizer.Attributes}).
 *
 * @param user who asks
 * @param verb get, list, watch, create, update, patch, delete, deletecollection (resource
 *     requests); the lower-case HTTP method for non-resource requests
 * @param resourceRequest true for {@code /api/...} and {@code /apis/...} object requests
 * @param apiGroup API group, empty for the core group
 * @param apiVersion API version
 * @param resource plural resource
 * @param subresource subresource, or empty
 * @param name object name, or empty
 * @param namespace namespace, or empty (cluster scope or all namespaces)
 * @param path the request path
 */
public record RequestAttributes(
    UserInfo user,
    String verb,
    boolean resourceRequest,
    String apiGroup,
    String apiVersion,
    String resource,
    String subresource,
    String name,
    String namespace,
    String path) {

  public RequestAttributes {
    verb = nz(verb);
    apiGroup = nz(apiGroup);
    apiVersion = nz(apiVersion);
    resource = nz(resource);
    subresource = nz(subresource);
    name = nz(name);
    namespace = nz(namespace);
    path = nz(path);
  }

  public static RequestAttributes resource(
      UserInfo user,
      String verb,
      String apiGroup,
      String apiVersion,
      String resource,
      String subresource,
      String namespace,
      String name) {
    return new RequestAttributes(
        user, verb, true, apiGroup, apiVersion, resource, subresource, name, namespace, "");
  }

  public static RequestAttributes nonResource(UserInfo user, String verb, String path) {
    return new RequestAttributes(user, verb, false, "", "", "", "", "", "", path);
  }

  public RequestAttributes withUser(UserInfo u) {
    return new RequestAttributes(
        u,
        verb,
        resourceRequest,
        apiGroup,
        apiVersion,
        resource,
        subresource,
        name,
        namespace,
        path);
  }

  /** {@code resource} or {@code resource/subresource}. */
  public String combinedResource() {
    return subresource.isEmpty() ? resource : resource + "/" + subresource;
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }
}
