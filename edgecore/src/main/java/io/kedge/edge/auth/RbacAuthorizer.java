package io.kedge.edge.auth;

import java.util.Collection;
import java.util.function.Supplier;

/**
 * Kubernetes RBAC over the ServiceAccountAccess objects synced to this node: a request is allowed
 * when a rule of a ClusterRoleBinding that applies to the user allows it, or — for namespaced
 * requests — a rule of a RoleBinding in the request's namespace that applies to the user. Nothing
 * else grants anything (no built-in roles at the edge).
 */
public final class RbacAuthorizer implements Authorizer {

  private final Supplier<? extends Collection<ServiceAccountAccess>> policies;

  /**
   * @param policies the current objects; called once per decision, so keep it cheap
   */
  public RbacAuthorizer(Supplier<? extends Collection<ServiceAccountAccess>> policies) {
    this.policies = policies;
  }

  @Override
  public Decision authorize(RequestAttributes a) {
    Collection<ServiceAccountAccess> all = policies.get();
    for (ServiceAccountAccess saa : all) {
      for (RbacBinding b : saa.clusterRoleBindings()) {
        if (grants(b, a)) {
          return Decision.ALLOW;
        }
      }
    }
    if (!a.namespace().isEmpty()) {
      for (ServiceAccountAccess saa : all) {
        for (RbacBinding b : saa.roleBindings()) {
          if (b.namespace().equals(a.namespace()) && grants(b, a)) {
            return Decision.ALLOW;
          }
        }
      }
    }
    return Decision.NO_OPINION;
  }

  private static boolean grants(RbacBinding b, RequestAttributes a) {
    if (!b.appliesTo(a.user())) {
      return false;
    }
    for (PolicyRule r : b.rules()) {
      if (r.allows(a)) {
        return true;
      }
    }
    return false;
  }
}
