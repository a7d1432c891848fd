package io.kedge.keadm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class CloudCoreValuesTest {
  static final InstallLayout SYSTEM = InstallLayout.of(null);

  @Test
  void thePagesValuesTurnOnTheGateAndTheDynamicController() {
    var r =
        CloudCoreValues.build(
            List.of(
                "cloudCore.modules.dynamicController.enable=true,cloudCore.featureGates.requireAuthorization=true"),
            List.of("10.1.2.3"),
            SYSTEM);
    assertThat(r.config().requireAuthorization()).isTrue();
    assertThat(r.config().modules().dynamicController().enable()).isTrue();
    assertThat(r.config().modules().cloudHub().advertiseAddress()).containsExactly("10.1.2.3");
    assertThat(r.yaml())
        .contains("apiVersion: \"cloudcore.config.kubeedge.io/v1alpha2\"")
        .contains("requireAuthorization: true");
    assertThat(r.tree().at("/modules/dynamicController/enable").asBoolean()).isTrue();
  }

  @Test
  void repeatedSetsApplyInOrder() {
    var r =
        CloudCoreValues.build(
            List.of(
                "cloudCore.modules.cloudHub.websocket.port=20000",
                "cloudCore.modules.cloudHub.https.port=20002",
                "cloudCore.modules.cloudHub.websocket.port=20001"),
            List.of("127.0.0.1"),
            SYSTEM);
    assertThat(r.config().modules().cloudHub().websocket().port()).isEqualTo(20001);
    assertThat(r.config().modules().cloudHub().https().port()).isEqualTo(20002);
  }

  @Test
  void withoutSetsTheGateIsOff() {
    var r = CloudCoreValues.build(List.of(), List.of("127.0.0.1"), SYSTEM);
    assertThat(r.config().requireAuthorization()).isFalse();
    assertThat(r.config().modules().dynamicController().enable()).isFalse();
    assertThat(r.notices()).isEmpty();
  }

  @Test
  void chartOnlyValuesAreReportedAndIgnored() {
    var r =
        CloudCoreValues.build(
            List.of("cloudCore.image.tag=v1.17.0,iptablesManager.enable=false"),
            List.of("127.0.0.1"),
            SYSTEM);
    assertThat(r.notices()).hasSize(2);
    assertThat(r.notices().get(0)).contains("cloudCore.image.tag").contains("ignored");
    assertThat(r.yaml()).doesNotContain("image");
  }

  @Test
  void unknownPathsAndBadValuesAreErrors() {
    assertThatThrownBy(
            () ->
                CloudCoreValues.build(
                    List.of("cloudCore.modules.dynamicControler.enable=true"),
                    List.of("127.0.0.1"),
                    SYSTEM))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dynamicControler");
    assertThatThrownBy(
            () ->
                CloudCoreValues.build(
                    List.of("modules.dynamicController.enable=true"), List.of("127.0.0.1"), SYSTEM))
        .hasMessageContaining("unknown value path");
    assertThatThrownBy(
            () ->
                CloudCoreValues.build(
                    List.of("cloudCore.featureGates.requireAuthorization=yes"),
                    List.of("127.0.0.1"),
                    SYSTEM))
        .hasMessageContaining("true or false");
    assertThatThrownBy(
            () ->
                CloudCoreValues.build(
                    List.of("cloudCore.modules.cloudHub.websocket.port=many"),
                    List.of("127.0.0.1"),
                    SYSTEM))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CloudCoreValues.build(List.of(), List.of("example.com"), SYSTEM))
        .hasMessageContaining("not an IP address");
  }

  @Test
  void rootDirMovesCloudcoresFiles() {
    var r =
        CloudCoreValues.build(List.of(), List.of("127.0.0.1"), InstallLayout.of(Path.of("/tmp/x")));
    assertThat(r.config().modules().cloudHub().tlsCAFile())
        .isEqualTo("/tmp/x/etc/kubeedge/ca/rootCA.crt");
    assertThat(r.config().modules().cloudHub().unixsocket().address())
        .isEqualTo("unix:///tmp/x/var/lib/kubeedge/kubeedge.sock");
  }
}
