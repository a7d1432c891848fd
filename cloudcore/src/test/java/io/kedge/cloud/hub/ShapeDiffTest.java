package io.kedge.cloud.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShapeDiffTest {
  static final String CSR =
      "{\"kind\":\"CertificateSigningRequest\",\"apiVersion\":\"certificates.k8s.io/v1\","
          + "\"metadata\":{\"name\":\"metaserver-csr-a\",\"uid\":\"u-1\",\"resourceVersion\":\"357\"},"
          + "\"status\":{\"certificate\":\"Q0VSVA==\"}}";

  @Test
  void valuesThatDifferByNatureAgreeAndExtraKeysAreAllowed() {
    String other =
        "{\"kind\":\"CertificateSigningRequest\",\"apiVersion\":\"certificates.k8s.io/v1\","
            + "\"metadata\":{\"name\":\"metaserver-csr-b\",\"uid\":\"u-2\",\"resourceVersion\":\"9\","
            + "\"labels\":{}},\"status\":{\"certificate\":\"T1RIRVI=\"}}";
    assertThat(ShapeDiff.of(Json.parse(CSR), Json.parse(other))).isEmpty();
  }

  @Test
  void aWrappedObjectIsNotTheBareOne() {
    String wrapped = "{\"Object\":" + CSR + ",\"Err\":null}";
    assertThat(ShapeDiff.of(Json.parse(CSR), Json.parse(wrapped)))
        .contains("$.kind: missing (recorded string)", "$.metadata: missing (recorded object)");
  }

  @Test
  void typesMissingKeysAndExactValues() {
    assertThat(
            ShapeDiff.of(
                Json.parse("{\"Object\":{},\"Err\":null}"),
                Json.parse("{\"Object\":{},\"Err\":{\"ErrStatus\":{\"code\":403}}}")))
        .containsExactly("$.Err: object, recorded null null");
    assertThat(
            ShapeDiff.of(
                Json.parse("{\"ErrStatus\":{\"code\":404,\"reason\":\"NotFound\"}}"),
                Json.parse("{\"ErrStatus\":{\"code\":403,\"reason\":\"Forbidden\"}}")))
        .containsExactly(
            "$.ErrStatus.code: 403, recorded 404",
            "$.ErrStatus.reason: \"Forbidden\", recorded \"NotFound\"");
    assertThat(ShapeDiff.of(Json.parse("{\"items\":[{\"a\":1}]}"), Json.parse("{\"items\":[]}")))
        .containsExactly("$.items: empty, recorded 1 elements");
    // managedFields: written by another client library, compared as an array only
    assertThat(
            ShapeDiff.of(
                Json.parse("{\"managedFields\":[{\"manager\":\"cloudcore\"}]}"),
                Json.parse("{\"managedFields\":[{\"x\":1}]}")))
        .isEmpty();
  }

  @Test
  void arrayElementsMayComeInAnyOrderButEachNeedsACounterpart() {
    String recorded = "{\"c\":[{\"type\":\"Ready\",\"reason\":\"A\"},{\"x\":1}]}";
    assertThat(
            ShapeDiff.of(
                Json.parse(recorded),
                Json.parse("{\"c\":[{\"x\":2},{\"y\":0},{\"type\":\"Ready\",\"reason\":\"A\"}]}")))
        .isEmpty();
    assertThat(
            ShapeDiff.of(
                Json.parse(recorded),
                Json.parse("{\"c\":[{\"type\":\"Ready\",\"reason\":\"B\"},{\"x\":2}]}")))
        .containsExactly("$.c[0].reason: \"B\", recorded \"A\"");
  }

  @Test
  void toleratedDifferencesAreHandedBackApart() {
    List<String> tolerated = new ArrayList<>();
    assertThat(
            ShapeDiff.of(
                Json.parse("{\"a\":[{\"labels\":{},\"n\":\"x\"}],\"b\":1}"),
                Json.parse("{\"a\":[{\"n\":\"y\"}],\"b\":\"1\"}"),
                d -> d.contains("labels"),
                tolerated))
        .containsExactly("$.b: string, recorded number 1");
    assertThat(tolerated).containsExactly("$.a[0].labels: missing (recorded object)");
  }

  @Test
  void applicationBodiesAreComparedDecoded() {
    String list = "{\"kind\":\"ConfigMapList\",\"items\":[{\"kind\":\"ConfigMap\"}]}";
    String status = "{\"kind\":\"Status\",\"code\":403}";
    assertThat(
            ShapeDiff.of(
                Json.parse("{\"Status\":\"Approved\",\"RespBody\":\"" + b64(list) + "\"}"),
                Json.parse("{\"Status\":\"Rejected\",\"RespBody\":\"" + b64(status) + "\"}")))
        .containsExactly(
            "$.Status: \"Rejected\", recorded \"Approved\"",
            "$.RespBody(base64).kind: \"Status\", recorded \"ConfigMapList\"",
            "$.RespBody(base64).items: missing (recorded array)");
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
