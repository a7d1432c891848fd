package io.kedge.edge.auth;

import tools.jackson.databind.JsonNode;

/**
 * A binding subject ({@code User}, {@code Group} or {@code ServiceAccount}) and whether it names a
 * user, as RBAC decides it.
 */
public record RbacSubject(String kind, String name, String namespace) {

  public RbacSubject {
    kind = kind == null ? "" : kind;
    name = name == null ? "" : name;
    namespace = namespace == null ? "" : namespace;
  }

  public static RbacSubject fromJson(JsonNode n) {
    return new RbacSubject(text(n, "kind"), text(n, "name"), text(n, "namespace"));
  }

  /**
   * @param bindingNamespace the RoleBinding's namespace (a ServiceAccount subject without one
   *     defaults to it), or empty for a ClusterRoleBinding
   */
  public boolean appliesTo(UserInfo user, String bindingNamespace) {
    switch (kind) {
      case "User":
        return user.name().equals(name);
      case "Group":
        return user.groups().contains(name);
      case "ServiceAccount":
        String ns = namespace.isEmpty() ? bindingNamespace : namespace;
        return !ns.isEmpty() && user.isServiceAccount(ns, name);
      default:
        return false;
    }
  }

  private static String text(JsonNode n, String f) {
    JsonNode v = n.get(f);
    return v != null && v.isString() ? v.stringValue() : "";
  }
}
