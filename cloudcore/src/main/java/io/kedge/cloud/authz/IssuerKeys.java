package io.kedge.cloud.authz;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kedge.cloud.hub.EdgeMessenger;
import io.kedge.cloud.hub.UpstreamHandler;
import io.kedge.protocol.message.Message;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.StringNode;

/**
 * The service-account issuer's public keys ({@code /openid/v1/jwks}, read as cloudcore) for edges,
 * which verify pod tokens with them offline. Edges ask with a {@code query} of resource {@link
 * #RESOURCE}; the reply (operation {@code response}) carries the JWKS document as a string, or an
 * empty string when the apiserver does not serve it (then edges accept only tokens they obtained
 * themselves). The document is cached for {@code maxAge}.
 */
public final class IssuerKeys implements UpstreamHandler {
  private static final Logger LOG = LoggerFactory.getLogger(IssuerKeys.class);

  /** Resource of the edge's query, in the style of {@code k8s/ca.crt}. */
  public static final String RESOURCE = "k8s/jwks";

  public static final String PATH = "/openid/v1/jwks";

  private final KubernetesClient client;
  private final EdgeMessenger messenger;
  private final ExecutorService executor;
  private final Duration maxAge;
  private final Clock clock;
  private String cached;
  private Instant fetched = Instant.MIN;

  public IssuerKeys(
      KubernetesClient client,
      EdgeMessenger messenger,
      ExecutorService executor,
      Duration maxAge,
      Clock clock) {
    this.client = client;
    this.messenger = messenger;
    this.executor = executor;
    this.maxAge = maxAge;
    this.clock = clock;
  }

  @Override
  public void handle(String node, Message m) {
    executor.execute(() -> messenger.send(node, m.reply(StringNode.valueOf(jwks()))));
  }

  /** The JWKS document, or empty when unavailable. */
  public synchronized String jwks() {
    Instant now = clock.instant();
    if (cached != null && fetched.plus(maxAge).isAfter(now)) {
      return cached;
    }
    try {
      String url = client.getMasterUrl().toString();
      String doc =
          client.raw((url.endsWith("/") ? url.substring(0, url.length() - 1) : url) + PATH);
      if (doc == null) {
        LOG.warn("the apiserver serves no {}; edges can only accept tokens they obtained", PATH);
        return cached == null ? "" : cached;
      }
      cached = doc;
      fetched = now;
      return doc;
    } catch (KubernetesClientException e) {
      LOG.warn("cannot read {}: {}", PATH, e.getMessage());
      return cached == null ? "" : cached;
    }
  }
}
