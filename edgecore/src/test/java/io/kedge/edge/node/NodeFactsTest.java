package io.kedge.edge.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeFactsTest {

  @Test
  void probesThisHost(@TempDir Path dir) {
    NodeFacts f = NodeFacts.probe(110, "process", dir.resolve("not/yet/there"));
    assertThat(Integer.parseInt(f.capacity().get("cpu"))).isPositive();
    assertThat(f.capacity().get("memory")).matches("[1-9][0-9]*Ki");
    assertThat(f.capacity().get("ephemeral-storage")).matches("[1-9][0-9]*Ki");
    assertThat(f.capacity().get("pods")).isEqualTo("110");
    assertThat(f.allocatable().get("ephemeral-storage")).matches("[1-9][0-9]*");
    assertThat(f.nodeInfo())
        .containsKeys(
            "machineID",
            "systemUUID",
            "bootID",
            "kernelVersion",
            "osImage",
            "containerRuntimeVersion",
            "kubeletVersion",
            "kubeProxyVersion",
            "operatingSystem",
            "architecture");
    assertThat(f.operatingSystem()).isEqualTo("linux");
    assertThat(f.architecture())
        .isIn("amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64");
  }

  @Test
  void mapsJvmArchitecturesToGoNames() {
    assertThat(NodeFacts.architecture("x86_64")).isEqualTo("amd64");
    assertThat(NodeFacts.architecture("aarch64")).isEqualTo("arm64");
  }
}
