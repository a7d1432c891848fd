package io.kedge.edge.metaserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.edge.auth.Authenticator;
import io.kedge.edge.auth.UserInfo;
import io.kedge.protocol.application.Application;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cloud keeps a scope current with the token of the pod that reads it. */
class SubscriptionTokenTest {
  @TempDir Path dir;
  MetaServerRig rig;

  @AfterEach
  void stop() {
    rig.close();
  }

  @Test
  void theScopesWatchAndListCarryTheReadersToken() throws Exception {
    rig =
        new MetaServerRig(
            dir,
            MetaServerSettings.defaults("edge-1")
                .withPort(0)
                .withBookmarkInterval(Duration.ofMillis(300)),
            header ->
                header != null && header.startsWith("Bearer ")
                    ? new Authenticator.Authentication(
                        UserInfo.anonymous(), header.substring(7), null, "")
                    : Authenticator.Authentication.anonymous());
    rig.cloud.put("a", "one", "k", "v");
    var r =
        rig.get(
            "/api/v1/namespaces/a/configmaps?resourceVersion=0",
            "Authorization",
            "Bearer tok-reader");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"one\"");
    List<Application> scope =
        rig.cloud.applications.stream()
            .filter(a -> a.kedge().path().equals("/api/v1/namespaces/a/configmaps"))
            .toList();
    assertThat(scope)
        .as("the watch registration and the list")
        .anyMatch(a -> a.kedge().query().contains("watch=true"))
        .anyMatch(a -> a.kedge().query().contains("limit="))
        .allMatch(a -> a.kedge().token().equals("tok-reader"));
  }
}
