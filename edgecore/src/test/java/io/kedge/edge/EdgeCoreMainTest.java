package io.kedge.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import io.kedge.protocol.config.ConfigLoader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class EdgeCoreMainTest {
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return EdgeCoreMain.run(
        args,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void helpListsTheOptions() {
    assertThat(run("--help")).isZero();
    assertThat(out())
        .contains("--config=FILE")
        .contains("/etc/kubeedge/config/edgecore.yaml")
        .contains("--defaultconfig");
  }

  @Test
  void badFlagsAreOneLineAndExitTwo() {
    assertThat(run("--bogus")).isEqualTo(2);
    assertThat(err().lines()).hasSize(1);
    assertThat(err()).startsWith("edgecore: Unknown option: '--bogus'");
    err.reset();
    assertThat(run("--config")).isEqualTo(2);
    assertThat(err().lines()).hasSize(1);
    err.reset();
    assertThat(run("extra")).isEqualTo(2);
    assertThat(err().lines()).hasSize(1);
  }

  @Test
  void defaultConfigIsLoadableYaml() {
    assertThat(run("--defaultconfig")).isZero();
    JsonNode tree = ConfigLoader.parseYaml(out());
    assertThat(tree.path("apiVersion").asString())
        .isEqualTo("edgecore.config.kubeedge.io/v1alpha2");
    assertThat(tree.path("modules").path("edgeHub").path("heartbeat").asInt()).isEqualTo(15);
    assertThat(Json.string(tree)).contains("reconnectMaxDelay");
  }

  @Test
  void aMissingConfigFileIsOneClearError(@TempDir Path dir) {
    assertThat(run("--config", dir.resolve("nope.yaml").toString())).isEqualTo(1);
    assertThat(err().strip())
        .isEqualTo("edgecore: config file " + dir.resolve("nope.yaml") + " does not exist");
  }

  @Test
  void aConfigWithoutCloudAddressIsOneClearError(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("edgecore.yaml");
    Files.writeString(f, "modules:\n  edged:\n    hostnameOverride: edge-a\n");
    assertThat(run("--config", f.toString())).isEqualTo(1);
    assertThat(err().strip()).isEqualTo("edgecore: modules.edgeHub.websocket.server is not set");
  }

  @Test
  void anInvalidNodeNameIsRefused(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("edgecore.yaml");
    Files.writeString(
        f,
        "modules:\n  edged:\n    hostnameOverride: Edge_A\n  edgeHub:\n    websocket:\n      server: 127.0.0.1:1\n");
    assertThat(run("--config", f.toString())).isEqualTo(1);
    assertThat(err()).contains("'Edge_A' is not a valid Kubernetes node name");
  }
}
