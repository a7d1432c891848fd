package io.kedge.cloud.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.pki.CertSpec;
import io.kedge.pki.CertificateAuthority;
import io.kedge.pki.KeyPairs;
import io.kedge.protocol.config.CloudCoreConfig;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.util.ReferenceCountUtil;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The upgrade checks and the session pipeline, driven without sockets. */
class HubHandshakeHandlerTest {
  private final CertificateAuthority ca =
      CertificateAuthority.create("KubeEdge", KeyPairs.ecP256(), Duration.ofDays(10));
  private final List<Message> routed = new ArrayList<>();

  private CloudHub hub(String... sets) {
    KeyPair k = KeyPairs.ecP256();
    X509Certificate server =
        ca.issue(
            CertSpec.server("KubeEdge", List.of("127.0.0.1"), List.of(), Duration.ofDays(1)),
            k.getPublic());
    CloudHub hub =
        new CloudHub(
            CloudCoreConfig.load(null, List.of(sets)).config().modules().cloudHub(),
            new HubTls(ca, server, k.getPrivate()),
            () -> "",
            AckListener.NONE);
    hub.routeTo((node, m) -> routed.add(m), null);
    return hub;
  }

  private X509Certificate clientCert(String cn) {
    return ca.issue(
        CertSpec.client(cn, List.of("system:nodes"), Duration.ofDays(1)),
        KeyPairs.ecP256().getPublic());
  }

  private EmbeddedChannel channel(CloudHub hub, X509Certificate peer) {
    return new EmbeddedChannel(
        new HttpServerCodec(),
        new HttpObjectAggregator(8192),
        new HubHandshakeHandler(hub, ctx -> Optional.ofNullable(peer)));
  }

  private static FullHttpRequest upgrade(String node, String use) {
    FullHttpRequest r =
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1, HttpMethod.GET, "/project/" + node + "/events");
    r.headers().set("Host", "127.0.0.1:10000");
    r.headers().set("Upgrade", "websocket");
    r.headers().set("Connection", "Upgrade");
    r.headers().set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
    r.headers().set("Sec-WebSocket-Version", "13");
    if (node != null) {
      r.headers().set("Node_id", node); // Go's canonical spelling: headers are case-insensitive
    }
    if (use != null) {
      r.headers().set("Connectionuse", use);
    }
    return r;
  }

  /** Writes the request as bytes and decodes the server's HTTP answer. */
  private static FullHttpResponse exchange(EmbeddedChannel ch, FullHttpRequest req) {
    EmbeddedChannel client =
        new EmbeddedChannel(new HttpClientCodec(), new HttpObjectAggregator(8192));
    client.writeOutbound(req);
    ByteBuf bytes;
    while ((bytes = client.readOutbound()) != null) {
      ch.writeInbound(bytes);
    }
    Object out;
    while ((out = ch.readOutbound()) != null) {
      client.writeInbound(out);
    }
    FullHttpResponse resp = client.readInbound();
    client.finishAndReleaseAll();
    return resp;
  }

  private static int status(EmbeddedChannel ch, FullHttpRequest req) {
    FullHttpResponse r = exchange(ch, req);
    try {
      return r.status().code();
    } finally {
      ReferenceCountUtil.release(r);
    }
  }

  @Test
  void refusesWithoutNodeIdConnectionUseOrMatchingCertificate() {
    CloudHub hub = hub();
    EmbeddedChannel a = channel(hub, clientCert("system:node:edge-1"));
    assertThat(status(a, upgrade(null, "msg"))).isEqualTo(400);
    assertThat(a.isOpen()).isFalse();
    EmbeddedChannel b = channel(hub, clientCert("system:node:edge-1"));
    assertThat(status(b, upgrade("edge-1", null))).isEqualTo(400);
    EmbeddedChannel c = channel(hub, clientCert("system:node:edge-1"));
    assertThat(status(c, upgrade("edge-1", "str"))).isEqualTo(400);
    EmbeddedChannel d = channel(hub, clientCert("system:node:edge-2"));
    assertThat(status(d, upgrade("edge-1", "msg"))).isEqualTo(403);
    EmbeddedChannel e = channel(hub, null);
    assertThat(status(e, upgrade("edge-1", "msg"))).isEqualTo(403);
    assertThat(hub.sessionCount()).isZero();
    for (EmbeddedChannel ch : List.of(a, b, c, d, e)) {
      ch.finishAndReleaseAll();
    }
  }

  @Test
  void upgradesAndRoutesMessages() {
    CloudHub hub = hub();
    EmbeddedChannel ch = channel(hub, clientCert("system:node:edge-1"));
    assertThat(status(ch, upgrade("edge-1", "msg"))).isEqualTo(101);
    assertThat(hub.isConnected("edge-1")).isTrue();
    assertThat(ch.pipeline().get(EdgeConnectionHandler.class)).isNotNull();
    Message q = io.kedge.testkit.edge.SimulatedEdge.query("default/secret/s");
    EmbeddedChannel masker = new EmbeddedChannel(new WebSocket13FrameEncoder(true));
    masker.writeOutbound(new TextWebSocketFrame(Unpooled.wrappedBuffer(MessageCodec.encode(q))));
    ByteBuf frame = masker.readOutbound();
    ch.writeInbound(frame);
    assertThat(routed).extracting(Message::id).containsExactly(q.id());
    ch.close();
    ch.runPendingTasks();
    assertThat(hub.isConnected("edge-1")).isFalse();
    ch.finishAndReleaseAll();
    masker.finishAndReleaseAll();
  }

  @Test
  void nodeLimitAnswers503() {
    CloudHub hub = hub("modules.cloudHub.nodeLimit=1");
    EmbeddedChannel first = channel(hub, clientCert("system:node:edge-1"));
    assertThat(status(first, upgrade("edge-1", "msg"))).isEqualTo(101);
    EmbeddedChannel second = channel(hub, clientCert("system:node:edge-2"));
    assertThat(status(second, upgrade("edge-2", "msg"))).isEqualTo(503);
    first.finishAndReleaseAll();
    second.finishAndReleaseAll();
  }
}
