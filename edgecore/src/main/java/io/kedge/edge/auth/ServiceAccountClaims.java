package io.kedge.edge.auth;

import java.time.Instant;
import java.util.List;

/**
 * The verified claims of a service-account token: the registered claims and the {@code
 * kubernetes.io} private claim (namespace, service account, and the pod or secret the token is
 * bound to).
 *
 * @param issuer {@code iss}
 * @param subject {@code sub} ({@code system:serviceaccount:<ns>:<name>})
 * @param audiences {@code aud}
 * @param expiresAt {@code exp}
 * @param notBefore {@code nbf}, or null
 * @param issuedAt {@code iat}, or null
 * @param namespace {@code kubernetes.io.namespace}
 * @param serviceAccountName {@code kubernetes.io.serviceaccount.name}
 * @param serviceAccountUid {@code kubernetes.io.serviceaccount.uid}
 * @param podName {@code kubernetes.io.pod.name}, or empty when not bound to a pod
 * @param podUid {@code kubernetes.io.pod.uid}, or empty
 * @param secretName {@code kubernetes.io.secret.name}, or empty when not bound to a secret
 * @param secretUid {@code kubernetes.io.secret.uid}, or empty
 */
public record ServiceAccountClaims(
    String issuer,
    String subject,
    List<String> audiences,
    Instant expiresAt,
    Instant notBefore,
    Instant issuedAt,
    String namespace,
    String serviceAccountName,
    String serviceAccountUid,
    String podName,
    String podUid,
    String secretName,
    String secretUid) {

  public ServiceAccountClaims {
    audiences = List.copyOf(audiences);
  }

  public boolean boundToPod() {
    return !podName.isEmpty();
  }

  public boolean boundToSecret() {
    return !secretName.isEmpty();
  }

  public UserInfo userInfo() {
    return UserInfo.serviceAccount(
        namespace, serviceAccountName, serviceAccountUid, podName, podUid);
  }
}
