package io.kedge.controlplane;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * Credentials of a ServiceAccount as a kubeconfig, so that programs under test (cloudcore above
 * all) talk to the apiserver with that account's rights and never as admin — otherwise no RBAC test
 * could ever fail.
 *
 * <p>The token comes from a Secret of type {@code kubernetes.io/service-account-token} that the
 * token controller fills: it does not expire, and it works on clusters that no longer create such
 * Secrets on their own.
 */
public final class ServiceAccountKubeconfig {
  private ServiceAccountKubeconfig() {}

  /** Ensures the ServiceAccount exists and returns a long-lived token for it. */
  public static String token(KubernetesClient admin, String namespace, String name) {
    if (admin.serviceAccounts().inNamespace(namespace).withName(name).get() == null) {
      admin
          .serviceAccounts()
          .inNamespace(namespace)
          .resource(
              new ServiceAccountBuilder()
                  .withNewMetadata()
                  .withName(name)
                  .withNamespace(namespace)
                  .endMetadata()
                  .build())
          .create();
    }
    String secretName = name + "-kubeconfig-token";
    var secrets = admin.secrets().inNamespace(namespace);
    if (secrets.withName(secretName).get() == null) {
      secrets
          .resource(
              new SecretBuilder()
                  .withNewMetadata()
                  .withName(secretName)
                  .withNamespace(namespace)
                  .addToAnnotations("kubernetes.io/service-account.name", name)
                  .endMetadata()
                  .withType("kubernetes.io/service-account-token")
                  .build())
          .create();
    }
    Secret filled =
        secrets
            .withName(secretName)
            .waitUntilCondition(
                s -> s != null && s.getData() != null && s.getData().get("token") != null,
                Duration.ofSeconds(60).toMillis(),
                TimeUnit.MILLISECONDS);
    return new String(
        Base64.getDecoder().decode(filled.getData().get("token")), StandardCharsets.UTF_8);
  }

  /** Writes a kubeconfig for the ServiceAccount and returns its path. */
  public static Path write(
      KubernetesClient admin,
      String namespace,
      String name,
      String server,
      String caPem,
      Path file) {
    String token = token(admin, namespace, name);
    Kubeconfigs.writeWithToken(
        file, server, caPem, token, "system:serviceaccount:" + namespace + ":" + name, namespace);
    return file;
  }
}
