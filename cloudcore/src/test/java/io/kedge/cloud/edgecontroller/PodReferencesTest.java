package io.kedge.cloud.edgecontroller;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import org.junit.jupiter.api.Test;

class PodReferencesTest {
  @Test
  void findsEveryKindOfReference() {
    String pod =
        """
        {"metadata":{"name":"p","namespace":"ns"},
         "spec":{
          "volumes":[{"name":"a","configMap":{"name":"cm-vol"}},
                     {"name":"b","secret":{"secretName":"sec-vol"}},
                     {"name":"c","projected":{"sources":[{"configMap":{"name":"kube-root-ca.crt"}},
                                                          {"secret":{"name":"sec-proj"}},
                                                          {"serviceAccountToken":{"path":"token"}}]}},
                     {"name":"d","emptyDir":{}}],
          "initContainers":[{"name":"i","envFrom":[{"configMapRef":{"name":"cm-init"}}]}],
          "containers":[{"name":"c","env":[{"name":"A","valueFrom":{"configMapKeyRef":{"name":"cm-env","key":"k"}}},
                                          {"name":"B","valueFrom":{"secretKeyRef":{"name":"sec-env","key":"k"}}},
                                          {"name":"C","value":"plain"}],
                        "envFrom":[{"secretRef":{"name":"sec-from"}}]}],
          "imagePullSecrets":[{"name":"pull"}]}}
        """;
    assertThat(PodReferences.of(Json.parse(pod)))
        .containsExactlyInAnyOrder(
            "configmap/ns/cm-vol",
            "configmap/ns/kube-root-ca.crt",
            "configmap/ns/cm-init",
            "configmap/ns/cm-env",
            "secret/ns/sec-vol",
            "secret/ns/sec-proj",
            "secret/ns/sec-env",
            "secret/ns/sec-from",
            "secret/ns/pull");
  }

  @Test
  void podWithoutReferencesHasNone() {
    assertThat(PodReferences.of(Json.parse("{\"metadata\":{\"namespace\":\"x\"},\"spec\":{}}")))
        .isEmpty();
  }
}
