package io.kedge.edge.auth;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * A {@code ServiceAccountAccess} ({@code policy.kubeedge.io/v1alpha1}) as the cloud's
 * PolicyController sends it: one service account, its UID, and every RoleBinding and
 * ClusterRoleBinding that applies to it with the rules of the roles they refer to.
 *
 * @param namespace the object's (and the service account's) namespace
 * @param name the object's name
 * @param serviceAccountName {@code spec.serviceAccount.metadata.name}
 * @param serviceAccountUid {@code spec.serviceAccountUid}
 * @param roleBindings {@code spec.accessRoleBinding[]}
 * @param clusterRoleBindings {@code spec.accessClusterRoleBinding[]}
 */
public record ServiceAccountAccess(
    String namespace,
    String name,
    String serviceAccountName,
    String serviceAccountUid,
    List<RbacBinding> roleBindings,
    List<RbacBinding> clusterRoleBindings) {

  public static final String API_VERSION = "policy.kubeedge.io/v1alpha1";
  public static final String KIND = "ServiceAccountAccess";

  public ServiceAccountAccess {
    roleBindings = List.copyOf(roleBindings);
    clusterRoleBindings = List.copyOf(clusterRoleBindings);
  }

  /**
   * Reads the object; tolerant of missing parts (an absent list is empty).
   *
   * @throws IllegalArgumentException when it is not an object with a name
   */
  public static ServiceAccountAccess fromJson(JsonNode obj) {
    if (obj == null || !obj.isObject()) {
      throw new IllegalArgumentException("ServiceAccountAccess is not an object");
    }
    JsonNode meta = obj.path("metadata");
    String ns = meta.path("namespace").asString("");
    String name = meta.path("name").asString("");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("ServiceAccountAccess has no name");
    }
    JsonNode spec = obj.path("spec");
    JsonNode sa = spec.path("serviceAccount");
    String saName = sa.path("metadata").path("name").asString("");
    String saUid = spec.path("serviceAccountUid").asString("");
    if (saUid.isEmpty()) {
      saUid = sa.path("metadata").path("uid").asString("");
    }
    List<RbacBinding> rbs = new ArrayList<>();
    for (JsonNode e : spec.path("accessRoleBinding")) {
      RbacBinding b = RbacBinding.fromJson(e.get("roleBinding"), e.get("rules"), false);
      // A RoleBinding grants only in its own namespace; a missing one is the object's namespace.
      rbs.add(b.namespace().isEmpty() ? new RbacBinding(b.name(), ns, b.subjects(), b.rules()) : b);
    }
    List<RbacBinding> crbs = new ArrayList<>();
    for (JsonNode e : spec.path("accessClusterRoleBinding")) {
      crbs.add(RbacBinding.fromJson(e.get("clusterRoleBinding"), e.get("rules"), true));
    }
    return new ServiceAccountAccess(ns, name, saName.isEmpty() ? name : saName, saUid, rbs, crbs);
  }
}
