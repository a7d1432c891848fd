package io.kedge.edge.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.store.Gvr;
import io.kedge.edge.store.ObjectChange;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import io.kedge.protocol.Json;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/** Authentication and authorization over what the edge store holds, as MetaServer uses them. */
class StoreBoundObjectsTest {
  @TempDir Path dir;
  SqliteStore store;
  SyncedAccessPolicies policies;

  @BeforeEach
  void open() {
    store = SqliteStore.open(StoreSettings.defaults(dir.resolve("edge.db")));
    policies = new SyncedAccessPolicies(store);
  }

  @AfterEach
  void close() {
    store.close();
  }

  void put(Gvr gvr, String kind, String json) {
    store.apply(ObjectChange.upsert(gvr, kind, Json.parse(json))).join();
  }

  static String pod(String name, String uid, String node, String sa, int rv) {
    return "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\""
        + name
        + "\",\"namespace\":\"demo\",\"uid\":\""
        + uid
        + "\",\"resourceVersion\":\""
        + rv
        + "\"},\"spec\":{\"nodeName\":\""
        + node
        + "\",\"serviceAccountName\":\""
        + sa
        + "\"}}";
  }

  @Test
  void bindingsAndPoliciesComeFromTheStoreAndFollowItsChanges() {
    put(Gvr.core("pods"), "Pod", pod("p1", "pod-uid", "edge-1", "reader", 1));
    put(Gvr.core("pods"), "Pod", pod("elsewhere", "x", "edge-2", "reader", 2));
    ObjectNode saa = (ObjectNode) Json.parse(RbacAuthorizerTest.SAA);
    ((ObjectNode) saa.get("spec")).put("serviceAccountUid", "sa-uid");
    ((ObjectNode) saa.get("metadata")).put("uid", "saa-uid");
    put(SyncedAccessPolicies.GVR, "ServiceAccountAccess", Json.string(saa));

    StoreBoundObjects objects = new StoreBoundObjects(store, policies, "edge-1");
    assertThat(objects.pod("demo", "p1")).contains(new BoundObjects.Pod("pod-uid", "reader"));
    assertThat(objects.pod("demo", "elsewhere")).isEmpty();
    assertThat(objects.pod("demo", "none")).isEmpty();
    assertThat(objects.serviceAccountUid("demo", "reader")).contains("sa-uid");
    assertThat(objects.serviceAccountUid("demo", "other")).isEmpty();

    var keys = VerificationKeys.of(TokenVerifierTest.jwks());
    var auth =
        new TokenAuthenticator(
            new TokenVerifier(List.of(TestTokens.ISSUER), List.of(), keys),
            keys,
            objects,
            t -> false);
    var authz = Authorizer.union(new DiscoveryPaths(), new RbacAuthorizer(policies));
    var who =
        auth.authenticate(
            "Bearer "
                + TestTokens.sign(
                    TestTokens.claims("demo", "reader", "sa-uid", "p1", "pod-uid"),
                    TokenVerifierTest.RSA,
                    "rsa-1"));
    assertThat(who.ok()).as(who.failure()).isTrue();
    var list =
        RequestAttributesResolver.resolve(
            who.user(), "GET", "/api/v1/namespaces/demo/configmaps", "");
    assertThat(authz.authorize(list).allowed()).isTrue();

    // the binding is removed at the cloud: the next decision follows the store
    ((ObjectNode) saa.get("spec")).putArray("accessRoleBinding");
    ((ObjectNode) saa.get("metadata")).put("resourceVersion", "8");
    put(SyncedAccessPolicies.GVR, "ServiceAccountAccess", Json.string(saa));
    assertThat(authz.authorize(list).allowed()).isFalse();

    // the pod is recreated under the same name: the new UID counts at once
    put(Gvr.core("pods"), "Pod", pod("p1", "new-uid", "edge-1", "reader", 9));
    assertThat(objects.pod("demo", "p1")).contains(new BoundObjects.Pod("new-uid", "reader"));
    put(Gvr.core("pods"), "Pod", pod("p1", "pod-uid", "edge-1", "reader", 10));
    assertThat(objects.pod("demo", "p1")).contains(new BoundObjects.Pod("pod-uid", "reader"));

    // the pod goes away: its token no longer authenticates
    store.apply(ObjectChange.delete(Gvr.core("pods"), "Pod", null, "demo", "p1")).join();
    assertThat(
            auth.authenticate(
                    "Bearer "
                        + TestTokens.sign(
                            TestTokens.claims("demo", "reader", "sa-uid", "p1", "pod-uid"),
                            TokenVerifierTest.RSA,
                            "rsa-1"))
                .ok())
        .isFalse();
  }
}
