package io.kedge.cloud.policy;

import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.util.List;

/**
 * A service account as the apiserver authenticates it — {@code system:serviceaccount:<ns>:<name>}
 * in the groups {@code system:serviceaccounts}, {@code system:serviceaccounts:<ns>} and {@code
 * system:authenticated} — and whether an RBAC subject names it.
 */
public record ServiceAccountUser(String namespace, String name) {

  public String userName() {
    return "system:serviceaccount:" + namespace + ":" + name;
  }

  public List<String> groups() {
    return List.of(
        "system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated");
  }

  /**
   * @param bindingNamespace the RoleBinding's namespace (the default for a ServiceAccount subject
   *     without one), or empty for a ClusterRoleBinding
   */
  public boolean matches(Subject s, String bindingNamespace) {
    if (s == null || s.getKind() == null) {
      return false;
    }
    return switch (s.getKind()) {
      case "User" -> userName().equals(s.getName());
      case "Group" -> groups().contains(s.getName());
      case "ServiceAccount" -> {
        String ns =
            s.getNamespace() == null || s.getNamespace().isEmpty()
                ? bindingNamespace
                : s.getNamespace();
        yield ns != null && !ns.isEmpty() && namespace.equals(ns) && name.equals(s.getName());
      }
      default -> false;
    };
  }

  public boolean matchesAny(List<Subject> subjects, String bindingNamespace) {
    if (subjects == null) {
      return false;
    }
    for (Subject s : subjects) {
      if (matches(s, bindingNamespace)) {
        return true;
      }
    }
    return false;
  }
}
