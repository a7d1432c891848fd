package io.kedge.cloud.authz;

import java.util.List;
import java.util.Map;

/**
 * Who a verified pod-bound ServiceAccount token stands for.
 *
 * @param username {@code system:serviceaccount:<ns>:<sa>}
 * @param uid the ServiceAccount's UID (as the TokenReview reports it)
 * @param groups groups of the user
 * @param extra extra user attributes (pod name and UID among them)
 * @param namespace the ServiceAccount's (and pod's) namespace
 * @param serviceAccount the ServiceAccount's name
 * @param podName the pod the token is bound to
 * @param podUid that pod's UID
 */
public record PodTokenIdentity(
    String username,
    String uid,
    List<String> groups,
    Map<String, List<String>> extra,
    String namespace,
    String serviceAccount,
    String podName,
    String podUid) {

  public PodTokenIdentity {
    groups = groups == null ? List.of() : List.copyOf(groups);
    extra = extra == null ? Map.of() : Map.copyOf(extra);
  }

  public String pod() {
    return namespace + "/" + podName;
  }

  public Subject subject() {
    return new Subject(username, groups, uid, extra);
  }
}
