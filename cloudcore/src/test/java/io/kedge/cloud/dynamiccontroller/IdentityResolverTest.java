package io.kedge.cloud.dynamiccontroller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.cloud.kube.ApiStatusException;
import io.kedge.protocol.application.Application;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/**
 * Whose rights a request without a pod token runs with: by default cloudcore's for an edge that
 * speaks KubeEdge's exchange (as on KubeEdge's cloud) and the node's for a Kedge edge; an explicit
 * {@code tokenlessIdentity} applies to both. Each node's identity is logged once.
 */
class IdentityResolverTest {
  final List<String> logged = new ArrayList<>();

  IdentityResolver resolver(DynamicControllerOptions.Tokenless tokenless) {
    return resolver(DynamicControllerOptions.Identity.POD, tokenless);
  }

  IdentityResolver resolver(
      DynamicControllerOptions.Identity id, DynamicControllerOptions.Tokenless tokenless) {
    return new IdentityResolver(
        DynamicControllerOptions.defaults().withIdentity(id, tokenless), null, null, logged::add);
  }

  static Application kubeEdge() {
    return SimulatedMetaServer.kubeEdgeApp("get", "/core/v1/configmaps/demo/cfg1", "{}", null, "");
  }

  static Application kedgeWithoutToken() {
    return SimulatedMetaServer.kedge(
        "GET", "/api/v1/namespaces/demo/configmaps/cfg1", "", "", null, null);
  }

  static Caller caller(IdentityResolver r, String node, Application app) {
    return r.resolve(node, app).join();
  }

  @Test
  void byDefaultKubeEdgeEdgesRunAsCloudcoreAndKedgeEdgesAsTheNode() {
    IdentityResolver r = resolver(DynamicControllerOptions.defaults().tokenlessIdentity());
    assertThat(caller(r, "kube-1", kubeEdge())).isEqualTo(new Caller.CloudCore());
    assertThat(caller(r, "kedge-1", kedgeWithoutToken())).isEqualTo(new Caller.Node("kedge-1"));
    // once per node, however many requests
    caller(r, "kube-1", kubeEdge());
    caller(r, "kedge-1", kedgeWithoutToken());
    assertThat(logged)
        .containsExactly(
            "node kube-1 speaks KubeEdge's exchange (no pod tokens): its requests run as"
                + " cloudcore (modules.dynamicController.tokenlessIdentity unset; set it to node"
                + " to run them as system:node:kube-1)",
            "node kedge-1 speaks Kedge's exchange: requests with a pod token run as that pod's"
                + " ServiceAccount, those without run as system:node:kedge-1"
                + " (modules.dynamicController.tokenlessIdentity unset)");
    // a node that left is announced again when it is back
    r.forget("kube-1");
    caller(r, "kube-1", kubeEdge());
    assertThat(logged).hasSize(3);
  }

  @Test
  void anExplicitSettingAppliesToBothExchanges() {
    IdentityResolver node = resolver(DynamicControllerOptions.Tokenless.NODE);
    assertThat(caller(node, "kube-1", kubeEdge())).isEqualTo(new Caller.Node("kube-1"));
    assertThat(caller(node, "kedge-1", kedgeWithoutToken())).isEqualTo(new Caller.Node("kedge-1"));
    assertThat(logged.get(0))
        .isEqualTo(
            "node kube-1 speaks KubeEdge's exchange (no pod tokens): its requests run as"
                + " system:node:kube-1 (modules.dynamicController.tokenlessIdentity: node)");

    IdentityResolver cloudcore = resolver(DynamicControllerOptions.Tokenless.CLOUDCORE);
    assertThat(caller(cloudcore, "kedge-1", kedgeWithoutToken())).isEqualTo(new Caller.CloudCore());

    IdentityResolver deny = resolver(DynamicControllerOptions.Tokenless.DENY);
    assertThatThrownBy(() -> caller(deny, "kube-1", kubeEdge()))
        .isInstanceOf(CompletionException.class)
        .cause()
        .isInstanceOf(ApiStatusException.class)
        .hasMessageContaining("tokenlessIdentity: deny");
  }

  @Test
  void theIdentityModeOverridesTheExchange() {
    IdentityResolver node =
        resolver(
            DynamicControllerOptions.Identity.NODE, DynamicControllerOptions.Tokenless.BY_EXCHANGE);
    assertThat(caller(node, "kube-1", kubeEdge())).isEqualTo(new Caller.Node("kube-1"));
    assertThat(logged.get(0)).endsWith("(modules.dynamicController.identity: node)");
  }
}
