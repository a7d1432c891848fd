package io.kedge.protocol.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * KubeEdge's page writes modules.metaServer; edgecore.yaml's key is modules.metaManager.metaServer.
 */
class ConfigAliasTest {

  @Test
  void thePagesMetaServerKeyIsReadAsTheRealOneWithAWarning(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("edgecore.yaml");
    Files.writeString(
        f,
        "featureGates:\n"
            + "  requireAuthorization: true\n"
            + "modules:\n"
            + "  metaManager:\n"
            + "    metaServer:\n"
            + "      enable: false\n"
            + "      server: 127.0.0.1:10551\n"
            + "  metaServer:\n"
            + "    enable: true\n");
    var loaded = EdgeCoreConfig.load(f, List.of());
    var meta = loaded.config().modules().metaManager().metaServer();
    assertThat(meta.enable()).isTrue();
    assertThat(meta.server()).isEqualTo("127.0.0.1:10551");
    assertThat(loaded.config().requireAuthorization()).isTrue();
    assertThat(loaded.warnings())
        .containsExactly(
            "'modules.metaServer' is not a key of its own; read as 'modules.metaManager.metaServer'");
    assertThat(loaded.tree().path("modules").has("metaServer")).isFalse();
  }

  @Test
  void setOverridesFollowTheAliasToo() {
    var loaded = EdgeCoreConfig.load(null, List.of("modules.metaServer.enable=true"));
    assertThat(loaded.config().modules().metaManager().metaServer().enable()).isTrue();
    assertThat(loaded.warnings())
        .singleElement()
        .asString()
        .contains("read as 'modules.metaManager.metaServer'");
  }

  @Test
  void theRealKeyAloneGivesNoWarning(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("edgecore.yaml");
    Files.writeString(f, "modules:\n  metaManager:\n    metaServer:\n      enable: true\n");
    var loaded = EdgeCoreConfig.load(f, List.of());
    assertThat(loaded.config().modules().metaManager().metaServer().enable()).isTrue();
    assertThat(loaded.warnings()).isEmpty();
  }

  @Test
  void cloudcoreConfigLoadsFromText() {
    var loaded =
        CloudCoreConfig.loadText(
            "featureGates: {requireAuthorization: true}\nmodules: {dynamicController: {enable: true}}\n",
            "ConfigMap kubeedge/cloudcore",
            List.of());
    assertThat(loaded.config().requireAuthorization()).isTrue();
    assertThat(loaded.config().modules().dynamicController().enable()).isTrue();
    assertThat(loaded.config().modules().cloudHub().websocket().port()).isEqualTo(10000);
    assertThatThrownBy(
            () -> CloudCoreConfig.loadText("a: [", "ConfigMap kubeedge/cloudcore", List.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("ConfigMap kubeedge/cloudcore is not valid YAML");
  }
}
