package io.kedge.edge.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.GoldenTrace;
import io.kedge.edge.SettableClock;
import io.kedge.edge.metamanager.CloudQueries;
import io.kedge.edge.metamanager.MetaManager;
import io.kedge.edge.metamanager.ScriptedCloudLink;
import io.kedge.edge.store.ObjectStore;
import io.kedge.edge.store.ResourceCatalog;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import io.kedge.pki.Pem;
import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageHeader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Pod tokens at an edge whose cloud is KubeEdge's, from the recorded session: the pod (seq 1074),
 * its ServiceAccountAccess (1089) and the token the cloud issued for it (1103 → 1104). KubeEdge's
 * cloud does not answer {@code k8s/jwks}; the edge then accepts exactly the tokens it obtained for
 * its pods (the recorded token, whose signing key is gone with its cluster, so no signature could
 * be checked anyway), or, with {@code serviceAccountKeyFiles}, tokens those keys verify (a test key
 * stands in for the cluster's).
 */
class KubeEdgeTokenAuthTest {
  static final GoldenTrace TRACE = GoldenTrace.load();

  @TempDir Path dir;
  ObjectStore store;
  final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  final AtomicReference<Instant> now = new AtomicReference<>();
  ScriptedCloudLink cloud;
  String recordedToken;

  @BeforeEach
  void recordedObjects() throws Exception {
    store = SqliteStore.open(StoreSettings.defaults(dir.resolve("edge.db")));
    MetaManager mm = new MetaManager(store, new ResourceCatalog(store));
    mm.handle(TRACE.message(1074)).toCompletableFuture().get(30, TimeUnit.SECONDS);
    mm.handle(TRACE.message(1089)).toCompletableFuture().get(30, TimeUnit.SECONDS);
    cloud =
        new ScriptedCloudLink(
            m -> {
              if (m.resource().equals(TRACE.message(1103).resource())) {
                Message r = TRACE.message(1104);
                return CompletableFuture.completedFuture(
                    r.withHeader(MessageHeader.replyTo(m.id())));
              }
              // KubeEdge's cloud logs "resource type: jwks unsupported" and never answers
              return CompletableFuture.failedFuture(new TimeoutException("no answer"));
            });
    CloudQueries queries = new CloudQueries(cloud, store, Duration.ofSeconds(5));
    JsonNode request = GoldenTrace.content(TRACE.message(1103).content());
    JsonNode tr = queries.serviceAccountToken("demo", "app", request).get(30, TimeUnit.SECONDS);
    recordedToken = tr.path("status").path("token").asString();
    assertThat(recordedToken).isNotEmpty();
    JsonNode claims = claims(recordedToken);
    now.set(Instant.ofEpochSecond(claims.path("iat").asLong()).plusSeconds(60));
  }

  @AfterEach
  void close() throws Exception {
    timer.shutdownNow();
    store.close();
  }

  TokenAuthenticator authenticator(IssuerKeyCache keys, CloudQueries queries) {
    return new TokenAuthenticator(
        new TokenVerifier(
            List.of("https://kubernetes.default.svc.cluster.local"),
            List.of(),
            keys,
            TokenVerifier.DEFAULT_LEEWAY,
            new SettableClock(now)),
        keys,
        new StoreBoundObjects(store, new SyncedAccessPolicies(store), "edge-node-1"),
        token -> queries.issuedServiceAccountToken(token, now.get()));
  }

  IssuerKeyCache keys(List<String> keyFiles) {
    return new IssuerKeyCache(
        cloud,
        dir.resolve("pki"),
        keyFiles,
        Duration.ofSeconds(1),
        Duration.ofHours(1),
        timer,
        new SettableClock(now));
  }

  @Test
  void withoutIssuerKeysTheTokenObtainedForThePodIsAcceptedAndNoOther() {
    IssuerKeyCache keys = keys(List.of());
    keys.connected(); // asks the cloud for k8s/jwks, which gets no answer
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> keys.method().contains("did not answer k8s/jwks"));
    assertThat(keys.method()).startsWith("by equality with the tokens this node obtained");
    TokenAuthenticator auth =
        authenticator(keys, new CloudQueries(cloud, store, Duration.ofSeconds(5)));

    var ok = auth.authenticate("Bearer " + recordedToken);
    assertThat(ok.ok()).as(ok.failure()).isTrue();
    assertThat(ok.user().name()).isEqualTo("system:serviceaccount:demo:app");
    assertThat(ok.user().extra().get(UserInfo.EXTRA_POD_NAME)).containsExactly("golden");

    // the same claims with another signature: not a token this node obtained
    String forged = recordedToken.substring(0, recordedToken.lastIndexOf('.') + 1) + "AAAA";
    var refused = auth.authenticate("Bearer " + forged);
    assertThat(refused.ok()).isFalse();
    assertThat(refused.failure()).contains("not a token this node obtained");

    // past its expiry the obtained token is no longer accepted either
    now.set(Instant.ofEpochSecond(claims(recordedToken).path("exp").asLong()).plusSeconds(120));
    assertThat(auth.authenticate("Bearer " + recordedToken).ok()).isFalse();
  }

  @Test
  void withServiceAccountKeyFilesTokensAreVerifiedByThoseKeys() throws Exception {
    Path pub = dir.resolve("sa.pub");
    Files.writeString(pub, Pem.encode(TokenVerifierTest.RSA.getPublic()));
    IssuerKeyCache keys = keys(List.of(pub.toString()));
    assertThat(keys.method()).isEqualTo("by signature, with the 1 keys of serviceAccountKeyFiles");
    TokenAuthenticator auth =
        authenticator(keys, new CloudQueries(cloud, store, Duration.ofSeconds(5)));

    // the recorded token's key is not among them: refused, although this node obtained it
    assertThat(auth.authenticate("Bearer " + recordedToken).ok()).isFalse();
    // the same claims signed with the configured key: accepted
    String resigned =
        TestTokens.sign((ObjectNode) claims(recordedToken), TokenVerifierTest.RSA, "k1");
    var ok = auth.authenticate("Bearer " + resigned);
    assertThat(ok.ok()).as(ok.failure()).isTrue();
    assertThat(ok.user().name()).isEqualTo("system:serviceaccount:demo:app");
  }

  static JsonNode claims(String token) {
    return Json.parse(
        new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]), StandardCharsets.UTF_8));
  }
}
