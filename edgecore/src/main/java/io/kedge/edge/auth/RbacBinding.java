package io.kedge.edge.auth;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * A RoleBinding (namespace non-empty) or ClusterRoleBinding (namespace empty) with the rules of the
 * role it refers to, as a ServiceAccountAccess carries them.
 */
public record RbacBinding(
    String name, String namespace, List<RbacSubject> subjects, List<PolicyRule> rules) {

  public RbacBinding {
    namespace = namespace == null ? "" : namespace;
    subjects = List.copyOf(subjects);
    rules = List.copyOf(rules);
  }

  public boolean clusterWide() {
    return namespace.isEmpty();
  }

  public boolean appliesTo(UserInfo user) {
    for (RbacSubject s : subjects) {
      if (s.appliesTo(user, namespace)) {
        return true;
      }
    }
    return false;
  }

  /**
   * @param binding a RoleBinding or ClusterRoleBinding object
   * @param rules the role's rules
   * @param clusterWide whether it is a ClusterRoleBinding (its namespace is then ignored)
   */
  static RbacBinding fromJson(JsonNode binding, JsonNode rules, boolean clusterWide) {
    JsonNode meta = binding == null ? null : binding.get("metadata");
    String name = meta == null ? "" : meta.path("name").asString("");
    String ns = clusterWide || meta == null ? "" : meta.path("namespace").asString("");
    List<RbacSubject> subjects = new ArrayList<>();
    JsonNode subs = binding == null ? null : binding.get("subjects");
    if (subs != null && subs.isArray()) {
      for (JsonNode s : subs) {
        subjects.add(RbacSubject.fromJson(s));
      }
    }
    List<PolicyRule> rs = new ArrayList<>();
    if (rules != null && rules.isArray()) {
      for (JsonNode r : rules) {
        rs.add(PolicyRule.fromJson(r));
      }
    }
    return new RbacBinding(name, ns, subjects, rs);
  }
}
