package io.kedge.edge.metaserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kedge.protocol.Json;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** How MetaServer reads a request: query parameters, continue tokens, Accept, paths. */
class RequestParsingTest {
  @Test
  void queryBooleansAreCaseInsensitiveAsGosParseBool() {
    for (String t : new String[] {"1", "t", "T", "true", "True", "TRUE"}) {
      assertThat(QueryParams.parse("watch=" + t).bool("watch")).as(t).isTrue();
    }
    for (String f : new String[] {"0", "f", "F", "false", "False", "FALSE", ""}) {
      assertThat(QueryParams.parse("watch=" + f).bool("watch")).as(f).isFalse();
    }
    assertThatThrownBy(() -> QueryParams.parse("watch=yes").bool("watch"))
        .isInstanceOf(ApiException.class);
    assertThat(QueryParams.parse("fieldSelector=metadata.name%3Dx&a=%E2%9C%93+b").get("a"))
        .isEqualTo("✓ b");
  }

  @Test
  void continueTokensInTheApiserversFormat() {
    ContinueToken t = ContinueToken.after(123, "demo/c1");
    String s = t.encode();
    JsonNode raw = Json.parse(java.util.Base64.getUrlDecoder().decode(s));
    assertThat(raw.path("v").asString()).isEqualTo("meta.k8s.io/v1");
    assertThat(raw.path("rv").asLong()).isEqualTo(123);
    assertThat(raw.path("start").asString()).isEqualTo("demo/c1\u0000");
    ContinueToken back = ContinueToken.decode(s);
    assertThat(back).isEqualTo(t);
    assertThat(back.lastKey()).isEqualTo("demo/c1");
    // a token as Go's RawURLEncoding writes it for the apiserver
    String goToken =
        "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDcxLCJzdGFydCI6ImNhdC1kZW1vL2NtLTRcdTAwMDAifQ";
    ContinueToken g = ContinueToken.decode(goToken);
    assertThat(g.resourceVersion()).isEqualTo(471);
    assertThat(g.lastKey()).isEqualTo("cat-demo/cm-4");
  }

  @Test
  void negotiationFollowsTheClientsOrder() {
    String kubectl =
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
    assertThat(Negotiation.choose(kubectl).format()).isEqualTo(Negotiation.Format.TABLE);
    assertThat(Negotiation.choose(kubectl).tableVersion()).isEqualTo("v1");
    assertThat(Negotiation.choose(null).format()).isEqualTo(Negotiation.Format.JSON);
    assertThat(Negotiation.choose("application/json, */*").format())
        .isEqualTo(Negotiation.Format.JSON);
    assertThat(Negotiation.choose("application/yaml").format()).isEqualTo(Negotiation.Format.YAML);
    assertThat(Negotiation.choose("application/vnd.kubernetes.protobuf,application/json").format())
        .isEqualTo(Negotiation.Format.JSON);
    assertThat(Negotiation.choose("application/vnd.kubernetes.protobuf").format())
        .isEqualTo(Negotiation.Format.NONE);
    String aggregated =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    assertThat(Negotiation.choose(aggregated).format()).isEqualTo(Negotiation.Format.JSON);
    assertThat(Negotiation.acceptsJson(aggregated)).isTrue();
    assertThat(
            Negotiation.acceptsJson("application/com.github.proto-openapi.spec.v2@v1.0+protobuf"))
        .isFalse();
  }

  @Test
  void requestPathsResolveAsTheApiserverResolvesThem() {
    QueryParams none = QueryParams.parse("");
    RequestInfo get = RequestInfo.parse("GET", "/api/v1/namespaces/a/configmaps/c1", none);
    assertThat(get.verb()).isEqualTo("get");
    assertThat(get.namespace()).isEqualTo("a");
    assertThat(get.name()).isEqualTo("c1");
    assertThat(
            RequestInfo.parse(
                    "GET", "/api/v1/namespaces/a/configmaps", QueryParams.parse("watch=1"))
                .verb())
        .isEqualTo("watch");
    assertThat(RequestInfo.parse("DELETE", "/api/v1/namespaces/a/configmaps", none).verb())
        .isEqualTo("deletecollection");
    RequestInfo ns = RequestInfo.parse("GET", "/api/v1/namespaces/a", none);
    assertThat(ns.resource()).isEqualTo("namespaces");
    assertThat(ns.name()).isEqualTo("a");
    assertThat(ns.namespace()).isEmpty();
    RequestInfo nsStatus = RequestInfo.parse("PUT", "/api/v1/namespaces/a/status", none);
    assertThat(nsStatus.subresource()).isEqualTo("status");
    RequestInfo crd =
        RequestInfo.parse("GET", "/apis/example.io/v1/namespaces/x/widgets/w/status/", none);
    assertThat(crd.group()).isEqualTo("example.io");
    assertThat(crd.subresource()).isEqualTo("status");
    assertThat(crd.path()).isEqualTo("/apis/example.io/v1/namespaces/x/widgets/w/status");
    RequestInfo legacyWatch =
        RequestInfo.parse("GET", "/api/v1/watch/namespaces/a/configmaps/c1", none);
    assertThat(legacyWatch.verb()).isEqualTo("watch");
    assertThat(legacyWatch.name()).isEqualTo("c1");
    assertThat(RequestInfo.parse("GET", "/apis/apps/v1", none).resourceRequest()).isFalse();
    assertThat(RequestInfo.parse("GET", "/api", none).resourceRequest()).isFalse();
    assertThat(RequestInfo.parse("GET", "/api/v1/namespaces/a/configmaps/%63%31", none).name())
        .isEqualTo("c1");
  }
}
