package io.kedge.cloud.hub;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps Secret {@code kubeedge/tokensecret} ({@code tokendata}) holding a join token valid for
 * twice {@code tokenRefreshDuration}, renewed every {@code tokenRefreshDuration} (as KubeEdge does;
 * keadm gettoken reads it there).
 */
public final class JoinTokenRefresher {
  private static final Logger LOG = LoggerFactory.getLogger(JoinTokenRefresher.class);

  public static final String SECRET = "tokensecret";
  public static final String KEY = "tokendata";
  private static final Duration RETRY = Duration.ofMinutes(1);

  private final HubTls tls;
  private final KubernetesClient client;
  private final Duration refresh;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;

  public JoinTokenRefresher(
      HubTls tls,
      KubernetesClient client,
      Duration refresh,
      ScheduledExecutorService scheduler,
      Clock clock) {
    this.tls = tls;
    this.client = client;
    this.refresh = refresh;
    this.scheduler = scheduler;
    this.clock = clock;
  }

  /** Writes a token now and schedules the renewals. */
  public void start() {
    run();
  }

  private void run() {
    Duration next = refresh;
    try {
      String token =
          JoinToken.create(
              tls.ca().certificate(),
              HubPki.sec1(tls.ca().privateKey()),
              clock.instant(),
              refresh.multipliedBy(2));
      HubPki.save(client, SECRET, Map.of(KEY, token.getBytes(StandardCharsets.US_ASCII)));
      LOG.info(
          "cloudhub: join token written to Secret {}/{} (valid {} h)",
          HubPki.NAMESPACE,
          SECRET,
          refresh.multipliedBy(2).toHours());
    } catch (RuntimeException e) {
      next = RETRY;
      LOG.warn(
          "cloudhub: cannot write the join token (retry in {} s): {}",
          RETRY.toSeconds(),
          e.toString());
    }
    try {
      scheduler.schedule(this::run, next.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RuntimeException shutdown) {
      // cloudcore is stopping
    }
  }
}
