package io.kedge.protocol.message;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ResourcePathTest {

  @Test
  void namespacedObject() {
    ResourcePath p = ResourcePath.parse("demo/configmap/cfg1");
    assertThat(p.namespace()).isEqualTo("demo");
    assertThat(p.type()).isEqualTo("configmap");
    assertThat(p.name()).isEqualTo("cfg1");
    assertThat(p.canonical()).isEqualTo("demo/configmap/cfg1");
  }

  @Test
  void clusterScopeInAllThreeForms() {
    for (String s :
        new String[] {"null/node/edge-1", "default/node/edge-1", "namespace/node/edge-1"}) {
      ResourcePath p = ResourcePath.parse(s);
      assertThat(p.clusterScoped()).as(s).isTrue();
      assertThat(p.type()).isEqualTo("node");
      assertThat(p.name()).isEqualTo("edge-1");
      assertThat(p.canonical()).isEqualTo("null/node/edge-1");
      assertThat(p.raw()).isEqualTo(s);
    }
  }

  @Test
  void defaultNamespaceStaysForNamespacedTypes() {
    assertThat(ResourcePath.parse("default/pod/x").namespace()).isEqualTo("default");
  }

  @Test
  void specialResources() {
    assertThat(ResourcePath.parse("k8s/ca.crt").type()).isEqualTo("ca.crt");
    assertThat(ResourcePath.parse("node").type()).isEmpty();
    assertThat(ResourcePath.parse("demo/pod").hasName()).isFalse();
    assertThat(ResourcePath.parse("a/b/c/d").name()).isEqualTo("c/d");
  }
}
