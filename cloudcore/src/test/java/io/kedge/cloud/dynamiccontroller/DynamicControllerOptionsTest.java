package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.config.ConfigException;
import java.util.List;
import org.junit.jupiter.api.Test;

class DynamicControllerOptionsTest {

  @Test
  void defaultsArePodIdentityAndTokenlessByExchange() {
    CloudCoreConfig c = CloudCoreConfig.defaults();
    DynamicControllerOptions o = DynamicControllerOptions.from(c.modules().dynamicController());
    assertThat(o.identity()).isEqualTo(DynamicControllerOptions.Identity.POD);
    assertThat(o.tokenlessIdentity()).isEqualTo(DynamicControllerOptions.Tokenless.BY_EXCHANGE);
    assertThat(o).isEqualTo(DynamicControllerOptions.defaults());
    // Kedge edges never get cloudcore's rights by default
    assertThat(o.allowsCloudCoreIdentity()).isFalse();
  }

  @Test
  void anExplicitNodeIsNotTheDefault() {
    DynamicControllerOptions o =
        DynamicControllerOptions.from(
            CloudCoreConfig.load(null, List.of("modules.dynamicController.tokenlessIdentity=node"))
                .config()
                .modules()
                .dynamicController());
    assertThat(o.tokenlessIdentity()).isEqualTo(DynamicControllerOptions.Tokenless.NODE);
  }

  @Test
  void theUnsetValueCannotBeWritten() {
    CloudCoreConfig c =
        CloudCoreConfig.load(
                null, List.of("modules.dynamicController.tokenlessIdentity=by_exchange"))
            .config();
    assertThatThrownBy(() -> DynamicControllerOptions.from(c.modules().dynamicController()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("is not one of node, deny, cloudcore");
  }

  @Test
  void valuesFromCloudcoreYaml() {
    CloudCoreConfig c =
        CloudCoreConfig.load(
                null,
                List.of(
                    "modules.dynamicController.identity=Node,modules.dynamicController.tokenlessIdentity=cloudcore"))
            .config();
    DynamicControllerOptions o = DynamicControllerOptions.from(c.modules().dynamicController());
    assertThat(o.identity()).isEqualTo(DynamicControllerOptions.Identity.NODE);
    assertThat(o.tokenlessIdentity()).isEqualTo(DynamicControllerOptions.Tokenless.CLOUDCORE);
    // tokenless=cloudcore only matters in pod mode
    assertThat(o.allowsCloudCoreIdentity()).isFalse();
    assertThat(
            o.withIdentity(DynamicControllerOptions.Identity.POD, o.tokenlessIdentity())
                .allowsCloudCoreIdentity())
        .isTrue();
  }

  @Test
  void unknownValueNamesTheKey() {
    CloudCoreConfig c =
        CloudCoreConfig.load(null, List.of("modules.dynamicController.identity=admin")).config();
    assertThatThrownBy(() -> DynamicControllerOptions.from(c.modules().dynamicController()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("modules.dynamicController.identity")
        .hasMessageContaining("admin");
  }
}
