package io.kedge.edge.metaserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.auth.Authenticator;
import io.kedge.edge.auth.Authorizer;
import io.kedge.edge.edged.PodLogs;
import io.kedge.edge.metamanager.ScriptedCloudLink;
import io.kedge.edge.store.ResourceCatalog;
import io.kedge.edge.store.SqliteStore;
import io.kedge.edge.store.StoreSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pods/{name}/log} is answered on the edge from Edged's logs, online or not. */
class PodLogRouteTest {
  @TempDir Path dir;
  SqliteStore store;
  MetaServer server;
  final List<PodLogs.LogOptions> asked = new CopyOnWriteArrayList<>();

  @BeforeEach
  void open() {
    store = SqliteStore.open(StoreSettings.defaults(dir.resolve("edge.db")).withFsync(false));
    ScriptedCloudLink link =
        new ScriptedCloudLink(m -> CompletableFuture.failedFuture(new IllegalStateException()));
    link.setConnected(false);
    PodLogs logs =
        (ns, pod, options) -> {
          asked.add(options);
          if (!pod.equals("web")) {
            throw new PodLogs.PodLogException(404, "NotFound", "pods \"" + pod + "\" not found");
          }
          if (!options.container().isEmpty() && !options.container().equals("c")) {
            throw new PodLogs.PodLogException(
                400,
                "BadRequest",
                "container " + options.container() + " is not valid for pod web");
          }
          return new PodLogs.LogStream() {
            @Override
            public byte[] readAvailable() {
              return ("hello from " + ns + "/" + pod + "\n").getBytes(StandardCharsets.UTF_8);
            }

            @Override
            public boolean finished() {
              return true;
            }
          };
        };
    server =
        new MetaServer(
            MetaServerSettings.defaults("edge-1").withPort(0),
            store,
            new ResourceCatalog(store),
            link,
            header -> Authenticator.Authentication.anonymous(),
            attributes -> Authorizer.Decision.ALLOW,
            ServerTls.plain(),
            logs);
  }

  @AfterEach
  void close() {
    server.close();
    store.close();
  }

  @Test
  void logsArePlainTextAndErrorsAreStatuses() {
    ApiHandlerTest.Answer ok =
        ApiHandlerTest.exchange(
            server,
            ApiHandlerTest.get(
                "/api/v1/namespaces/a/pods/web/log?container=c&tailLines=5&previous=true"));
    assertThat(ok.code()).isEqualTo(200);
    assertThat(ok.headers().get("content-type")).startsWith("text/plain");
    assertThat(ok.body()).isEqualTo("hello from a/web\n");
    assertThat(asked.get(0)).isEqualTo(new PodLogs.LogOptions("c", true, 5, -1, false));

    ApiHandlerTest.Answer missing =
        ApiHandlerTest.exchange(server, ApiHandlerTest.get("/api/v1/namespaces/a/pods/gone/log"));
    assertThat(missing.code()).isEqualTo(404);
    assertThat(missing.json().path("reason").asString()).isEqualTo("NotFound");

    ApiHandlerTest.Answer bad =
        ApiHandlerTest.exchange(
            server, ApiHandlerTest.get("/api/v1/namespaces/a/pods/web/log?container=x"));
    assertThat(bad.code()).isEqualTo(400);
    assertThat(bad.json().path("message").asString())
        .isEqualTo("container x is not valid for pod web");
  }
}
