package io.kedge.keadm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.protocol.config.EdgeCoreConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EdgeCoreValuesTest {
  static final String TOKEN = "a".repeat(64) + ".eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln";

  static EdgeCoreValues.Join join(List<String> sets) {
    return new EdgeCoreValues.Join(
        "10.0.0.5:10000",
        List.of(10002),
        TOKEN,
        "edge-1",
        "10.0.0.9",
        null,
        null,
        null,
        Map.of(),
        KubeEdgeVersion.DEFAULT,
        sets);
  }

  @Test
  void writesTheCloudAddressesTokenAndNodeName() {
    var r = EdgeCoreValues.build(join(List.of()), InstallLayout.of(null));
    var hub = r.config().modules().edgeHub();
    assertThat(hub.websocket().server()).isEqualTo("10.0.0.5:10000");
    assertThat(hub.httpServer()).isEqualTo("https://10.0.0.5:10002");
    assertThat(hub.token()).isEqualTo(TOKEN);
    assertThat(r.config().nodeName()).isEqualTo("edge-1");
    assertThat(r.config().database().dataSource()).isEqualTo("/var/lib/kubeedge/edgecore.db");
    assertThat(r.yaml(KubeEdgeVersion.DEFAULT)).contains("edgecore.config.kubeedge.io/v1alpha2");
  }

  @Test
  void severalCloudcoresGiveTheHubAndTheTunnelEachOneOnceForItsHost() {
    var j =
        new EdgeCoreValues.Join(
            "10.0.0.5:10000,10.0.0.6:10000,10.0.0.6:10010",
            List.of(10002, 10002, 10012),
            TOKEN,
            "edge-1",
            "10.0.0.9",
            null,
            null,
            null,
            Map.of(),
            KubeEdgeVersion.DEFAULT,
            List.of());
    var r = EdgeCoreValues.build(j, InstallLayout.of(null));
    assertThat(r.config().modules().edgeHub().websocket().server())
        .isEqualTo("10.0.0.5:10000,10.0.0.6:10000,10.0.0.6:10010");
    assertThat(r.config().modules().edgeStream().server())
        .isEqualTo("10.0.0.5:10004,10.0.0.6:10004");
    // one cloudcore: as KubeEdge's join writes it
    assertThat(
            EdgeCoreValues.build(join(List.of()), InstallLayout.of(null))
                .config()
                .modules()
                .edgeStream()
                .server())
        .isEqualTo("10.0.0.5:10004");
  }

  @Test
  void rootDirMovesEveryPath(@TempDir Path root) {
    var r = EdgeCoreValues.build(join(List.of()), InstallLayout.of(root));
    var hub = r.config().modules().edgeHub();
    assertThat(hub.tlsCaFile()).isEqualTo(root + "/etc/kubeedge/ca/rootCA.crt");
    assertThat(hub.tlsCertFile()).isEqualTo(root + "/etc/kubeedge/certs/server.crt");
    assertThat(r.config().database().dataSource())
        .isEqualTo(root + "/var/lib/kubeedge/edgecore.db");
    assertThat(r.config().modules().edged().rootDirectory()).startsWith(root.toString());
    assertThat(r.config().modules().metaManager().metaServer().pkiDir())
        .isEqualTo(root + "/etc/kubeedge/pki/metaserver");
    assertThat(r.yaml(KubeEdgeVersion.DEFAULT)).doesNotContain(" /etc/", " /var/");
  }

  @Test
  void setsUseEdgecoreKeyPathsAndAcceptThePagesMetaServerKey() {
    var r =
        EdgeCoreValues.build(
            join(
                List.of(
                    "featureGates.requireAuthorization=true,modules.metaManager.metaServer.server=127.0.0.1:10551",
                    "modules.metaServer.enable=true")),
            InstallLayout.of(null));
    assertThat(r.config().requireAuthorization()).isTrue();
    assertThat(r.config().modules().metaManager().metaServer().enable()).isTrue();
    assertThat(r.config().modules().metaManager().metaServer().server())
        .isEqualTo("127.0.0.1:10551");
    assertThat(r.notices()).singleElement().asString().contains("modules.metaManager.metaServer");
    assertThat(r.tree().path("modules").has("metaServer")).isFalse();
  }

  @Test
  void unknownKeysAndBadValuesAreErrors() {
    assertThatThrownBy(
            () ->
                EdgeCoreValues.build(
                    join(List.of("modules.edgeHub.nope=1")), InstallLayout.of(null)))
        .hasMessageContaining("modules.edgeHub.nope");
    assertThatThrownBy(
            () ->
                EdgeCoreValues.build(
                    join(List.of("modules.edgeHub.heartbeat=often")), InstallLayout.of(null)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theWrittenFileLoadsAsEdgecoreConfig(@TempDir Path dir) throws Exception {
    var r =
        EdgeCoreValues.build(
            join(List.of("modules.metaManager.metaServer.enable=true")), InstallLayout.of(dir));
    Path f = dir.resolve("edgecore.yaml");
    JoinCommand.writeConfig(f, r.yaml(KubeEdgeVersion.DEFAULT));
    var loaded = EdgeCoreConfig.load(f, List.of());
    assertThat(loaded.warnings()).isEmpty();
    assertThat(loaded.config()).isEqualTo(r.config());
    assertThat(
            java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f)))
        .isEqualTo("rw-------");
  }
}
