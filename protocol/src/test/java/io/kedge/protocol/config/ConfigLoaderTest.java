package io.kedge.protocol.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.protocol.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

class ConfigLoaderTest {

  @Test
  void defaultsAreKubeEdges() {
    CloudCoreConfig c = CloudCoreConfig.defaults();
    assertThat(c.modules().cloudHub().websocket().port()).isEqualTo(10000);
    assertThat(c.modules().cloudHub().https().port()).isEqualTo(10002);
    assertThat(c.modules().cloudHub().keepaliveInterval()).isEqualTo(30);
    assertThat(c.modules().cloudHub().nodeLimit()).isEqualTo(500);
    assertThat(c.modules().dynamicController().enable()).isFalse();
    assertThat(c.modules().dynamicController().identity()).isEqualTo("pod");
    assertThat(c.requireAuthorization()).isFalse();
    EdgeCoreConfig e = EdgeCoreConfig.defaults();
    assertThat(e.modules().metaManager().metaServer().server()).isEqualTo("127.0.0.1:10550");
    assertThat(e.modules().metaManager().metaServer().dummyServer())
        .isEqualTo("169.254.30.10:10550");
    assertThat(e.modules().edgeHub().heartbeat()).isEqualTo(15);
    assertThat(e.database().dataSource()).isEqualTo("/var/lib/kubeedge/edgecore.db");
  }

  @Test
  void fileMergesOverDefaultsAndWarnsAboutUnknownKeys(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("cloudcore.yaml");
    Files.writeString(
        f,
        "apiVersion: cloudcore.config.kubeedge.io/v1alpha2\n"
            + "kind: CloudCore\n"
            + "featureGates: {requireAuthorization: true}\n"
            + "modules:\n"
            + "  cloudHub:\n"
            + "    advertiseAddress: [10.0.0.1]\n"
            + "    websocket: {port: 20000}\n"
            + "  dynamicController: {enable: true}\n"
            + "  someModule: {enable: true}\n");
    var loaded = CloudCoreConfig.load(f, List.of());
    CloudCoreConfig c = loaded.config();
    assertThat(c.requireAuthorization()).isTrue();
    assertThat(c.modules().cloudHub().advertiseAddress()).containsExactly("10.0.0.1");
    assertThat(c.modules().cloudHub().websocket().port()).isEqualTo(20000);
    assertThat(c.modules().cloudHub().websocket().address()).isEqualTo("0.0.0.0");
    assertThat(c.modules().dynamicController().enable()).isTrue();
    // unset unless written: cloudcore tells it apart from an explicit value
    assertThat(c.modules().dynamicController().tokenlessIdentity()).isEmpty();
    assertThat(loaded.warnings())
        .containsExactly("unknown setting 'modules.someModule' is ignored");
  }

  @Test
  void setOverridesInHelmSyntax() {
    var c =
        CloudCoreConfig.load(
                null,
                List.of(
                    "modules.dynamicController.enable=true,featureGates.requireAuthorization=true",
                    "modules.cloudHub.advertiseAddress[0]=192.168.1.2",
                    "modules.cloudHub.dnsNames={a.example,b.example}",
                    "modules.cloudHub.nodeLimit=7"))
            .config();
    assertThat(c.modules().dynamicController().enable()).isTrue();
    assertThat(c.requireAuthorization()).isTrue();
    assertThat(c.modules().cloudHub().advertiseAddress()).containsExactly("192.168.1.2");
    assertThat(c.modules().cloudHub().dnsNames()).containsExactly("a.example", "b.example");
    assertThat(c.modules().cloudHub().nodeLimit()).isEqualTo(7);
  }

  @Test
  void badInputNamesTheProblem(@TempDir Path dir) throws Exception {
    assertThatThrownBy(() -> CloudCoreConfig.load(dir.resolve("nope.yaml"), List.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("does not exist");
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "modules: [unclosed\n");
    assertThatThrownBy(() -> CloudCoreConfig.load(bad, List.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("not valid YAML");
    Path wrongType = dir.resolve("wrong.yaml");
    Files.writeString(wrongType, "modules:\n  cloudHub:\n    nodeLimit: lots\n");
    assertThatThrownBy(() -> CloudCoreConfig.load(wrongType, List.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(wrongType.toString());
    assertThatThrownBy(() -> CloudCoreConfig.load(null, List.of("novalue")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("key=value");
  }

  /**
   * The records are read as Jackson's mapper bound them before: the same values for the defaults
   * and for files that write numbers as strings, leave keys out or set them null.
   */
  @Test
  void recordsReadAsTheMapperBoundThem() {
    List<String> edgeFiles =
        List.of(
            "",
            "modules:\n  edgeHub:\n    heartbeat: '20'\n    token: 12345\n"
                + "  edged:\n    nodeLabels: {a: b, c: '1'}\n    hostnameOverride: null\n"
                + "featureGates: {requireAuthorization: true}\n",
            "modules:\n  metaManager:\n    metaServer:\n      apiAudiences: [x, y]\n"
                + "      maxRequestBytes: 12345678901\n      serviceAccountIssuers: []\n"
                + "database: null\n");
    for (String yaml : edgeFiles) {
      ObjectNode tree = ConfigLoader.defaults(EdgeCoreConfig.DEFAULTS);
      JsonNode user = ConfigLoader.parseYaml(yaml);
      if (user instanceof ObjectNode u) {
        ConfigLoader.merge(tree, u);
      }
      assertThat(ConfigLoader.toRecord(EdgeCoreConfig.class, tree.deepCopy(), null))
          .as(yaml)
          .isEqualTo(Json.mapper().treeToValue(tree, EdgeCoreConfig.class));
    }
    ObjectNode cloud = ConfigLoader.defaults(CloudCoreConfig.DEFAULTS);
    ConfigLoader.merge(
        cloud,
        (ObjectNode)
            ConfigLoader.parseYaml(
                "modules:\n  cloudHub:\n    advertiseAddress: [10.0.0.1]\n    nodeLimit: '9'\n"));
    assertThat(ConfigLoader.toRecord(CloudCoreConfig.class, cloud.deepCopy(), null))
        .isEqualTo(Json.mapper().treeToValue(cloud, CloudCoreConfig.class));
  }

  @Test
  void aValueOfTheWrongKindNamesItsKey() {
    ObjectNode tree = ConfigLoader.defaults(EdgeCoreConfig.DEFAULTS);
    ConfigLoader.merge(
        tree, (ObjectNode) ConfigLoader.parseYaml("modules:\n  edgeHub:\n    heartbeat: often\n"));
    assertThatThrownBy(() -> ConfigLoader.toRecord(EdgeCoreConfig.class, tree, Path.of("e.yaml")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("e.yaml: modules.edgeHub.heartbeat must be an integer, not 'often'");
    ObjectNode list = ConfigLoader.defaults(EdgeCoreConfig.DEFAULTS);
    ConfigLoader.merge(
        list,
        (ObjectNode)
            ConfigLoader.parseYaml(
                "modules:\n  metaManager:\n    metaServer:\n      apiAudiences: {a: 1}\n"));
    assertThatThrownBy(() -> ConfigLoader.toRecord(EdgeCoreConfig.class, list, null))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "configuration: modules.metaManager.metaServer.apiAudiences must be a list, not a map");
    ObjectNode nullInt = ConfigLoader.defaults(EdgeCoreConfig.DEFAULTS);
    ConfigLoader.merge(
        nullInt, (ObjectNode) ConfigLoader.parseYaml("modules:\n  edged:\n    maxPods: null\n"));
    assertThatThrownBy(() -> Json.mapper().treeToValue(nullInt, EdgeCoreConfig.class))
        .as("as before")
        .isInstanceOf(tools.jackson.core.JacksonException.class);
    assertThatThrownBy(() -> ConfigLoader.toRecord(EdgeCoreConfig.class, nullInt, null))
        .isInstanceOf(ConfigException.class)
        .hasMessage("configuration: modules.edged.maxPods must be a number, not null");
  }
}
