package io.kedge.cloud.authz;

import java.util.List;
import java.util.Map;

/**
 * A user as the authorizer sees it.
 *
 * @param user user name
 * @param groups groups
 * @param uid user UID, or empty
 * @param extra extra attributes
 */
public record Subject(
    String user, List<String> groups, String uid, Map<String, List<String>> extra) {

  public Subject {
    groups = groups == null ? List.of() : List.copyOf(groups);
    uid = uid == null ? "" : uid;
    extra = extra == null ? Map.of() : Map.copyOf(extra);
  }

  /** {@code system:node:<node>} in {@code system:nodes}. */
  public static Subject node(String node) {
    return new Subject("system:node:" + node, List.of("system:nodes"), "", Map.of());
  }
}
