package io.kedge.edge.auth;

import java.util.List;
import java.util.Map;

/**
 * Who made a request, as Kubernetes names users: {@code system:serviceaccount:<ns>:<name>} with
 * groups {@code system:serviceaccounts}, {@code system:serviceaccounts:<ns>}, {@code
 * system:authenticated}; or {@code system:anonymous} in {@code system:unauthenticated}.
 *
 * @param name user name
 * @param uid user UID (the ServiceAccount's), or empty
 * @param groups group names
 * @param extra extra attributes (pod name/uid of a bound token)
 */
public record UserInfo(
    String name, String uid, List<String> groups, Map<String, List<String>> extra) {

  public static final String ANONYMOUS = "system:anonymous";
  public static final String UNAUTHENTICATED = "system:unauthenticated";
  public static final String AUTHENTICATED = "system:authenticated";
  public static final String SA_PREFIX = "system:serviceaccount:";
  public static final String SA_GROUP = "system:serviceaccounts";
  public static final String EXTRA_POD_NAME = "authentication.kubernetes.io/pod-name";
  public static final String EXTRA_POD_UID = "authentication.kubernetes.io/pod-uid";

  public UserInfo {
    uid = uid == null ? "" : uid;
    groups = List.copyOf(groups);
    extra = Map.copyOf(extra);
  }

  public static UserInfo anonymous() {
    return new UserInfo(ANONYMOUS, "", List.of(UNAUTHENTICATED), Map.of());
  }

  public static UserInfo serviceAccount(
      String namespace, String name, String uid, String podName, String podUid) {
    Map<String, List<String>> extra =
        podName == null || podName.isEmpty()
            ? Map.of()
            : Map.of(EXTRA_POD_NAME, List.of(podName), EXTRA_POD_UID, List.of(podUid));
    return new UserInfo(
        serviceAccountUser(namespace, name),
        uid,
        List.of(SA_GROUP, SA_GROUP + ":" + namespace, AUTHENTICATED),
        extra);
  }

  public static String serviceAccountUser(String namespace, String name) {
    return SA_PREFIX + namespace + ":" + name;
  }

  public boolean isAnonymous() {
    return ANONYMOUS.equals(name);
  }

  /** True when this is {@code system:serviceaccount:<namespace>:<name>}. */
  public boolean isServiceAccount(String namespace, String saName) {
    // Compared piecewise so no string is built on the authorization path.
    return name.length() == SA_PREFIX.length() + namespace.length() + 1 + saName.length()
        && name.startsWith(SA_PREFIX)
        && name.startsWith(namespace, SA_PREFIX.length())
        && name.charAt(SA_PREFIX.length() + namespace.length()) == ':'
        && name.endsWith(saName);
  }
}
