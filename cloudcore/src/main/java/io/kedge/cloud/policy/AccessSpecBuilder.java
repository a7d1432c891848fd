package io.kedge.cloud.policy;

import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleRef;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.kedge.protocol.Json;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Builds the {@code spec} of a ServiceAccountAccess: the service account, its UID, and every
 * RoleBinding (in any namespace) and ClusterRoleBinding whose subjects name it — directly, or
 * through its groups — each with the rules of the role it refers to (none when the role is missing,
 * as RBAC then grants nothing). Entries are sorted so that an unchanged RBAC state always gives an
 * identical spec, and bindings carry only what decides (name, namespace, roleRef, subjects), so
 * unrelated metadata changes cause no update.
 */
final class AccessSpecBuilder {
  private final KubernetesSerialization ser;

  AccessSpecBuilder(KubernetesSerialization ser) {
    this.ser = ser;
  }

  ObjectNode spec(
      ServiceAccount sa,
      Collection<ClusterRoleBinding> clusterRoleBindings,
      Collection<RoleBinding> roleBindings,
      Function<String, ClusterRole> clusterRoles,
      BiFunction<String, String, Role> roles) {
    ServiceAccountUser user =
        new ServiceAccountUser(sa.getMetadata().getNamespace(), sa.getMetadata().getName());
    ObjectNode spec = Json.object();
    spec.set("serviceAccount", serviceAccount(sa));
    spec.put("serviceAccountUid", sa.getMetadata().getUid());

    List<ClusterRoleBinding> crbs = new ArrayList<>();
    for (ClusterRoleBinding b : clusterRoleBindings) {
      if (user.matchesAny(b.getSubjects(), "")) {
        crbs.add(b);
      }
    }
    crbs.sort(Comparator.comparing(b -> b.getMetadata().getName()));
    ArrayNode crbOut = spec.putArray("accessClusterRoleBinding");
    for (ClusterRoleBinding b : crbs) {
      ClusterRole role =
          "ClusterRole".equals(kind(b.getRoleRef()))
              ? clusterRoles.apply(name(b.getRoleRef()))
              : null;
      ObjectNode e = crbOut.addObject();
      e.set(
          "clusterRoleBinding",
          binding(
              "ClusterRoleBinding",
              b.getMetadata().getName(),
              null,
              b.getRoleRef(),
              b.getSubjects()));
      e.set("rules", rules(role == null ? null : role.getRules()));
    }

    List<RoleBinding> rbs = new ArrayList<>();
    for (RoleBinding b : roleBindings) {
      if (user.matchesAny(b.getSubjects(), b.getMetadata().getNamespace())) {
        rbs.add(b);
      }
    }
    rbs.sort(
        Comparator.comparing((RoleBinding b) -> b.getMetadata().getNamespace())
            .thenComparing(b -> b.getMetadata().getName()));
    ArrayNode rbOut = spec.putArray("accessRoleBinding");
    for (RoleBinding b : rbs) {
      String ns = b.getMetadata().getNamespace();
      List<PolicyRule> rules = null;
      if ("Role".equals(kind(b.getRoleRef()))) {
        Role r = roles.apply(ns, name(b.getRoleRef()));
        rules = r == null ? null : r.getRules();
      } else if ("ClusterRole".equals(kind(b.getRoleRef()))) {
        ClusterRole r = clusterRoles.apply(name(b.getRoleRef()));
        rules = r == null ? null : r.getRules();
      }
      ObjectNode e = rbOut.addObject();
      e.set(
          "roleBinding",
          binding("RoleBinding", b.getMetadata().getName(), ns, b.getRoleRef(), b.getSubjects()));
      e.set("rules", rules(rules));
    }
    return spec;
  }

  private JsonNode serviceAccount(ServiceAccount sa) {
    ObjectNode o = Json.object();
    o.put("apiVersion", "v1");
    o.put("kind", "ServiceAccount");
    ObjectNode m = o.putObject("metadata");
    m.put("name", sa.getMetadata().getName());
    m.put("namespace", sa.getMetadata().getNamespace());
    m.put("uid", sa.getMetadata().getUid());
    return o;
  }

  private JsonNode binding(
      String kind, String name, String namespace, RoleRef ref, List<Subject> subjects) {
    ObjectNode o = Json.object();
    o.put("apiVersion", "rbac.authorization.k8s.io/v1");
    o.put("kind", kind);
    ObjectNode m = o.putObject("metadata");
    m.put("name", name);
    if (namespace != null) {
      m.put("namespace", namespace);
    }
    o.set("roleRef", tree(ref));
    o.set("subjects", subjects == null ? Json.NODES.arrayNode() : tree(subjects));
    return o;
  }

  private ArrayNode rules(List<PolicyRule> rules) {
    ArrayNode out = Json.NODES.arrayNode();
    if (rules != null) {
      for (PolicyRule r : rules) {
        out.add(tree(r));
      }
    }
    return out;
  }

  private JsonNode tree(Object o) {
    return Json.parse(ser.asJson(o));
  }

  private static String kind(RoleRef r) {
    return r == null ? "" : r.getKind();
  }

  private static String name(RoleRef r) {
    return r == null ? "" : r.getName();
  }
}
